//! Copying every session from one store to another (`cairn store copy`): a local SQLite file
//! to a shared PostgreSQL server, or back.
//!
//! The source hands out sessions a page at a time, whole (the row and every event of every
//! branch, events of types this build does not know included), in id order; the target writes
//! each page in one transaction and skips the sessions it already has. So ids are kept, a
//! second copy writes nothing, and an interrupted copy loses at most the page in flight and
//! completes when run again. A session present in both stores is left as the target has it:
//! copying never merges two histories.

use crate::ids::{EventId, InvocationId};
use crate::service::{ForkOrigin, Result, SessionService};
use crate::session::Session;

/// Sessions per page: a page is one read on the source and one transaction on the target.
pub const COPY_PAGE_SESSIONS: u32 = 200;

/// One stored event exactly as kept, whatever its type: a copy must not drop what a newer
/// build wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportedEvent {
    pub id: EventId,
    pub parent_id: Option<EventId>,
    pub invocation_id: InvocationId,
    /// See [`EventKind::event_type`](crate::EventKind::event_type).
    pub event_type: String,
    /// See [`EventKind::data_json`](crate::EventKind::data_json).
    pub event_data: String,
    pub created_at_ms: i64,
}

/// A whole session: its row (head, title, archive state, model, location) and every event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExport {
    pub session: Session,
    pub forked_from: Option<ForkOrigin>,
    /// Every event, on every branch, in the order they were stored.
    pub events: Vec<ExportedEvent>,
}

/// What an import wrote, and what it left alone because the target had it already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    pub sessions: u64,
    pub events: u64,
    pub skipped_sessions: u64,
}

impl ImportOutcome {
    fn add(&mut self, other: Self) {
        self.sessions += other.sessions;
        self.events += other.events;
        self.skipped_sessions += other.skipped_sessions;
    }
}

/// How far a copy is: `done` of `total` sessions read from the source, and what was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyProgress {
    pub done: u64,
    pub total: u64,
    pub written: ImportOutcome,
}

/// Copies every session of `from` that `to` does not have, a page at a time, telling
/// `progress` after each page. Returns what was written and skipped.
pub async fn copy_sessions(
    from: &dyn SessionService,
    to: &dyn SessionService,
    mut progress: impl FnMut(CopyProgress),
) -> Result<ImportOutcome> {
    let counts = from.count_sessions(None).await?;
    let mut state = CopyProgress {
        total: counts.active + counts.archived,
        ..CopyProgress::default()
    };
    progress(state);
    let mut page = from.export_sessions(None, COPY_PAGE_SESSIONS).await?;
    while let Some(last) = page.last() {
        let after = Some(last.session.id);
        // The next page is read while this one is written, so both stores work at once
        // (one after the other, each waited for the other a third of the time).
        let (written, next) = futures::join!(
            to.import_sessions(&page),
            from.export_sessions(after, COPY_PAGE_SESSIONS)
        );
        state.written.add(written?);
        state.done += page.len() as u64;
        // Sessions created while copying can make the count grow.
        state.total = state.total.max(state.done);
        progress(state);
        page = next?;
    }
    Ok(state.written)
}
