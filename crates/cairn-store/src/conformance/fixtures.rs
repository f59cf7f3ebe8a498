//! Building blocks of the behaviours: sessions, events and chains as a writer makes them.

use super::*;

/// A workspace directory under a fixed, fake root; never touched on disk.
pub fn dir(name: &str) -> PathBuf {
    PathBuf::from("/conformance").join(name)
}

/// The machine the behaviours run on, unless they say otherwise.
pub const HERE: &str = "here";

/// A session row as a writer on [`HERE`] would create it outside any repository with a
/// remote, updated at its creation time.
pub fn session(directory: &str, git_root: Option<&str>, at_ms: i64) -> Session {
    Session {
        id: SessionId::new(),
        directory: dir(directory),
        git_root: git_root.map(dir),
        head_id: None,
        title: String::new(),
        created_at_ms: at_ms,
        updated_at_ms: at_ms,
        archived_at_ms: None,
        model: None,
        location: Location {
            host: Some(HERE.to_owned()),
            repository: None,
            repository_folder: None,
        },
    }
}

/// One event of `session` after `parent`.
pub fn event(session: &Session, parent: Option<EventId>, at_ms: i64, kind: EventKind) -> Event {
    Event {
        id: EventId::new(),
        session_id: session.id,
        parent_id: parent,
        invocation_id: InvocationId::new(),
        created_at_ms: at_ms,
        kind,
    }
}

/// Events chained after `parent`, one millisecond apart from `at_ms`.
pub fn chain(
    session: &Session,
    parent: Option<EventId>,
    at_ms: i64,
    kinds: Vec<EventKind>,
) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::with_capacity(kinds.len());
    let mut parent = parent;
    for (offset, kind) in (0_i64..).zip(kinds) {
        let next = event(session, parent, at_ms + offset, kind);
        parent = Some(next.id);
        events.push(next);
    }
    events
}

pub fn user(text: &str) -> EventKind {
    EventKind::UserMessage {
        text: text.to_owned(),
    }
}

pub fn assistant(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.to_owned(),
        usage: None,
        interrupted: false,
        model: Some("test-model".to_owned()),
    }
}

pub fn note(text: &str) -> EventKind {
    EventKind::Note {
        text: text.to_owned(),
    }
}

/// Creates `session` with `events`, as the manager does: head and `updated_at` from the last
/// event. Returns the session as stored.
pub async fn store(service: &Service, session: &Session, events: &[Event]) -> Session {
    let mut row = session.clone();
    row.head_id = events.last().map(|event| event.id);
    row.updated_at_ms = events
        .last()
        .map_or(row.updated_at_ms, |event| event.created_at_ms);
    service
        .create_session(&row, events)
        .await
        .expect("create_session");
    row
}

/// A session in `directory` whose only event is a user message at `at_ms`.
pub async fn stored_conversation(
    service: &Service,
    directory: &str,
    git_root: Option<&str>,
    at_ms: i64,
) -> Session {
    let session = session(directory, git_root, at_ms);
    let events = chain(&session, None, at_ms, vec![user("hello")]);
    store(service, &session, &events).await
}

pub(super) fn resume_query(
    directory: &str,
    git_root: Option<&str>,
    since: Option<i64>,
) -> ResumeQuery {
    ResumeQuery {
        directory: dir(directory),
        git_root: git_root.map(dir),
        location: Location {
            host: Some(HERE.to_owned()),
            repository: None,
            repository_folder: None,
        },
        updated_since_ms: since,
    }
}

pub(super) fn ids(sessions: &[Session]) -> Vec<SessionId> {
    sessions.iter().map(|session| session.id).collect()
}
