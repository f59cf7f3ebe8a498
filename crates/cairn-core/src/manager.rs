//! The [`SessionManager`]: the one owner of the current conversation.
//!
//! It holds the session's head branch in memory, gives every new event its id and parent at
//! creation, and persists exactly the events storage does not have yet. What is stored is
//! tracked by event id, never by a position in a list, so cancelling a turn, retrying an
//! answer or starting over can neither lose nor duplicate an event.
//!
//! A new session is written to storage only with its first event, so empty sessions never
//! linger. On resume the boundary event (telling the model a new invocation began) is held
//! back until something else is written, so merely opening Cairn does not keep a session
//! alive.

mod live;
mod location;
mod tree;
mod turns;

pub use live::{OtherTurn, SessionChanges};
pub use tree::{SeenTree, fork_session, switch_branch};
pub use turns::{RecoveredAnswer, TurnHeartbeat};

use std::collections::HashSet;
use std::sync::Arc;

use crate::clock::{Clock, utc_date};
use crate::event::{Event, EventKind};
use crate::ids::{EventId, InvocationId, SessionId};
use crate::provider::ModelRequest;
use crate::resume::{ResumePolicy, describe_age};
use crate::service::{LoadedSession, Result, ServiceError, SessionService, SessionVersion};
use crate::session::{Session, title_from_message};
use crate::title::TitleSource;
use crate::turn::build_request;
use crate::workspace::Workspace;

/// How many times a persist reloads and retries after another process moved the head. Each
/// conflict means the other writer made progress, so this only bounds a pathological race.
const MAX_CONFLICT_RETRIES: usize = 20;

/// What `start` and `resume` did, for the front end to tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartOutcome {
    /// A fresh session (not yet written).
    New,
    /// An existing session was loaded and a new invocation began in it.
    Resumed(ResumeInfo),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeInfo {
    pub session_id: SessionId,
    /// How long ago the session's last event was written.
    pub last_active_ms_ago: i64,
    /// Whether it was archived (and has now been un-archived).
    pub was_archived: bool,
    /// Answers that a Cairn which stopped mid-answer (killed, crashed) had streamed, now
    /// stored as interrupted assistant messages.
    pub recovered: Vec<RecoveredAnswer>,
    /// Warnings from loading (unknown event types from a newer Cairn, broken links).
    pub warnings: Vec<String>,
}

impl ResumeInfo {
    /// The note shown at the top of a resumed conversation.
    pub fn note(&self) -> String {
        let mut note = continuing_note(self.last_active_ms_ago);
        if let Some(line) = self.recovered_note() {
            note.push_str(". ");
            note.push_str(&line);
        }
        note
    }

    /// What was recovered from a Cairn that stopped mid-answer, if anything.
    pub fn recovered_note(&self) -> Option<String> {
        let chars: usize = self.recovered.iter().map(|answer| answer.chars).sum();
        match self.recovered.len() {
            0 => None,
            1 => Some(format!(
                "Recovered an answer that was interrupted when Cairn stopped ({chars} characters, marked interrupted)"
            )),
            count => Some(format!(
                "Recovered {count} answers that were interrupted when Cairn stopped ({chars} characters, marked interrupted)"
            )),
        }
    }
}

/// The first line of a resumed conversation's note: how long ago it was last active.
pub fn continuing_note(last_active_ms_ago: i64) -> String {
    format!(
        "Continuing previous session (last active {}) - /new starts a fresh one",
        describe_age(last_active_ms_ago)
    )
}

/// What a persist did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistOutcome {
    /// Events written.
    pub written: usize,
    /// Events another process had written to this session meanwhile; they are now part of
    /// the in-memory branch, before ours. Empty in the usual case.
    pub merged_from_elsewhere: Vec<Event>,
    /// Another process had archived the session; writing to it made it active again.
    pub unarchived: bool,
    /// Another process had deleted the session; the events that were not yet stored went
    /// into a fresh session (now the current one) instead.
    pub moved_after_deletion: bool,
}

pub struct SessionManager {
    service: Arc<dyn SessionService>,
    clock: Arc<dyn Clock>,
    workspace: Workspace,
    policy: ResumePolicy,
    invocation_id: InvocationId,
    session: Session,
    /// Whether the session row exists in storage.
    session_stored: bool,
    /// The head storage has, as far as we know: the compare-and-swap expectation.
    stored_head: Option<EventId>,
    /// The branch in memory, oldest first: stored events and pending ones.
    events: Vec<Event>,
    /// Ids of the events in `events` that storage has.
    stored_ids: HashSet<EventId>,
    /// The resume boundary, written just before the next event.
    held_boundary: Option<Event>,
    /// The event the next new event chains onto. Usually the last of `events`, but after a
    /// resume it is the stored head, which may be an event of a type this build skips (from
    /// a newer Cairn): new events must still follow it, not fork the conversation.
    tip: Option<EventId>,
    /// The session's change marker as [`SessionManager::refresh`] last saw it.
    seen_version: Option<SessionVersion>,
}

impl SessionManager {
    /// A manager holding a fresh, unwritten session for `workspace`.
    pub fn new(
        service: Arc<dyn SessionService>,
        clock: Arc<dyn Clock>,
        workspace: Workspace,
        policy: ResumePolicy,
    ) -> Self {
        let session = fresh_session(&workspace, clock.now_ms());
        Self {
            service,
            clock,
            workspace,
            policy,
            invocation_id: InvocationId::new(),
            session,
            session_stored: false,
            stored_head: None,
            events: Vec::new(),
            stored_ids: HashSet::new(),
            held_boundary: None,
            tip: None,
            seen_version: None,
        }
    }

    pub fn service(&self) -> &Arc<dyn SessionService> {
        &self.service
    }

    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn invocation_id(&self) -> InvocationId {
        self.invocation_id
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The conversation's branch, oldest first, including events not yet persisted (the held
    /// resume boundary included, since the model must see it).
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().chain(self.held_boundary.iter())
    }

    /// The request for the next answer, built from the branch as it stands by
    /// [`turn::build_request`](crate::turn::build_request) with today's date from the clock.
    pub fn next_request(
        &self,
        model: &str,
        max_output_tokens: Option<u32>,
        context_window: u64,
    ) -> ModelRequest {
        let events: Vec<Event> = self.events().cloned().collect();
        build_request(
            &events,
            &self.workspace,
            model,
            max_output_tokens,
            context_window,
            &utc_date(self.now_ms()),
        )
    }

    /// Whether the session exists in storage.
    pub fn is_stored(&self) -> bool {
        self.session_stored
    }

    /// Events created but not yet persisted, in order.
    pub fn pending_events(&self) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|event| !self.stored_ids.contains(&event.id))
            .collect()
    }

    /// Events created but not yet persisted (the held boundary does not count).
    pub fn pending_count(&self) -> usize {
        self.events
            .iter()
            .filter(|event| !self.stored_ids.contains(&event.id))
            .count()
    }

    /// Startup: resume this workspace's resumable session if there is one, else stay fresh.
    pub async fn start(&mut self) -> Result<StartOutcome> {
        match self.find_resumable_here().await? {
            Some(session_id) => Ok(StartOutcome::Resumed(self.resume(session_id).await?)),
            None => Ok(StartOutcome::New),
        }
    }

    /// `--continue`: the workspace's most recent session regardless of age; `None` when this
    /// workspace has none (the manager then stays on a fresh session).
    pub async fn continue_latest(&mut self) -> Result<Option<ResumeInfo>> {
        match self.find_latest_here().await? {
            Some(session_id) => Ok(Some(self.resume(session_id).await?)),
            None => Ok(None),
        }
    }

    /// The session [`start`](Self::start) would resume, without loading it: a front end can
    /// draw its newest events while [`resume`](Self::resume) loads the rest.
    pub async fn find_resumable_here(&self) -> Result<Option<SessionId>> {
        let Some(query) = self
            .policy
            .auto_resume_query(&self.workspace, self.clock.now_ms())
        else {
            return Ok(None);
        };
        Ok(self
            .service
            .find_resumable(&query)
            .await?
            .map(|found| found.id))
    }

    /// The session [`continue_latest`](Self::continue_latest) would resume, without loading it.
    pub async fn find_latest_here(&self) -> Result<Option<SessionId>> {
        let query = ResumePolicy::continue_query(&self.workspace);
        Ok(self
            .service
            .find_resumable(&query)
            .await?
            .map(|found| found.id))
    }

    /// Switches to a fresh, unwritten session (the current one is left as it is).
    pub fn create_new(&mut self) {
        self.session = fresh_session(&self.workspace, self.clock.now_ms());
        self.session_stored = false;
        self.stored_head = None;
        self.events.clear();
        self.stored_ids.clear();
        self.held_boundary = None;
        self.tip = None;
        self.seen_version = None;
    }

    /// Loads `session_id`'s head branch and begins a new invocation in it. An archived
    /// session is un-archived: continuing it is a clear sign it is wanted.
    pub async fn resume(&mut self, session_id: SessionId) -> Result<ResumeInfo> {
        let loaded = self.service.load_session(session_id).await?;
        let now = self.clock.now_ms();
        let was_archived = loaded.session.archived_at_ms.is_some();
        if was_archived {
            self.service.set_archived(session_id, None).await?;
        }
        let last_active = loaded
            .events
            .last()
            .map(|event| event.created_at_ms)
            .unwrap_or(loaded.session.updated_at_ms);
        let warnings = loaded.warnings.clone();
        self.adopt(loaded);
        self.session.archived_at_ms = None;
        let recovered = self.recover_drafts().await?;
        let ago = now - last_active;
        let boundary = EventKind::SystemContext {
            text: crate::compact::resume_boundary_text(&describe_age(ago), &self.events),
        };
        self.held_boundary = Some(self.make_event(boundary, now));
        Ok(ResumeInfo {
            session_id,
            last_active_ms_ago: ago,
            was_archived,
            warnings,
            recovered,
        })
    }

    /// Adds an event to the conversation (not yet persisted) and returns it.
    pub fn push(&mut self, kind: EventKind) -> &Event {
        if let Some(mut boundary) = self.held_boundary.take() {
            // The branch may have moved since the resume (an answer regenerated).
            boundary.parent_id = self.tip;
            self.tip = Some(boundary.id);
            self.events.push(boundary);
        }
        let now = self.clock.now_ms();
        let event = self.make_event(kind, now);
        self.tip = Some(event.id);
        self.events.push(event);
        // `events` is non-empty: we just pushed.
        &self.events[self.events.len() - 1]
    }

    /// Drops the in-memory events after `event_id`, so the next event starts a new branch
    /// from it (used to regenerate an answer). Stored events stay in storage, off the new
    /// branch once it is persisted. Returns false if `event_id` is not on the branch.
    pub fn branch_from(&mut self, event_id: EventId) -> bool {
        let Some(position) = self.events.iter().position(|event| event.id == event_id) else {
            return false;
        };
        self.events.truncate(position + 1);
        self.tip = Some(event_id);
        true
    }

    /// Writes every event storage does not have yet, in order. On a head conflict (another
    /// process wrote to this session), reloads, puts our events after the other writer's and
    /// tries again; the outcome lists what the other writer added.
    pub async fn persist_pending(&mut self) -> Result<PersistOutcome> {
        let mut outcome = PersistOutcome::default();
        for _ in 0..=MAX_CONFLICT_RETRIES {
            let pending: Vec<Event> = self
                .events
                .iter()
                .filter(|event| !self.stored_ids.contains(&event.id))
                .cloned()
                .collect();
            if pending.is_empty() {
                return Ok(outcome);
            }
            // Before its first write, a session has a title only if the user gave it one.
            let renamed_before_stored = !self.session_stored && !self.session.title.is_empty();
            let result = if self.session_stored {
                self.service
                    .append_events(self.session.id, self.stored_head, &pending)
                    .await
            } else {
                let mut row = self.session.clone();
                row.head_id = pending.last().map(|event| event.id);
                row.updated_at_ms = pending
                    .last()
                    .map_or(row.updated_at_ms, |e| e.created_at_ms);
                if row.title.is_empty() {
                    row.title = first_user_title(&pending).unwrap_or_default();
                }
                self.service.create_session(&row, &pending).await
            };
            match result {
                Ok(()) => {
                    let was_stored = self.session_stored;
                    self.session_stored = true;
                    self.stored_head = pending.last().map(|event| event.id);
                    self.stored_ids.extend(pending.iter().map(|event| event.id));
                    self.session.head_id = self.stored_head;
                    if let Some(last) = pending.last() {
                        self.session.updated_at_ms = last.created_at_ms;
                    }
                    if renamed_before_stored {
                        // `create_session` stored the title as the first message's; mark it
                        // the user's so no automatic title replaces it.
                        self.service
                            .set_title(
                                self.session.id,
                                &self.session.title,
                                TitleSource::User,
                                self.clock.now_ms(),
                            )
                            .await?;
                    }
                    if self.session.title.is_empty()
                        && let Some(title) = first_user_title(&self.events)
                    {
                        // A new row already got this title from `create_session`.
                        if was_stored {
                            self.service
                                .set_title(
                                    self.session.id,
                                    &title,
                                    TitleSource::FirstMessage,
                                    self.clock.now_ms(),
                                )
                                .await?;
                        }
                        self.session.title = title;
                    }
                    if was_stored {
                        outcome.unarchived = self.unarchive_if_archived_elsewhere().await?;
                        self.record_location_if_moved().await?;
                    }
                    outcome.written = pending.len();
                    return Ok(outcome);
                }
                Err(ServiceError::Conflict { .. }) => {
                    match self.rebase_pending_on_stored_head(&pending).await {
                        Ok(merged) => outcome.merged_from_elsewhere.extend(merged),
                        Err(ServiceError::NotFound(_)) => {
                            self.move_pending_to_fresh_session();
                            outcome.moved_after_deletion = true;
                        }
                        Err(other) => return Err(other),
                    }
                }
                Err(ServiceError::NotFound(_)) if self.session_stored => {
                    self.move_pending_to_fresh_session();
                    outcome.moved_after_deletion = true;
                }
                Err(other) => return Err(other),
            }
        }
        Err(ServiceError::storage(format!(
            "session {} kept changing under us; gave up after {MAX_CONFLICT_RETRIES} retries",
            self.session.id
        )))
    }

    /// Archives the current session (if it was ever written) and switches to a fresh one.
    /// Pending events are written first so nothing typed is lost.
    pub async fn archive_and_reset(&mut self) -> Result<Option<SessionId>> {
        self.persist_pending().await?;
        let archived = if self.session_stored {
            self.service
                .set_archived(self.session.id, Some(self.clock.now_ms()))
                .await?;
            Some(self.session.id)
        } else {
            None
        };
        // The model in use stays until it is switched, as in any chat.
        let model = self.session.model.take();
        self.create_new();
        self.session.model = model;
        Ok(archived)
    }

    /// Switches the current session to `model` (`None`: the configured one), written at once
    /// if the session is stored, else with its first event.
    pub async fn set_model(&mut self, model: Option<String>) -> Result<()> {
        if self.session_stored {
            self.service
                .set_model(self.session.id, model.as_deref())
                .await?;
        }
        self.session.model = model;
        Ok(())
    }

    /// Renames the current session (written at once if the session is stored, else with
    /// its first event).
    /// The title is the user's: no automatic title replaces it.
    pub async fn rename(&mut self, title: &str) -> Result<()> {
        let title = crate::session::clean_title(title);
        if self.session_stored {
            self.service
                .set_title(
                    self.session.id,
                    &title,
                    TitleSource::User,
                    self.clock.now_ms(),
                )
                .await?;
        }
        self.session.title = title;
        Ok(())
    }

    /// Gives the stored session a title the model made (already cleaned, see
    /// [`clean_generated_title`](crate::title::clean_generated_title)), unless the user has
    /// named it: `false` when the title was kept, or the session is not stored.
    pub async fn set_generated_title(&mut self, title: &str, source: TitleSource) -> Result<bool> {
        if !self.session_stored {
            return Ok(false);
        }
        let applied = self
            .service
            .set_title(self.session.id, title, source, self.clock.now_ms())
            .await?;
        if applied {
            self.session.title = title.to_owned();
        }
        Ok(applied)
    }

    fn make_event(&self, kind: EventKind, now: i64) -> Event {
        let parent_id = self.tip;
        Event {
            id: EventId::new(),
            session_id: self.session.id,
            parent_id,
            invocation_id: self.invocation_id,
            created_at_ms: now,
            kind,
        }
    }

    fn adopt(&mut self, loaded: LoadedSession) {
        self.session = loaded.session;
        self.session_stored = true;
        self.stored_head = self.session.head_id;
        self.stored_ids = loaded.events.iter().map(|event| event.id).collect();
        self.events = loaded.events;
        self.held_boundary = None;
        self.tip = self.session.head_id;
    }

    /// After a conflict: load what storage has now and re-chain our pending events (keeping
    /// their ids) after its head. Returns the events the other writer added.
    async fn rebase_pending_on_stored_head(&mut self, pending: &[Event]) -> Result<Vec<Event>> {
        let loaded = self.service.load_session(self.session.id).await?;
        let known: HashSet<EventId> = self.stored_ids.clone();
        let merged: Vec<Event> = loaded
            .events
            .iter()
            .filter(|event| !known.contains(&event.id))
            .cloned()
            .collect();
        let title = std::mem::take(&mut self.session.title);
        self.adopt(loaded);
        if self.session.title.is_empty() {
            self.session.title = title;
        }
        for event in pending {
            let mut event = event.clone();
            event.parent_id = self.tip;
            self.tip = Some(event.id);
            self.events.push(event);
        }
        Ok(merged)
    }
}

fn fresh_session(workspace: &Workspace, now: i64) -> Session {
    Session {
        id: SessionId::new(),
        directory: workspace.directory.clone(),
        git_root: workspace.git_root.clone(),
        head_id: None,
        title: String::new(),
        created_at_ms: now,
        updated_at_ms: now,
        archived_at_ms: None,
        model: None,
        location: workspace.location(),
    }
}

fn first_user_title(events: &[Event]) -> Option<String> {
    events.iter().find_map(|event| match &event.kind {
        EventKind::UserMessage { text } => Some(title_from_message(text)),
        _ => None,
    })
}
