//! What the session-task tests share: a real SQLite store in a temporary folder, managers
//! on it with a manual clock, and waiting for the task's replies.

use std::sync::Arc;
use std::time::Duration;

use cairn_core::{EventKind, ManualClock, ResumePolicy, SessionManager, SessionService, Workspace};
use cairn_store::SqliteSessionService;
use tokio::sync::mpsc;

use crate::app::AppEvent;
use crate::test_support::NOW_MS;

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub(super) service: Arc<dyn SessionService>,
    pub(super) workspace: Workspace,
}

pub(super) async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        SqliteSessionService::open(&dir.path().join("s.db"))
            .await
            .unwrap(),
    );
    let workspace = Workspace {
        directory: dir.path().canonicalize().unwrap(),
        git_root: None,
        git_branch: None,
        repository: None,
        host: "here".to_owned(),
    };
    Fixture {
        _dir: dir,
        service,
        workspace,
    }
}

impl Fixture {
    pub(super) fn manager(&self) -> SessionManager {
        self.manager_at(NOW_MS)
    }

    /// A manager whose clock reads `now_ms`, as a later chat would.
    pub(super) fn manager_at(&self, now_ms: i64) -> SessionManager {
        SessionManager::new(
            self.service.clone(),
            Arc::new(ManualClock::new(now_ms)),
            self.workspace.clone(),
            ResumePolicy::default(),
        )
    }
}

/// A complete answer of model `m`.
pub(super) fn answer(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.into(),
        usage: None,
        interrupted: false,
        model: Some("m".into()),
    }
}

/// Replies until one `pick` recognises, failing the test if none comes soon.
pub(super) async fn wait_for<T>(
    events: &mut mpsc::UnboundedReceiver<AppEvent>,
    mut pick: impl FnMut(AppEvent) -> Option<T>,
) -> T {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .expect("a reply within a few seconds")
            .expect("the task is running");
        if let Some(found) = pick(event) {
            return found;
        }
    }
}
