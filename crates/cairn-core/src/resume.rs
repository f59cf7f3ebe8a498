//! The resume policy: which session, if any, `cairn` continues on launch.
//!
//! A session is resumable when it is not archived, has at least one event that goes to the
//! model, belongs to this workspace and its last event is inside the window. Which workspace
//! match wins (the exact directory on this machine, then the same repository folder on any
//! machine, then the work tree on this machine, then the repository anywhere) is spelled out
//! on [`SessionService::find_resumable`](crate::SessionService::find_resumable). The storage
//! backend answers the query (it has the indexes); this type decides the window.

use crate::service::ResumeQuery;
use crate::workspace::Workspace;

pub const DEFAULT_CONTINUE_MINUTES: u32 = 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResumePolicy {
    /// How recent the last event must be; `0` turns auto-resume off.
    pub continue_minutes: u32,
}

impl Default for ResumePolicy {
    fn default() -> Self {
        Self {
            continue_minutes: DEFAULT_CONTINUE_MINUTES,
        }
    }
}

impl ResumePolicy {
    /// The query for an automatic resume at `now_ms`; `None` when auto-resume is off.
    pub fn auto_resume_query(&self, workspace: &Workspace, now_ms: i64) -> Option<ResumeQuery> {
        if self.continue_minutes == 0 {
            return None;
        }
        let window_ms = i64::from(self.continue_minutes) * 60_000;
        Some(ResumeQuery {
            directory: workspace.directory.clone(),
            git_root: workspace.git_root.clone(),
            location: workspace.location(),
            updated_since_ms: Some(now_ms - window_ms),
        })
    }

    /// The query for `--continue`: the same workspace rules, no time window.
    pub fn continue_query(workspace: &Workspace) -> ResumeQuery {
        ResumeQuery {
            directory: workspace.directory.clone(),
            git_root: workspace.git_root.clone(),
            location: workspace.location(),
            updated_since_ms: None,
        }
    }
}

/// "12 minutes ago", "just now", "3 hours ago", "2 days ago".
pub fn describe_age(age_ms: i64) -> String {
    let seconds = age_ms.max(0) / 1000;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        0..=44 => "just now".to_owned(),
        45..=3599 => plural(((seconds + 30) / 60).max(1), "minute"),
        3600..=86_399 => plural(seconds / 3600, "hour"),
        _ => plural(seconds / 86_400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(describe_age(3_000), "just now");
        assert_eq!(describe_age(60_000), "1 minute ago");
        assert_eq!(describe_age(12 * 60_000 + 10_000), "12 minutes ago");
        assert_eq!(describe_age(2 * 3_600_000), "2 hours ago");
        assert_eq!(describe_age(3 * 86_400_000), "3 days ago");
    }

    #[test]
    fn zero_minutes_disables_auto_resume() {
        let workspace = Workspace {
            directory: "/w".into(),
            git_root: None,
            git_branch: None,
            repository: None,
            host: "laptop".to_owned(),
        };
        assert_eq!(
            ResumePolicy {
                continue_minutes: 0
            }
            .auto_resume_query(&workspace, 1_000),
            None
        );
        let query = ResumePolicy::default()
            .auto_resume_query(&workspace, 10_000_000)
            .unwrap();
        assert_eq!(query.updated_since_ms, Some(10_000_000 - 3_600_000));
    }
}
