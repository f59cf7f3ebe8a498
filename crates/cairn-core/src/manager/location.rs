//! Where the [`SessionManager`]'s session was last active. A session continued on another
//! machine moves there once something is written to it: its directory, work tree, host and
//! repository become this machine's, so the next launch here finds it by its exact directory
//! and listings elsewhere show where it went. Merely opening it moves nothing.

use super::SessionManager;
use crate::service::Result;

impl SessionManager {
    /// After a write: records this machine as where the session is active, when it was
    /// last active on another one (or before hosts were recorded).
    pub(super) async fn record_location_if_moved(&mut self) -> Result<()> {
        let here = self.workspace.location();
        let session = &self.session;
        if session.location.host == here.host {
            return Ok(());
        }
        let mut moved = session.clone();
        if session.location.host.is_none() && session.directory != self.workspace.directory {
            // A session from before hosts were recorded was this machine's all along, opened
            // from another folder (`cairn -s`): it keeps its folder and learns only the host.
            moved.location.host = here.host;
        } else {
            moved.directory = self.workspace.directory.clone();
            moved.git_root = self.workspace.git_root.clone();
            moved.location = here;
        }
        self.service.record_location(&moved).await?;
        self.session = moved;
        Ok(())
    }
}
