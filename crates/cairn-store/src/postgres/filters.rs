//! The workspace filter as SQL, shared by the queries that list, count and search sessions;
//! its values come from [`crate::sqlite::rows::workspace_bindings`].

use cairn_core::service::WorkspaceFilter;

/// The condition on `sessions` for `workspace`, with the directory in parameter `$first` and
/// the git root in `$first + 1`. Both parameters appear in every form, so the server always
/// knows their types; `None` (every workspace) expects both NULL.
pub(super) fn workspace_condition(workspace: Option<&WorkspaceFilter>, first: u32) -> String {
    let (directory, git_root) = (first, first + 1);
    match workspace {
        Some(WorkspaceFilter {
            git_root: Some(_), ..
        }) => format!(
            "(sessions.directory_bytes = ${directory} OR sessions.git_root_bytes = ${git_root})"
        ),
        Some(WorkspaceFilter { git_root: None, .. }) => {
            format!("(sessions.directory_bytes = ${directory} AND ${git_root}::bytea IS NULL)")
        }
        None => format!("(${directory}::bytea IS NULL AND ${git_root}::bytea IS NULL)"),
    }
}
