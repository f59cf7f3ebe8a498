//! The session task: the one owner of the [`SessionManager`] while the TUI runs.
//!
//! It receives [`SessionJob`]s over a channel and applies them strictly in order, so an
//! answer is never written before the question it answers. It replies with [`AppEvent`]s.
//! The request to the model is built here, right after the user message is persisted, from
//! the manager's own events: the screen never holds a second copy of the conversation that
//! could drift from what is stored.
//!
//! Between jobs it watches the session for writes by other processes, about once a second:
//! one small read of the session's change marker, and a load only when it moved. What it
//! finds goes to the screen as [`AppEvent::LiveUpdate`].
//!
//! When the job channel closes (the screen is leaving), the task writes anything still
//! pending and returns the session id and whether the session was stored; `run` awaits it.

use cairn_core::manager::SeenTree;
use cairn_core::paths::expand_home;
use cairn_core::private_file::{Overwrite, write_private};
use cairn_core::service::{WorkspaceFilter, lasting_short_id, unique_short_id};
use cairn_core::transcript;
use cairn_core::{EventKind, SessionFilter, SessionId, SessionManager};
use std::path::PathBuf;

use cairn_core::lease::LeaseOutcome;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::app::{AppEvent, LiveUpdate, SessionJob, SessionView, TreeJob};
pub use saving::Unsaved;

/// How often the session is checked for writes by other processes.
const WATCH_MS: u64 = 1_000;

/// Sessions the picker lists at most.
const PICKER_LIMIT: u32 = 200;

/// What the task hands back when it ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTaskExit {
    pub session_id: SessionId,
    pub session_stored: bool,
    /// Events the store would not take before the end, if any.
    pub unsaved: Option<Unsaved>,
}

pub struct SessionTask {
    manager: SessionManager,
    context_window: u64,
    max_output_tokens: Option<u32>,
    replies: UnboundedSender<AppEvent>,
    /// The screen shows another terminal's turn in progress, so its end must be reported.
    showing_other_turn: bool,
    /// Messages stored by an older Cairn may still need indexing for search.
    indexing_old_messages: bool,
    /// The session's branch count as last read; see `tree`'s `refresh_branches`.
    branches: usize,
    /// A branch may have been added since `branches` was read.
    branches_stale: bool,
    /// The session as `/tree` last read it, so a branch picked there switches without
    /// reading every event again.
    seen_tree: Option<SeenTree>,
    /// The session whose title this process has asked the model to check (see `titling`).
    title_checked: Option<SessionId>,
    /// The last write failed: the store is unreachable or refusing, and events wait here.
    store_failing: bool,
    /// Where events the store never took are written when the chat ends (the state folder).
    unsaved_dir: Option<PathBuf>,
    /// The share of the context window the history may fill before a turn compacts it first.
    compact_at: f64,
}

/// Sessions the picker lists for a search, at most.
const SEARCH_RESULTS: u32 = 50;

/// The screen's view of the manager's session, which has `branches` branches.
pub async fn session_view(manager: &SessionManager, branches: usize) -> SessionView {
    let session = manager.session();
    SessionView {
        id: session.id,
        short_id: unique_short_id(manager.service().as_ref(), session.id).await,
        title: session.title.clone(),
        directory: manager.workspace().directory.clone(),
        display_directory: manager.workspace().display_directory(),
        stored: manager.is_stored(),
        model: session.model.clone(),
        branches,
    }
}

impl SessionTask {
    pub fn new(
        manager: SessionManager,
        context_window: u64,
        max_output_tokens: Option<u32>,
        replies: UnboundedSender<AppEvent>,
    ) -> Self {
        Self {
            manager,
            context_window,
            max_output_tokens,
            replies,
            showing_other_turn: false,
            indexing_old_messages: true,
            branches: 1,
            branches_stale: true,
            seen_tree: None,
            title_checked: None,
            store_failing: false,
            unsaved_dir: None,
            compact_at: cairn_core::compact::DEFAULT_COMPACT_AT,
        }
    }

    /// Compacts before a turn when the history fills more than `share` of the context window
    /// (`0`: never).
    pub fn compact_at(mut self, share: f64) -> Self {
        self.compact_at = share;
        self
    }

    /// Events the store has not taken when the chat ends go to a file in `dir`.
    pub fn keep_unsaved_in(mut self, dir: PathBuf) -> Self {
        self.unsaved_dir = Some(dir);
        self
    }

    pub fn spawn(self, jobs: UnboundedReceiver<SessionJob>) -> JoinHandle<SessionTaskExit> {
        tokio::spawn(self.run(jobs))
    }

    pub async fn run(mut self, mut jobs: UnboundedReceiver<SessionJob>) -> SessionTaskExit {
        let mut watch = tokio::time::interval(Duration::from_millis(WATCH_MS));
        watch.set_missed_tick_behavior(MissedTickBehavior::Delay);
        if self.manager.is_stored() {
            self.refresh_branches().await;
            if self.branches > 1 {
                self.reply(AppEvent::SessionChanged(self.view().await));
            }
        }
        loop {
            tokio::select! {
                job = jobs.recv() => match job {
                    Some(job) => self.apply(job).await,
                    None => break,
                },
                _ = watch.tick() => {
                    if self.store_failing {
                        self.persist().await;
                    }
                    self.watch().await;
                    if self.indexing_old_messages {
                        self.indexing_old_messages = self.index_old_messages().await;
                    }
                }
            }
        }
        let unsaved = self.save_before_leaving().await;
        SessionTaskExit {
            session_id: self.manager.session().id,
            session_stored: self.manager.is_stored(),
            unsaved,
        }
    }

    fn reply(&self, event: AppEvent) {
        // The screen may already be gone on exit; nothing is lost by not telling it.
        let _ = self.replies.send(event);
    }

    /// Looks for writes by other processes and tells the screen what changed.
    async fn watch(&mut self) {
        if self.manager.seen_lease_lapsed() {
            // Its holder stopped without a word: nothing in storage changes, so look again.
            self.manager.forget_seen_version();
        }
        let changes = match self.manager.refresh().await {
            Ok(Some(changes)) => changes,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(%error, "could not look for changes to the session");
                return;
            }
        };
        let other_turn = changes
            .other_turn
            .map(|turn| (turn.holder.describe(), turn.answer_so_far));
        let deleted = if changes.deleted {
            Some((self.view().await, self.manager.events().cloned().collect()))
        } else {
            None
        };
        if changes.appended.is_empty()
            && other_turn.is_none()
            && !self.showing_other_turn
            && !changes.archived_elsewhere
            && deleted.is_none()
        {
            return;
        }
        self.showing_other_turn = other_turn.is_some();
        let appended = !changes.appended.is_empty();
        self.reply(AppEvent::LiveUpdate(LiveUpdate {
            appended: changes.appended,
            other_turn,
            archived_elsewhere: changes.archived_elsewhere,
            deleted,
        }));
        if appended {
            self.reply(AppEvent::SessionChanged(self.view().await));
        }
    }

    /// Takes the session's turn lease before anything of a turn is written, so turns never
    /// interleave. `None` when this process holds it now; else who does. When storage cannot
    /// say, the turn goes ahead: losing a message would be worse than a rare interleaving.
    async fn other_holder(&mut self) -> Option<String> {
        match self.manager.acquire_turn().await {
            Ok(LeaseOutcome::Acquired) => {
                // The other terminal's last answer goes on screen before our question.
                self.watch().await;
                None
            }
            Ok(LeaseOutcome::HeldBy(lease)) => {
                // The next look at the session reports the other turn's end, even if nothing
                // else changed, so a queued message goes out.
                self.showing_other_turn = true;
                self.manager.forget_seen_version();
                Some(lease.holder.describe())
            }
            Err(error) => {
                tracing::warn!(%error, "could not take the turn lease");
                None
            }
        }
    }

    fn request_for(&self, turn: u64, model: &str) -> AppEvent {
        let request = self
            .manager
            .next_request(model, self.max_output_tokens, self.context_window);
        AppEvent::RequestReady { turn, request }
    }

    async fn apply(&mut self, job: SessionJob) {
        if !matches!(job, SessionJob::Tree(TreeJob::SwitchBranch(_))) {
            // Only a switch picked from `/tree` uses it; anything else may change the session.
            self.seen_tree = None;
        }
        match job {
            SessionJob::Tree(job) => self.apply_tree_job(job).await,
            SessionJob::Compact(job) => self.apply_compact_job(job).await,
            SessionJob::Picker(job) => self.apply_picker_job(job).await,
            SessionJob::SendUserMessage { turn, text, model } => {
                if let Some(holder) = self.other_holder().await {
                    // The screen queues the message until the other turn ends.
                    self.reply(AppEvent::TurnWaiting { turn, text, holder });
                    return;
                }
                self.manager.push(EventKind::UserMessage { text });
                self.persist().await;
                self.refresh_branches_if_stale().await;
                self.reply(AppEvent::SessionChanged(self.view().await));
                self.request_or_compact(turn, &model);
            }
            SessionJob::Retry { turn, model } => {
                if let Some(holder) = self.other_holder().await {
                    self.reply(AppEvent::TurnRejected {
                        turn,
                        reason: format!(
                            "Another terminal ({holder}) is answering in this session; /retry once it has finished."
                        ),
                    });
                    return;
                }
                let last_user = self
                    .manager
                    .events()
                    .filter(|event| matches!(event.kind, EventKind::UserMessage { .. }))
                    .map(|event| event.id)
                    .last();
                match last_user {
                    Some(id) if self.manager.branch_from(id) => {
                        self.branches_stale = true;
                        self.reply(self.request_for(turn, &model));
                    }
                    Some(_) | None => self.reply(AppEvent::TurnRejected {
                        turn,
                        reason: "There is no message to retry in this session.".to_owned(),
                    }),
                }
            }
            SessionJob::Record(kinds) => {
                let answered = kinds
                    .iter()
                    .any(|kind| matches!(kind, EventKind::AssistantMessage { .. }));
                for kind in kinds {
                    self.manager.push(kind);
                }
                self.persist().await;
                self.refresh_branches_if_stale().await;
                if self.manager.pending_count() == 0
                    && let Err(error) = self.manager.release_turn().await
                {
                    // It expires on its own within seconds.
                    tracing::warn!(%error, "could not release the turn lease");
                }
                self.reply(AppEvent::SessionChanged(self.view().await));
                if answered && self.manager.pending_count() == 0 {
                    self.ask_for_title().await;
                }
            }
            SessionJob::RecordStep(kinds) => {
                for kind in kinds {
                    self.manager.push(kind);
                }
                self.persist().await;
            }
            SessionJob::NextRequest { turn, model } => self.reply(self.request_for(turn, &model)),
            SessionJob::SetGeneratedTitle {
                session_id,
                title,
                source,
            } => {
                self.set_generated_title(session_id, &title, source).await;
            }
            SessionJob::Heartbeat {
                answer_so_far,
                model,
            } => match self.manager.heartbeat(&answer_so_far, &model).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!("the turn lease lapsed while answering"),
                Err(error) => tracing::warn!(%error, "could not save the answer's draft"),
            },
            SessionJob::NewSession => match self.manager.archive_and_reset().await {
                Ok(archived) => {
                    let archived = match archived {
                        Some(id) => {
                            Some(lasting_short_id(self.manager.service().as_ref(), id).await)
                        }
                        None => None,
                    };
                    self.reply(AppEvent::SessionReset {
                        archived,
                        view: self.view().await,
                        carried: Vec::new(),
                    });
                }
                Err(error) => self.reply(AppEvent::JobFailed {
                    what: "starting a new session".to_owned(),
                    error: error.to_string(),
                }),
            },
            SessionJob::Search {
                query,
                all_workspaces,
            } => {
                let result = self.search(&query, all_workspaces).await;
                self.reply(AppEvent::SearchResults {
                    query,
                    all_workspaces,
                    result,
                });
            }
            SessionJob::OpenAt {
                session_id,
                event_id,
            } => {
                self.persist().await;
                match self.manager.resume(session_id).await {
                    Ok(info) => {
                        let mut notes = vec![info.note()];
                        notes.extend(info.warnings.iter().cloned());
                        // A match on another branch: that branch is the one to read.
                        if !self.manager.events().any(|event| event.id == event_id) {
                            match self.manager.switch_branch(event_id).await {
                                Ok(_) => notes.push(
                                    "Switched to the branch where the match was said; /tree shows the others."
                                        .into(),
                                ),
                                Err(error) => notes.push(format!(
                                    "The match is on another branch, which could not be opened: {error}"
                                )),
                            }
                        }
                        self.refresh_branches().await;
                        self.reply(AppEvent::SessionLoaded {
                            view: self.view().await,
                            events: self.manager.events().cloned().collect(),
                            notes,
                        });
                        self.reply(AppEvent::Focus(event_id));
                    }
                    Err(error) => self.reply(AppEvent::JobFailed {
                        what: format!("opening session {}", session_id.short()),
                        error: error.to_string(),
                    }),
                }
            }
            SessionJob::Open(session_id) => match self.manager.resume(session_id).await {
                Ok(info) => {
                    self.refresh_branches().await;
                    // The screen shows the note on how long ago it was active already.
                    let mut notes: Vec<String> = info.recovered_note().into_iter().collect();
                    if info.was_archived {
                        notes.push("This session had been archived; it is active again.".into());
                    }
                    notes.extend(info.warnings.iter().cloned());
                    self.reply(AppEvent::SessionOpened {
                        view: self.view().await,
                        events: self.manager.events().cloned().collect(),
                        notes,
                    });
                }
                Err(error) => {
                    // A failed resume may have half-adopted the session: start clean.
                    self.manager.create_new();
                    self.reply(AppEvent::OpenFailed {
                        view: self.view().await,
                        error: error.to_string(),
                    });
                }
            },
            SessionJob::Resume(session_id) => {
                self.persist().await;
                match self.manager.resume(session_id).await {
                    Ok(info) => {
                        self.refresh_branches().await;
                        let mut notes = vec![info.note()];
                        if info.was_archived {
                            notes
                                .push("This session had been archived; it is active again.".into());
                        }
                        notes.extend(info.warnings.iter().cloned());
                        self.reply(AppEvent::SessionLoaded {
                            view: self.view().await,
                            events: self.manager.events().cloned().collect(),
                            notes,
                        });
                    }
                    Err(error) => self.reply(AppEvent::JobFailed {
                        what: format!("opening session {}", session_id.short()),
                        error: error.to_string(),
                    }),
                }
            }
            SessionJob::Rename(title) => match self.manager.rename(&title).await {
                Ok(()) => {
                    self.reply(AppEvent::SessionChanged(self.view().await));
                    self.reply(AppEvent::Renamed {
                        title: self.manager.session().title.clone(),
                    });
                }
                Err(error) => self.reply(AppEvent::JobFailed {
                    what: "renaming the session".to_owned(),
                    error: error.to_string(),
                }),
            },
            SessionJob::SetModel(model) => match self.manager.set_model(Some(model)).await {
                Ok(()) => self.reply(AppEvent::SessionChanged(self.view().await)),
                Err(error) => self.reply(AppEvent::JobFailed {
                    what: "keeping the model with the session".to_owned(),
                    error: error.to_string(),
                }),
            },
            SessionJob::ListSessions { all_workspaces } => {
                let workspace = self.manager.workspace();
                let filter = SessionFilter {
                    workspace: (!all_workspaces).then(|| WorkspaceFilter {
                        directory: workspace.directory.clone(),
                        git_root: workspace.git_root.clone(),
                        repository: workspace.repository.clone(),
                    }),
                    include_archived: true,
                    limit: Some(PICKER_LIMIT),
                };
                let result = self
                    .manager
                    .service()
                    .list_sessions(&filter)
                    .await
                    .map_err(|error| error.to_string());
                self.reply(AppEvent::SessionsListed {
                    all_workspaces,
                    result,
                });
            }
            SessionJob::Export { path, overwrite } => {
                let markdown =
                    transcript::to_markdown(self.manager.session(), self.manager.events());
                let path =
                    transcript::export_target(&expand_home(&path), self.manager.session().id, "md");
                let result = match write_export(path.clone(), markdown, overwrite).await {
                    Ok(()) => Ok(path),
                    Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                        Err(format!(
                            "{} already exists; /export! {} replaces it",
                            path.display(),
                            path.display()
                        ))
                    }
                    Err(error) => Err(format!("{}: {error}", path.display())),
                };
                self.reply(AppEvent::ExportWritten { result });
            }
        }
    }
}

mod compact;
#[cfg(test)]
mod compact_tests;
#[cfg(test)]
mod fixture;
mod picker;
#[cfg(test)]
mod picker_tests;
mod saving;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod title_tests;
mod titling;
mod tree;
#[cfg(test)]
mod tree_tests;

/// Writes the export off the async threads: a slow disk must not stall the task.
async fn write_export(
    path: PathBuf,
    markdown: String,
    overwrite: Overwrite,
) -> std::io::Result<()> {
    tokio::task::spawn_blocking(move || write_private(&path, markdown.as_bytes(), overwrite))
        .await
        .map_err(std::io::Error::other)?
}
