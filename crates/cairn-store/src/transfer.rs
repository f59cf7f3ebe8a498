//! What both backends share when copying sessions: an export page assembled from rows, the
//! sessions of an import page still to write, and what they derive: the counters and depths an
//! append would have kept, computed from the events themselves, so a copied session lists,
//! resumes and branches exactly as it did where it came from.

use std::collections::{HashMap, HashSet};

use cairn_core::branch::StoredEvent;
use cairn_core::transfer::{ExportedEvent, ImportOutcome, SessionExport};
use cairn_core::{EventKind, ServiceError};

use crate::sqlite::rows::{SessionRow, preview_of};

/// One exported event as both stores read it: session id, id, parent id, invocation id,
/// type, data, time.
pub(crate) type EventTuple = (String, String, Option<String>, String, String, String, i64);

/// An export page from its sessions' rows and all their events (in each session's stored
/// order, sessions in any order).
pub(crate) fn export_page(
    rows: Vec<SessionRow>,
    events: &[EventTuple],
) -> Result<Vec<SessionExport>, ServiceError> {
    let mut by_session: HashMap<&str, Vec<_>> = HashMap::new();
    for (session_id, id, parent_id, invocation_id, event_type, event_data, created_at) in events {
        by_session
            .entry(session_id)
            .or_default()
            .push(exported_event(StoredEvent {
                id,
                parent_id: parent_id.as_deref(),
                invocation_id,
                event_type,
                event_data,
                created_at_ms: *created_at,
            })?);
    }
    let mut page = Vec::with_capacity(rows.len());
    for row in rows {
        let events = by_session.remove(row.id.as_str()).unwrap_or_default();
        page.push(SessionExport {
            forked_from: row.fork_origin(),
            session: row.into_session()?,
            events,
        });
    }
    Ok(page)
}

/// The sessions of an import page to write, each with what it derives.
pub(crate) type NewSessions<'a> = Vec<(&'a SessionExport, Derived)>;

/// The sessions of `page` to write (those not in `existing`) and the outcome the import
/// reports.
pub(crate) fn new_sessions<'a>(
    page: &'a [SessionExport],
    existing: &HashSet<String>,
) -> Result<(NewSessions<'a>, ImportOutcome), ServiceError> {
    let new: NewSessions<'a> = page
        .iter()
        .filter(|export| !existing.contains(&export.session.id.to_string()))
        .map(|export| derive(export).map(|derived| (export, derived)))
        .collect::<Result<_, _>>()?;
    let outcome = ImportOutcome {
        sessions: new.len() as u64,
        events: new
            .iter()
            .map(|(export, _)| export.events.len() as u64)
            .sum(),
        skipped_sessions: (page.len() - new.len()) as u64,
    };
    Ok((new, outcome))
}

/// Events per multi-row `INSERT`: 8 values each stays far below both databases' limits on
/// bound parameters (32,766 on SQLite, 65,535 on PostgreSQL).
pub(crate) const EVENTS_PER_INSERT: usize = 1_000;

/// The `sessions` row's counters and each event's `message_depth` for one imported session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Derived {
    pub message_count: i64,
    pub model_event_count: i64,
    pub preview: String,
    pub branch_message_count: i64,
    pub branch_count: i64,
    /// Aligned with the export's events.
    pub depths: Vec<i64>,
    /// Each event decoded, aligned with the export's events; `None` for one this build
    /// cannot read. Kept so that indexing the copy for search does not decode it again.
    pub kinds: Vec<Option<EventKind>>,
}

/// Counters as appends keep them: messages and model events on every branch, the latest
/// user message's preview, the head's depth and the number of leaves. An event of a type
/// this build cannot read counts as neither (as when a newer build appended it).
pub(crate) fn derive(export: &SessionExport) -> Result<Derived, ServiceError> {
    let kinds: Vec<Option<EventKind>> = export
        .events
        .iter()
        .map(|event| EventKind::from_parts(&event.event_type, &event.event_data).ok())
        .collect();
    let index: HashMap<_, usize> = export
        .events
        .iter()
        .enumerate()
        .map(|(position, event)| (event.id, position))
        .collect();
    let is_message = |position: usize| kinds[position].as_ref().is_some_and(EventKind::is_message);

    // Depths down from each root, iteratively (a session may be tens of thousands deep).
    let mut depths: Vec<Option<i64>> = vec![None; export.events.len()];
    for start in 0..export.events.len() {
        let mut pending = Vec::new();
        let mut at = Some(start);
        let mut base = 0;
        while let Some(position) = at {
            if let Some(depth) = depths[position] {
                base = depth;
                break;
            }
            if pending.len() > export.events.len() {
                return Err(broken(export, "its events' parent links form a cycle"));
            }
            pending.push(position);
            // A missing parent (damage in the source) is a root, as when the store walks it.
            at = export.events[position]
                .parent_id
                .and_then(|parent| index.get(&parent).copied());
        }
        for position in pending.into_iter().rev() {
            base += i64::from(is_message(position));
            depths[position] = Some(base);
        }
    }
    let depths: Vec<i64> = depths.into_iter().map(Option::unwrap_or_default).collect();

    let mut has_child = vec![false; export.events.len()];
    for event in &export.events {
        if let Some(&parent) = event
            .parent_id
            .as_ref()
            .and_then(|parent| index.get(parent))
        {
            has_child[parent] = true;
        }
    }
    let latest_user = (0..export.events.len())
        .filter(|&position| matches!(kinds[position], Some(EventKind::UserMessage { .. })))
        .max_by_key(|&position| (export.events[position].created_at_ms, position));
    let preview = match latest_user.and_then(|position| kinds[position].as_ref()) {
        Some(EventKind::UserMessage { text }) => preview_of(text),
        _ => String::new(),
    };
    let head_depth = export
        .session
        .head_id
        .and_then(|head| index.get(&head))
        .map_or(0, |&position| depths[position]);
    Ok(Derived {
        message_count: (0..export.events.len()).filter(|&p| is_message(p)).count() as i64,
        model_event_count: kinds
            .iter()
            .filter(|kind| kind.as_ref().is_some_and(EventKind::goes_to_model))
            .count() as i64,
        preview,
        branch_message_count: head_depth,
        branch_count: (has_child.iter().filter(|has| !**has).count() as i64).max(1),
        depths,
        kinds,
    })
}

/// Checks what a store would refuse to hold before anything is written.
pub(crate) fn check(export: &SessionExport) -> Result<(), ServiceError> {
    if export.events.is_empty() {
        return Err(broken(export, "it has no events"));
    }
    if let Some(head) = export.session.head_id
        && !export.events.iter().any(|event| event.id == head)
    {
        return Err(broken(
            export,
            &format!("its head {head} is not among its events"),
        ));
    }
    Ok(())
}

fn broken(export: &SessionExport, why: &str) -> ServiceError {
    ServiceError::storage(format!(
        "session {} cannot be copied: {why}; nothing of this page was written",
        export.session.id
    ))
}

/// An event row read for export; fails on ids that do not parse (damage), naming the row.
pub(crate) fn exported_event(row: StoredEvent<'_>) -> Result<ExportedEvent, ServiceError> {
    let parse_failed = |what: &str, value: &str| {
        ServiceError::storage(format!(
            "event {} cannot be copied: its {what} `{value}` is not an id",
            row.id
        ))
    };
    Ok(ExportedEvent {
        id: row.id.parse().map_err(|_| parse_failed("id", row.id))?,
        parent_id: match row.parent_id {
            Some(parent) => Some(parent.parse().map_err(|_| parse_failed("parent", parent))?),
            None => None,
        },
        invocation_id: row
            .invocation_id
            .parse()
            .map_err(|_| parse_failed("invocation", row.invocation_id))?,
        event_type: row.event_type.to_owned(),
        event_data: row.event_data.to_owned(),
        created_at_ms: row.created_at_ms,
    })
}
