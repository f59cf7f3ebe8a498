//! Database rows and their conversion to domain types.
//!
//! Row types mirror the tables column for column and stay separate from the domain types, so
//! the schema can change without touching `cairn-core`. Decoding a session row fails loudly
//! (a session we cannot identify is useless); decoding an event never fails: an event we
//! cannot read is skipped with a warning, because one bad row must not make a whole
//! conversation unreadable.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use cairn_core::event::DecodeEventError;
use cairn_core::{Event, EventKind, ServiceError, Session, SessionId, SessionSummary};

/// The columns of [`SessionRow`], as a literal so queries can be `concat!`ed constants.
macro_rules! session_columns {
    () => {
        "id, directory, git_root, head_id, title, created_at, updated_at, archived_at, \
         message_count, preview"
    };
}
pub(crate) use session_columns;

/// Longest preview, in characters.
const PREVIEW_MAX_CHARS: usize = 80;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    pub directory: String,
    pub git_root: Option<String>,
    pub head_id: Option<String>,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    pub message_count: i64,
    pub preview: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub invocation_id: String,
    pub event_type: String,
    pub event_data: String,
    pub created_at: i64,
}

/// One stored event's columns, borrowed: from an [`EventRow`] or straight out of the packed
/// string `load_session` reads, without copying each field.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EventFields<'a> {
    pub id: &'a str,
    pub parent_id: Option<&'a str>,
    pub invocation_id: &'a str,
    pub event_type: &'a str,
    pub event_data: &'a str,
    pub created_at: i64,
}

impl EventRow {
    pub fn fields(&self) -> EventFields<'_> {
        EventFields {
            id: &self.id,
            parent_id: self.parent_id.as_deref(),
            invocation_id: &self.invocation_id,
            event_type: &self.event_type,
            event_data: &self.event_data,
            created_at: self.created_at,
        }
    }
}

impl SessionRow {
    pub fn into_session(self) -> Result<Session, ServiceError> {
        let bad_id = |what: &str, value: &str| {
            ServiceError::Storage(format!("session row has a malformed {what} `{value}`"))
        };
        Ok(Session {
            id: self.id.parse().map_err(|_| bad_id("id", &self.id))?,
            directory: PathBuf::from(self.directory),
            git_root: self.git_root.map(PathBuf::from),
            head_id: match self.head_id {
                Some(head) => Some(head.parse().map_err(|_| bad_id("head id", &head))?),
                None => None,
            },
            title: self.title,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
            archived_at_ms: self.archived_at,
        })
    }

    pub fn into_summary(self) -> Result<SessionSummary, ServiceError> {
        // Counters never go negative; a negative value would be damage, shown as zero.
        let message_count = u64::try_from(self.message_count).unwrap_or(0);
        let preview = self.preview.clone();
        Ok(SessionSummary {
            session: self.into_session()?,
            message_count,
            preview,
        })
    }
}

/// Paths are stored as text. A path that is not valid UTF-8 is stored lossily (invalid bytes
/// become U+FFFD): such a workspace still resumes consistently, since the same lossy text is
/// produced on every launch, but the stored path is not the exact original.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The first non-empty line of `text`, shortened with an ellipsis.
pub(crate) fn preview_of(text: &str) -> String {
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let mut preview: String = first_line.chars().take(PREVIEW_MAX_CHARS).collect();
    if first_line.chars().count() > PREVIEW_MAX_CHARS {
        preview.pop();
        preview.push('…');
    }
    preview
}

/// What a batch of events adds to a session row's counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub messages: i64,
    pub model_events: i64,
    /// Preview of the batch's latest user message, if it has one.
    pub preview: Option<String>,
}

impl Counters {
    pub fn of(events: &[Event]) -> Self {
        let mut counters = Self::default();
        for event in events {
            counters.messages += i64::from(event.kind.is_message());
            counters.model_events += i64::from(event.kind.goes_to_model());
            if let EventKind::UserMessage { text } = &event.kind {
                counters.preview = Some(preview_of(text));
            }
        }
        counters
    }
}

/// The head's branch, oldest first, decoded; see [`walk_branch`].
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Branch {
    pub events: Vec<Event>,
    pub off_branch_events: usize,
    pub warnings: Vec<String>,
}

/// Rebuilds the branch ending at `head_id` from a session's rows, in any order, by following
/// parent links back from the head. Timestamps play no part: clocks of two machines, or of
/// one machine across a clock change, do not agree.
///
/// The walk runs over the raw rows, so an event of an unknown type in the middle of the chain
/// is walked through and only left out of the result. A missing parent or a cycle stops the
/// walk with a warning; what was reached up to there is returned.
pub(crate) fn walk_branch(
    session_id: SessionId,
    head_id: Option<&str>,
    rows: &[EventFields<'_>],
) -> Branch {
    let by_id: HashMap<&str, &EventFields<'_>> = rows.iter().map(|row| (row.id, row)).collect();
    let mut warnings = Vec::new();
    // Newest first while walking.
    let mut chain: Vec<&EventFields<'_>> = Vec::new();
    let mut cursor = head_id;
    while let Some(id) = cursor {
        let Some(row) = by_id.get(id) else {
            match chain.last() {
                Some(child) => warnings.push(format!(
                    "event {} points at a missing parent {id}; earlier history could not be loaded",
                    child.id
                )),
                None => warnings.push(format!("the session's head event {id} is missing")),
            }
            break;
        };
        // A walk longer than the number of rows has met an event twice: a cycle. Cheaper
        // than remembering every id visited, and cycles only come from damaged files.
        if chain.len() == rows.len() {
            warnings.push(format!(
                "event {id} is its own ancestor; history before it could not be loaded"
            ));
            break;
        }
        chain.push(row);
        cursor = row.parent_id;
    }
    let off_branch_events = rows.len() - chain.len();

    let mut events = Vec::with_capacity(chain.len());
    // Sorted, so the warnings come out in a stable order.
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for row in chain.into_iter().rev() {
        match decode_event(session_id, row) {
            Ok(event) => events.push(event),
            Err(SkippedEvent::UnknownType(event_type)) => {
                *unknown.entry(event_type).or_default() += 1
            }
            Err(SkippedEvent::Unreadable(reason)) => {
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
    Branch {
        events,
        off_branch_events,
        warnings,
    }
}

enum SkippedEvent {
    UnknownType(String),
    Unreadable(String),
}

fn decode_event(session_id: SessionId, row: &EventFields<'_>) -> Result<Event, SkippedEvent> {
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
        created_at_ms: row.created_at,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn row(id: &str, parent: Option<&str>, event_type: &str, data: &str) -> EventRow {
        EventRow {
            id: id.to_owned(),
            parent_id: parent.map(str::to_owned),
            invocation_id: "00000000-0000-7000-8000-000000000000".to_owned(),
            event_type: event_type.to_owned(),
            event_data: data.to_owned(),
            created_at: 0,
        }
    }

    fn fields(rows: &[EventRow]) -> Vec<EventFields<'_>> {
        rows.iter().map(EventRow::fields).collect()
    }

    fn uuid(n: u8) -> String {
        format!("00000000-0000-7000-8000-0000000000{n:02x}")
    }

    #[test]
    fn walk_goes_through_unknown_events_and_reports_them_once_per_type() {
        let rows = vec![
            row(&uuid(3), Some(&uuid(2)), "user_message", r#"{"text":"c"}"#),
            row(&uuid(1), None, "user_message", r#"{"text":"a"}"#),
            row(&uuid(2), Some(&uuid(1)), "hologram", "{}"),
        ];
        let branch = walk_branch(SessionId::new(), Some(&uuid(3)), &fields(&rows));
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
        let missing_parent = vec![row(&uuid(2), Some(&uuid(1)), "note", r#"{"text":"n"}"#)];
        let branch = walk_branch(SessionId::new(), Some(&uuid(2)), &fields(&missing_parent));
        assert_eq!(branch.events.len(), 1);
        assert_eq!(
            branch.warnings,
            vec![format!(
                "event {} points at a missing parent {}; earlier history could not be loaded",
                uuid(2),
                uuid(1)
            )]
        );

        let cycle = vec![
            row(&uuid(1), Some(&uuid(2)), "note", r#"{"text":"a"}"#),
            row(&uuid(2), Some(&uuid(1)), "note", r#"{"text":"b"}"#),
        ];
        let branch = walk_branch(SessionId::new(), Some(&uuid(2)), &fields(&cycle));
        assert_eq!(branch.events.len(), 2);
        assert_eq!(branch.warnings.len(), 1);

        let malformed = vec![row(&uuid(1), None, "user_message", r#"{"txt":1}"#)];
        let branch = walk_branch(SessionId::new(), Some(&uuid(1)), &fields(&malformed));
        assert_eq!(branch.events, vec![]);
        assert_eq!(branch.warnings.len(), 1);
        assert!(branch.warnings[0].starts_with(&format!("skipped unreadable event {}", uuid(1))));
    }

    #[test]
    fn preview_is_the_first_line_shortened() {
        assert_eq!(preview_of("\n  why is it slow?\nmore"), "why is it slow?");
        let preview = preview_of(&"y".repeat(200));
        assert_eq!(preview.chars().count(), PREVIEW_MAX_CHARS);
        assert!(preview.ends_with('…'));
    }
}
