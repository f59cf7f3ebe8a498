//! The session task's jobs on the conversation tree: the branch for the rewind list, the
//! tree for `/tree`, switching branches, forking, and branching at an earlier message. Each
//! goes through the `SessionManager`, the same code `cairn sessions switch`/`fork` and
//! `cairn run --at` use, so the model only ever receives the active branch.

use cairn_core::service::unique_short_id;

use super::SessionTask;
use crate::app::{AppEvent, SessionView, TreeJob};

impl SessionTask {
    pub(super) async fn view(&self) -> SessionView {
        super::session_view(&self.manager, self.branches).await
    }

    /// Reads the session's branch count (for the status line).
    pub(super) async fn refresh_branches(&mut self) {
        match self.manager.tree().await {
            Ok(tree) => {
                self.branches = tree.branch_count.max(1);
                self.branches_stale = false;
            }
            Err(error) => tracing::warn!(%error, "could not count the session's branches"),
        }
    }

    pub(super) async fn refresh_branches_if_stale(&mut self) {
        if self.branches_stale {
            self.refresh_branches().await;
        }
    }

    pub(super) async fn apply_tree_job(&mut self, job: TreeJob) {
        match job {
            TreeJob::ListBranch => {
                self.reply(AppEvent::BranchListed(Ok(self
                    .manager
                    .events()
                    .cloned()
                    .collect())));
            }
            TreeJob::LoadTree => {
                self.persist().await;
                let result = match self.manager.seen_tree().await {
                    Ok(Some(seen)) => {
                        self.branches = seen.tree.branch_count.max(1);
                        let tree = seen.tree.clone();
                        self.seen_tree = Some(seen);
                        Ok(tree)
                    }
                    Ok(None) => Ok(Default::default()),
                    Err(error) => Err(error.to_string()),
                };
                self.reply(AppEvent::TreeLoaded(result));
            }
            TreeJob::SwitchBranch(event) => {
                let seen = self.seen_tree.take();
                match self.manager.switch_branch_seen(seen, event).await {
                    Ok((_, branches)) => {
                        self.branches = branches.max(1);
                        self.branches_stale = false;
                        self.reply(AppEvent::SessionLoaded {
                            view: self.view().await,
                            events: self.manager.events().cloned().collect(),
                            notes: vec![format!(
                                "Switched to another branch of this session ({} branches; /tree shows them all).",
                                self.branches
                            )],
                        });
                    }
                    Err(error) => self.reply(AppEvent::JobFailed {
                        what: "switching branches".to_owned(),
                        error: error.to_string(),
                    }),
                }
            }
            TreeJob::Fork { at } => match self.manager.fork(at, None).await {
                Ok(original) => {
                    self.refresh_branches().await;
                    let short = unique_short_id(self.manager.service().as_ref(), original).await;
                    self.reply(AppEvent::SessionLoaded {
                        view: self.view().await,
                        events: self.manager.events().cloned().collect(),
                        notes: vec![format!(
                            "Forked into a new session, this one. The original is unchanged; `cairn -s {short}` opens it."
                        )],
                    });
                }
                Err(error) => self.reply(AppEvent::JobFailed {
                    what: "forking the session".to_owned(),
                    error: error.to_string(),
                }),
            },
            TreeJob::BranchAt(event) => {
                self.persist().await;
                match self.manager.branch_at(event).await {
                    Ok(()) => self.branches_stale = true,
                    Err(error) => self.reply(AppEvent::JobFailed {
                        what: "going back to the earlier message".to_owned(),
                        error: error.to_string(),
                    }),
                }
            }
        }
    }
}
