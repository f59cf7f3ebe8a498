//! Rebuilding a session's branch from its stored events, the same way for every backend.
//!
//! A backend hands over a session's rows as it stored them ([`StoredEvent`], in any order)
//! and the text of the session's head id; [`walk_branch`] follows parent links back from the
//! head and decodes what it reaches. Timestamps and row order play no part: the clocks of two
//! machines, or of one machine across a clock change, do not agree.
//!
//! Invariants:
//! - Loading never fails because of one bad row. A missing parent or a cycle stops the walk
//!   with a warning, keeping what was reached; an event that cannot be read is skipped with a
//!   warning; events of a type this build does not know (written by a newer Cairn) are walked
//!   through, left out of the result and reported once per type.
//! - Every stored row is either on the branch or counted in
//!   [`Branch::off_branch_events`].

use std::collections::{BTreeMap, HashMap};

use crate::event::{DecodeEventError, Event, EventKind};
use crate::ids::SessionId;
use crate::service::RecentEvents;
use crate::session::Session;

/// One stored event, its columns as the backend keeps them, borrowed so that a backend can
/// hand over a long session without copying every field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredEvent<'a> {
    /// The event id as stored text; parent links are matched on this text.
    pub id: &'a str,
    pub parent_id: Option<&'a str>,
    pub invocation_id: &'a str,
    /// The tag of [`EventKind`], see [`EventKind::event_type`].
    pub event_type: &'a str,
    /// The JSON object of [`EventKind::data_json`].
    pub event_data: &'a str,
    pub created_at_ms: i64,
}

/// The head's branch, oldest first, decoded; see [`walk_branch`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Branch {
    /// The readable events of known types on the branch, oldest first.
    pub events: Vec<Event>,
    /// Stored events not on the branch (abandoned when an answer was regenerated).
    pub off_branch_events: usize,
    /// What could not be loaded, in words for the user.
    pub warnings: Vec<String>,
}

/// Rebuilds the branch ending at `head_id` from all of a session's `rows`, in any order, by
/// following parent links back from the head.
///
/// The walk runs over the raw rows, so an event of an unknown type in the middle of the chain
/// is walked through and only left out of the result. A missing parent or a cycle stops the
/// walk with a warning; what was reached up to there is returned.
pub fn walk_branch(
    session_id: SessionId,
    head_id: Option<&str>,
    rows: &[StoredEvent<'_>],
) -> Branch {
    // foldhash rather than the standard SipHash: hashing the ids was a tenth of loading a
    // long session, and the ids come from our own store.
    let by_id: HashMap<&str, usize, foldhash::fast::RandomState> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| (row.id, index))
        .collect();
    let mut warnings = Vec::new();
    // Indexes into `rows`, newest first while walking.
    let mut chain: Vec<usize> = Vec::new();
    let mut cursor = head_id;
    while let Some(id) = cursor {
        let Some(&index) = by_id.get(id) else {
            match chain.last() {
                Some(&child) => warnings.push(format!(
                    "event {} points at a missing parent {id}; earlier history could not be loaded",
                    rows[child].id
                )),
                None => warnings.push(format!("the session's head event {id} is missing")),
            }
            break;
        };
        // A walk longer than the number of rows has met an event twice: a cycle. Cheaper
        // than remembering every id visited, and cycles only come from damaged stores.
        if chain.len() == rows.len() {
            warnings.push(format!(
                "event {id} is its own ancestor; history before it could not be loaded"
            ));
            break;
        }
        chain.push(index);
        cursor = rows[index].parent_id;
    }
    let off_branch_events = rows.len() - chain.len();

    let events = collect_chain(
        chain
            .iter()
            .rev()
            .map(|&index| (rows[index].id, decode_event(session_id, &rows[index]))),
        &mut warnings,
    );
    Branch {
        events,
        off_branch_events,
        warnings,
    }
}

/// What `SessionService::load_recent` returns, from the newest `limit + 1` events of the
/// head's branch as a backend walked them (newest first): the extra one, when there is one,
/// only says that older events exist.
pub fn recent_events(
    session: Session,
    mut chain_newest_first: Vec<StoredEvent<'_>>,
    limit: usize,
) -> RecentEvents {
    let has_earlier = chain_newest_first.len() > limit;
    chain_newest_first.truncate(limit);
    // Warnings (unknown types, unreadable rows) are the whole load's to report.
    let (events, _warnings) = decode_recent(session.id, &chain_newest_first);
    RecentEvents {
        session,
        events,
        has_earlier,
    }
}

/// Decodes the newest part of a branch that a backend has already walked back from the head
/// itself (`chain_newest_first`: the head, its parent, and so on), skipping events as
/// [`walk_branch`] does. Returns the events oldest first and the warnings.
pub fn decode_recent(
    session_id: SessionId,
    chain_newest_first: &[StoredEvent<'_>],
) -> (Vec<Event>, Vec<String>) {
    let mut warnings = Vec::new();
    let events = collect_chain(
        chain_newest_first
            .iter()
            .rev()
            .map(|row| (row.id, decode_event(session_id, row))),
        &mut warnings,
    );
    (events, warnings)
}

/// The events of a walked chain, given oldest first with their stored ids, leaving out
/// what cannot be read or is of an unknown type, with a warning for each.
fn collect_chain<'a>(
    chain_oldest_first: impl ExactSizeIterator<Item = (&'a str, Result<Event, SkippedEvent>)>,
    warnings: &mut Vec<String>,
) -> Vec<Event> {
    let mut events = Vec::with_capacity(chain_oldest_first.len());
    // Sorted, so the warnings come out in a stable order.
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for (id, decoded) in chain_oldest_first {
        match decoded {
            Ok(event) => events.push(event),
            Err(SkippedEvent::UnknownType(event_type)) => {
                *unknown.entry(event_type).or_default() += 1
            }
            Err(SkippedEvent::Unreadable(reason)) => {
                warnings.push(format!("skipped unreadable event {id}: {reason}"));
            }
        }
    }
    for (event_type, count) in unknown {
        let events_word = if count == 1 { "event" } else { "events" };
        warnings.push(format!(
            "skipped {count} {events_word} of unknown type `{event_type}` (written by a newer Cairn?)"
        ));
    }
    events
}

/// Decodes every one of a session's `rows` (any order, every branch), for the conversation
/// tree. Rows that cannot be decoded are left out with warnings worded like
/// [`walk_branch`]'s; an event whose parent was left out is re-linked to its nearest readable
/// ancestor, so the tree keeps its shape around an event of a type this build skips.
pub fn decode_all(session_id: SessionId, rows: &[StoredEvent<'_>]) -> (Vec<Event>, Vec<String>) {
    let mut events = Vec::with_capacity(rows.len());
    let mut warnings = Vec::new();
    // Parent links of the rows left out, to walk past them.
    let mut skipped: HashMap<&str, Option<&str>> = HashMap::new();
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for row in rows {
        match decode_event(session_id, row) {
            Ok(event) => events.push(event),
            Err(SkippedEvent::UnknownType(event_type)) => {
                skipped.insert(row.id, row.parent_id);
                *unknown.entry(event_type).or_default() += 1;
            }
            Err(SkippedEvent::Unreadable(reason)) => {
                skipped.insert(row.id, row.parent_id);
                warnings.push(format!("skipped unreadable event {}: {reason}", row.id));
            }
        }
    }
    for (event_type, count) in unknown {
        let events_word = if count == 1 { "event" } else { "events" };
        warnings.push(format!(
            "skipped {count} {events_word} of unknown type `{event_type}` (written by a newer Cairn?)"
        ));
    }
    if skipped.is_empty() {
        return (events, warnings);
    }
    for event in &mut events {
        let Some(parent) = event.parent_id else {
            continue;
        };
        let parent_text = parent.to_string();
        let mut cursor: Option<&str> = Some(&parent_text);
        // Bounded by the number of rows left out, so a damaged cycle among them ends.
        for _ in 0..=skipped.len() {
            match cursor.and_then(|id| skipped.get(id)) {
                Some(grandparent) => cursor = *grandparent,
                None => break,
            }
        }
        event.parent_id = cursor.and_then(|id| id.parse().ok());
    }
    (events, warnings)
}

/// Why a stored event was left out of a branch.
enum SkippedEvent {
    UnknownType(String),
    Unreadable(String),
}

fn decode_event(session_id: SessionId, row: &StoredEvent<'_>) -> Result<Event, SkippedEvent> {
    let bad_id =
        |what: &str, value: &str| SkippedEvent::Unreadable(format!("malformed {what} `{value}`"));
    let kind = EventKind::from_parts(row.event_type, row.event_data).map_err(|err| match err {
        DecodeEventError::UnknownType(event_type) => SkippedEvent::UnknownType(event_type),
        malformed @ DecodeEventError::Malformed { .. } => {
            SkippedEvent::Unreadable(malformed.to_string())
        }
    })?;
    Ok(Event {
        id: row.id.parse().map_err(|_| bad_id("id", row.id))?,
        session_id,
        parent_id: match row.parent_id {
            Some(parent) => Some(parent.parse().map_err(|_| bad_id("parent id", parent))?),
            None => None,
        },
        invocation_id: row
            .invocation_id
            .parse()
            .map_err(|_| bad_id("invocation id", row.invocation_id))?,
        created_at_ms: row.created_at_ms,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const INVOCATION: &str = "00000000-0000-7000-8000-000000000000";

    fn row<'a>(
        id: &'a str,
        parent: Option<&'a str>,
        event_type: &'a str,
        data: &'a str,
    ) -> StoredEvent<'a> {
        StoredEvent {
            id,
            parent_id: parent,
            invocation_id: INVOCATION,
            event_type,
            event_data: data,
            created_at_ms: 0,
        }
    }

    /// Event ids 0, 1, 2, ... as stored text.
    fn uuids() -> Vec<String> {
        (0_u8..4)
            .map(|n| format!("00000000-0000-7000-8000-0000000000{n:02x}"))
            .collect()
    }

    #[test]
    fn walk_goes_through_unknown_events_and_reports_them_once_per_type() {
        let uuid = uuids();
        let rows = vec![
            row(&uuid[3], Some(&uuid[2]), "user_message", r#"{"text":"c"}"#),
            row(&uuid[1], None, "user_message", r#"{"text":"a"}"#),
            row(&uuid[2], Some(&uuid[1]), "hologram", "{}"),
        ];
        let branch = walk_branch(SessionId::new(), Some(&uuid[3]), &rows);
        let texts: Vec<_> = branch.events.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(
            texts,
            vec![
                EventKind::UserMessage { text: "a".into() },
                EventKind::UserMessage { text: "c".into() },
            ]
        );
        assert_eq!(branch.off_branch_events, 0);
        assert_eq!(
            branch.warnings,
            vec![
                "skipped 1 event of unknown type `hologram` (written by a newer Cairn?)".to_owned()
            ]
        );
    }

    #[test]
    fn broken_links_cycles_and_malformed_rows_become_warnings() {
        let uuid = uuids();
        let missing_parent = vec![row(&uuid[2], Some(&uuid[1]), "note", r#"{"text":"n"}"#)];
        let branch = walk_branch(SessionId::new(), Some(&uuid[2]), &missing_parent);
        assert_eq!(branch.events.len(), 1);
        assert_eq!(
            branch.warnings,
            vec![format!(
                "event {} points at a missing parent {}; earlier history could not be loaded",
                uuid[2], uuid[1]
            )]
        );

        let cycle = vec![
            row(&uuid[1], Some(&uuid[2]), "note", r#"{"text":"a"}"#),
            row(&uuid[2], Some(&uuid[1]), "note", r#"{"text":"b"}"#),
        ];
        let branch = walk_branch(SessionId::new(), Some(&uuid[2]), &cycle);
        assert_eq!(branch.events.len(), 2);
        assert_eq!(branch.warnings.len(), 1);

        let malformed = vec![row(&uuid[1], None, "user_message", r#"{"txt":1}"#)];
        let branch = walk_branch(SessionId::new(), Some(&uuid[1]), &malformed);
        assert_eq!(branch.events, vec![]);
        assert_eq!(branch.warnings.len(), 1);
        assert!(branch.warnings[0].starts_with(&format!("skipped unreadable event {}", uuid[1])));
    }

    #[test]
    fn decode_all_relinks_children_of_skipped_events() {
        let uuid = uuids();
        let rows = vec![
            row(&uuid[0], None, "user_message", r#"{"text":"a"}"#),
            row(&uuid[1], Some(&uuid[0]), "hologram", "{}"),
            row(&uuid[2], Some(&uuid[1]), "user_message", r#"{"text":"b"}"#),
            row(&uuid[3], Some(&uuid[0]), "user_message", r#"{"text":"c"}"#),
        ];
        let (events, warnings) = decode_all(SessionId::new(), &rows);
        let links: Vec<(String, Option<String>)> = events
            .iter()
            .map(|e| (e.id.to_string(), e.parent_id.map(|p| p.to_string())))
            .collect();
        assert_eq!(
            links,
            vec![
                (uuid[0].clone(), None),
                (uuid[2].clone(), Some(uuid[0].clone())),
                (uuid[3].clone(), Some(uuid[0].clone())),
            ]
        );
        assert_eq!(
            warnings,
            vec![
                "skipped 1 event of unknown type `hologram` (written by a newer Cairn?)".to_owned()
            ]
        );
    }
}
