//! The session task's share of search: running the picker's searches, and indexing messages
//! an older Cairn stored, a little at a time between other work, so the chat never waits
//! for it.

use std::time::{Duration, Instant};

use cairn_core::search::{SearchHit, SearchQuery, SearchRequest};
use cairn_core::service::WorkspaceFilter;

use super::{SEARCH_RESULTS, SessionTask};

/// Events indexed per store call while catching up.
const INDEX_BATCH: usize = 1_000;
/// How long one watch tick may spend catching up.
const INDEX_TIME_PER_TICK: Duration = Duration::from_millis(40);

impl SessionTask {
    /// Sessions where `query` was said, best first, archived ones included (the picker
    /// shows those too).
    pub(super) async fn search(
        &self,
        query: &str,
        all_workspaces: bool,
    ) -> Result<Vec<SearchHit>, String> {
        let query = SearchQuery::parse(query).map_err(|error| error.to_string())?;
        let workspace = self.manager.workspace();
        let request = SearchRequest {
            query,
            workspace: (!all_workspaces).then(|| WorkspaceFilter {
                directory: workspace.directory.clone(),
                git_root: workspace.git_root.clone(),
                repository: workspace.repository.clone(),
            }),
            include_archived: true,
            limit: SEARCH_RESULTS,
        };
        self.manager
            .service()
            .search(&request)
            .await
            .map_err(|error| error.to_string())
    }

    /// Indexes old messages for a short while; `false` once there is nothing left (or the
    /// store cannot, which is logged: search then finds only newer messages).
    pub(super) async fn index_old_messages(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < INDEX_TIME_PER_TICK {
            match self.manager.service().index_for_search(INDEX_BATCH).await {
                Ok(progress) if progress.is_done() => return false,
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(%error, "could not index earlier messages for search");
                    return false;
                }
            }
        }
        true
    }
}
