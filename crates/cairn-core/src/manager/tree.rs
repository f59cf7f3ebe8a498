//! Moving around a session's conversation tree: switching to another branch, asking again
//! from an earlier point, forking a branch into a session of its own. The free functions
//! work on any stored session (the CLI uses them); the [`SessionManager`] methods do the same
//! for the session it holds and keep its in-memory branch in step, so the model only ever
//! sees the branch the head is on.

use super::{MAX_CONFLICT_RETRIES, SessionManager};
use crate::event::Event;
use crate::ids::{EventId, SessionId};
use crate::service::{
    ForkOrigin, LoadedSession, Result, ServiceError, SessionEvents, SessionService,
};
use crate::session::{Session, clean_title};
use crate::title::TitleSource;
use crate::tree::{ConversationTree, copy_branch};

/// Makes the branch through `event` the active one: the head moves to the newest leaf under
/// it, with the compare-and-swap of appends. When another process moves the head meanwhile,
/// the tree is read again and the switch retried: the person asked for that branch, whatever
/// the head was. Returns the new head.
pub async fn switch_branch(
    service: &dyn SessionService,
    session_id: SessionId,
    event: EventId,
) -> Result<EventId> {
    Ok(switch_and_read(service, session_id, event).await?.head)
}

/// What a switch read and did.
struct Switched {
    head: EventId,
    all: SessionEvents,
    branch: Vec<Event>,
    branch_count: usize,
}

/// [`switch_branch`], also returning what it read.
async fn switch_and_read(
    service: &dyn SessionService,
    session_id: SessionId,
    event: EventId,
) -> Result<Switched> {
    for _ in 0..=MAX_CONFLICT_RETRIES {
        let all = service.load_all_events(session_id).await?;
        let tree = ConversationTree::build(&all.events, all.session.head_id);
        if let Some(switched) = switch_from(service, all, &tree, event).await? {
            return Ok(switched);
        }
    }
    Err(ServiceError::storage(format!(
        "session {session_id} kept changing under us; gave up after {MAX_CONFLICT_RETRIES} retries"
    )))
}

/// One compare-and-swap of the head, from the head `all` was read at to the newest leaf
/// under `event` in `tree` (built from `all`). `None` when the head moved meanwhile.
async fn switch_from(
    service: &dyn SessionService,
    all: SessionEvents,
    tree: &ConversationTree,
    event: EventId,
) -> Result<Option<Switched>> {
    let not_found = |event_id| ServiceError::EventNotFound {
        session_id: all.session.id,
        event_id,
    };
    let leaf = tree
        .newest_leaf_under(event)
        .ok_or_else(|| not_found(event))?;
    match service
        .switch_head(all.session.id, all.session.head_id, leaf)
        .await
    {
        Ok(()) => {
            let branch = tree
                .branch_to(&all.events, leaf)
                .ok_or_else(|| not_found(leaf))?;
            Ok(Some(Switched {
                head: leaf,
                all,
                branch,
                branch_count: tree.branch_count,
            }))
        }
        Err(ServiceError::Conflict { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A session's events and their tree as read at one moment: what `/tree` shows. A switch
/// picked from it needs no second read while the session has not changed since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeenTree {
    pub all: SessionEvents,
    pub tree: ConversationTree,
}

/// Starts a new session, in the same workspace, holding copies of `session_id`'s branch that
/// ends at `at` (the head when `None`): new ids, the same content and times. It records where
/// it came from and takes `title`, or the original's. The original is not changed. Returns
/// the new session as stored.
pub async fn fork_session(
    service: &dyn SessionService,
    session_id: SessionId,
    at: Option<EventId>,
    title: Option<&str>,
    now_ms: i64,
) -> Result<Session> {
    let all = service.load_all_events(session_id).await?;
    let Some(end) = at.or(all.session.head_id) else {
        return Err(ServiceError::storage(format!(
            "session {session_id} has no events to fork"
        )));
    };
    let branch = branch_ending_at(&all, end)?;
    let mut fork = Session {
        id: SessionId::new(),
        directory: all.session.directory.clone(),
        git_root: all.session.git_root.clone(),
        head_id: None,
        title: title.map_or_else(|| all.session.title.clone(), clean_title),
        created_at_ms: now_ms,
        // A fork is work just begun: it is what this workspace resumes next.
        updated_at_ms: now_ms,
        archived_at_ms: None,
        model: all.session.model.clone(),
        location: all.session.location.clone(),
    };
    let copies = copy_branch(&branch, fork.id);
    fork.head_id = copies.last().map(|event| event.id);
    service
        .create_fork(
            &fork,
            &copies,
            ForkOrigin {
                session_id,
                event_id: end,
            },
        )
        .await?;
    if title.is_some() {
        // A title typed for the fork is the user's: no automatic title replaces it.
        service
            .set_title(fork.id, &fork.title, TitleSource::User, now_ms)
            .await?;
    }
    Ok(fork)
}

/// The events from the first one down to `end`, oldest first.
fn branch_ending_at(all: &SessionEvents, end: EventId) -> Result<Vec<Event>> {
    let not_found = || ServiceError::EventNotFound {
        session_id: all.session.id,
        event_id: end,
    };
    ConversationTree::build(&all.events, all.session.head_id)
        .branch_to(&all.events, end)
        .ok_or_else(not_found)
}

impl SessionManager {
    /// The current session's tree; empty for a session not yet stored.
    pub async fn tree(&self) -> Result<ConversationTree> {
        if !self.session_stored {
            return Ok(ConversationTree::default());
        }
        let all = self.service.load_all_events(self.session.id).await?;
        Ok(ConversationTree::build(&all.events, all.session.head_id))
    }

    /// Switches the current session to the branch through `event` (see [`switch_branch`])
    /// and loads it. Events not yet stored are written first, on the branch they were made
    /// on.
    pub async fn switch_branch(&mut self, event: EventId) -> Result<EventId> {
        self.persist_pending().await?;
        // The branch comes from the events read for the switch: reading the session again
        // would double the cost on a long session.
        let switched = switch_and_read(self.service.as_ref(), self.session.id, event).await?;
        Ok(self.adopt_switched(switched).0)
    }

    /// Reads the current session's events and builds their tree, for a person to pick a
    /// branch from; `None` for a session not yet stored.
    pub async fn seen_tree(&self) -> Result<Option<SeenTree>> {
        if !self.session_stored {
            return Ok(None);
        }
        let all = self.service.load_all_events(self.session.id).await?;
        let tree = ConversationTree::build(&all.events, all.session.head_id);
        Ok(Some(SeenTree { all, tree }))
    }

    /// [`switch_branch`](Self::switch_branch) to a branch picked from `seen` (when given):
    /// while the session is as it was read, the switch is one compare-and-swap and the
    /// branch comes from `seen`, with nothing read again. Without `seen`, or when the session
    /// changed meanwhile (our own pending events, another terminal), the switch reads the
    /// session afresh. Returns the new head and how many branches the session has.
    pub async fn switch_branch_seen(
        &mut self,
        seen: Option<SeenTree>,
        event: EventId,
    ) -> Result<(EventId, usize)> {
        let outcome = self.persist_pending().await?;
        let switched = match seen {
            Some(seen) if outcome.written == 0 && seen.all.session.id == self.session.id => {
                switch_from(self.service.as_ref(), seen.all, &seen.tree, event).await?
            }
            Some(_) | None => None,
        };
        let switched = match switched {
            Some(switched) => switched,
            None => switch_and_read(self.service.as_ref(), self.session.id, event).await?,
        };
        Ok(self.adopt_switched(switched))
    }

    /// Holds the branch a switch made active; returns its head and the branch count.
    fn adopt_switched(&mut self, switched: Switched) -> (EventId, usize) {
        let Switched {
            head,
            all,
            branch,
            branch_count,
        } = switched;
        let loaded = LoadedSession {
            session: Session {
                head_id: Some(head),
                ..all.session
            },
            off_branch_events: all.events.len() - branch.len(),
            events: branch,
            warnings: all.warnings,
            forked_from: all.forked_from,
        };
        let boundary = self.held_boundary.take();
        self.adopt(loaded);
        self.held_boundary = boundary;
        (head, branch_count)
    }

    /// Makes the next event follow `event` (`None`: start from nothing), which may lie on any
    /// branch of the session: asking again from an earlier point, or editing a message (its
    /// parent is given). The head moves to the new branch when that event is persisted;
    /// nothing is removed.
    pub async fn branch_at(&mut self, event: Option<EventId>) -> Result<()> {
        let Some(event) = event else {
            self.events.clear();
            self.tip = None;
            return Ok(());
        };
        if self.branch_from(event) {
            return Ok(());
        }
        let all = self.service.load_all_events(self.session.id).await?;
        let branch = branch_ending_at(&all, event)?;
        self.stored_ids.extend(branch.iter().map(|event| event.id));
        self.events = branch;
        self.tip = Some(event);
        Ok(())
    }

    /// Forks the current session's branch ending at `at` (the head when `None`) into a new
    /// session (see [`fork_session`]), which becomes the current one; the original stays as
    /// it is, resumable by id. Returns the original's id.
    pub async fn fork(&mut self, at: Option<EventId>, title: Option<&str>) -> Result<SessionId> {
        self.persist_pending().await?;
        let original = self.session.id;
        let fork = fork_session(
            self.service.as_ref(),
            original,
            at,
            title,
            self.clock.now_ms(),
        )
        .await?;
        let loaded = self.service.load_session(fork.id).await?;
        let boundary = self.held_boundary.take();
        self.adopt(loaded);
        self.held_boundary = boundary.map(|mut boundary| {
            boundary.session_id = fork.id;
            boundary
        });
        self.seen_version = None;
        Ok(original)
    }
}
