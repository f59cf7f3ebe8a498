use pretty_assertions::assert_eq;

use super::*;
use crate::ids::{InvocationId, SessionId};

/// Builds events by hand: each call adds one after `parent`, one millisecond later.
struct Builder {
    session: SessionId,
    events: Vec<Event>,
}

impl Builder {
    fn new() -> Self {
        Self {
            session: SessionId::new(),
            events: Vec::new(),
        }
    }

    fn add(&mut self, parent: Option<EventId>, kind: EventKind) -> EventId {
        let event = Event {
            id: EventId::new(),
            session_id: self.session,
            parent_id: parent,
            invocation_id: InvocationId::new(),
            created_at_ms: 1_000 + self.events.len() as i64,
            kind,
        };
        let id = event.id;
        self.events.push(event);
        id
    }

    fn user(&mut self, parent: Option<EventId>, text: &str) -> EventId {
        self.add(parent, EventKind::UserMessage { text: text.into() })
    }

    fn answer(&mut self, parent: EventId, text: &str) -> EventId {
        self.add(
            Some(parent),
            EventKind::AssistantMessage {
                text: text.into(),
                usage: None,
                interrupted: false,
                model: None,
            },
        )
    }
}

/// Row texts with their depth and marks, the way a person reads the tree.
fn outline(tree: &ConversationTree) -> Vec<String> {
    tree.rows
        .iter()
        .map(|row| {
            format!(
                "{}{}{} {} a{}{}{}",
                "  ".repeat(row.depth),
                if row.active { "*" } else { " " },
                if row.holds_head { "@" } else { "" },
                row.text,
                row.answers,
                if row.branch_point { " fork" } else { "" },
                if row.ends_branch {
                    format!(" ({} messages)", row.branch_messages)
                } else {
                    String::new()
                },
            )
        })
        .collect()
}

#[test]
fn a_straight_conversation_is_one_flat_branch() {
    let mut b = Builder::new();
    let q1 = b.user(None, "\n first\nmore");
    let a1 = b.answer(q1, "one");
    let q2 = b.user(Some(a1), "second");
    let a2 = b.answer(q2, "two");
    let tree = ConversationTree::build(&b.events, Some(a2));
    assert_eq!(
        outline(&tree),
        vec!["* first a1", "*@ second a1 (4 messages)"]
    );
    assert_eq!(tree.branch_count, 1);
    assert_eq!(tree.active_messages, 4);
    assert_eq!(tree.head_row(), Some(1));
    assert_eq!(tree.newest_leaf_under(q1), Some(a2));
    assert_eq!(tree.path_to(q2), Some(vec![q1, a1, q2]));
}

#[test]
fn an_edit_and_a_retry_are_branches_with_their_own_counts() {
    let mut b = Builder::new();
    let q1 = b.user(None, "first");
    let a1 = b.answer(q1, "one");
    let q2 = b.user(Some(a1), "second");
    let a2 = b.answer(q2, "two");
    let q3 = b.user(Some(a2), "third");
    let a3 = b.answer(q3, "three");
    // Rewound to the second message and edited it: a sibling of q2.
    let q2b = b.user(Some(a1), "second, edited");
    let a2b = b.answer(q2b, "two b");
    // Then retried that answer: a sibling of a2b, the head.
    let a2c = b.answer(q2b, "two c");
    let shuffled: Vec<Event> = b.events.iter().rev().cloned().collect();
    let tree = ConversationTree::build(&shuffled, Some(a2c));
    assert_eq!(
        outline(&tree),
        vec![
            "* first a1 fork",
            "    second a1",
            "    third a1 (6 messages)",
            "  *@ second, edited a2 fork (4 messages)",
        ]
    );
    assert_eq!(tree.branch_count, 3);
    assert_eq!(tree.active_messages, 4);
    assert_eq!(tree.newest_leaf_under(q1), Some(a2c));
    assert_eq!(tree.newest_leaf_under(q2), Some(a3));
    assert_eq!(tree.newest_leaf_under(a2b), Some(a2b));
    assert_eq!(tree.rows[1].parent_row, Some(0));
    assert_eq!(tree.rows[2].parent_row, Some(1));
}

#[test]
fn an_empty_session_has_no_rows_and_unknown_events_have_no_leaf() {
    let tree = ConversationTree::build(&[], None);
    assert_eq!(tree.rows, vec![]);
    assert_eq!(tree.branch_count, 0);
    assert_eq!(tree.newest_leaf_under(EventId::new()), None);
    assert_eq!(tree.path_to(EventId::new()), None);
}

#[test]
fn prefixes_resolve_to_one_event_or_name_the_candidates() {
    let mut b = Builder::new();
    let q1 = b.user(None, "first");
    b.answer(q1, "one");
    let full = q1.to_string();
    assert_eq!(resolve_event_prefix(&b.events, &full, "s"), Ok(q1));
    let hex = q1.0.simple().to_string();
    assert_eq!(
        resolve_event_prefix(&b.events, &hex.to_uppercase(), "s"),
        Ok(q1)
    );
    // Both v7 ids start with the same millisecond.
    let err = resolve_event_prefix(&b.events, &hex[..4], "s").unwrap_err();
    assert_eq!(
        err,
        EventPrefixError::Ambiguous {
            session: "s".into(),
            prefix: hex[..4].to_owned(),
            candidates: b.events.iter().map(|e| e.id.to_string()).collect(),
        }
    );
    assert_eq!(
        resolve_event_prefix(&b.events, "zz\u{1b}", "s")
            .unwrap_err()
            .to_string(),
        "no event of session s starts with `zz␛`"
    );
}

#[test]
fn a_copied_branch_keeps_content_and_times_with_new_links() {
    let mut b = Builder::new();
    let q1 = b.user(None, "first");
    b.answer(q1, "one");
    let target = SessionId::new();
    let copy = copy_branch(&b.events, target);
    assert_eq!(copy.len(), 2);
    assert_eq!(copy[0].parent_id, None);
    assert_eq!(copy[1].parent_id, Some(copy[0].id));
    for (copy, original) in copy.iter().zip(&b.events) {
        assert_ne!(copy.id, original.id);
        assert_eq!(copy.session_id, target);
        assert_eq!(
            (copy.created_at_ms, &copy.kind, copy.invocation_id),
            (
                original.created_at_ms,
                &original.kind,
                original.invocation_id
            )
        );
    }
}

#[test]
fn short_ids_grow_until_they_are_unique() {
    let mut b = Builder::new();
    let q1 = b.user(None, "first");
    let a1 = b.answer(q1, "one");
    let short = short_event_ids(&b.events);
    let (one, two) = (&short[&q1], &short[&a1]);
    assert!(one.len() >= 8 && two.len() >= 8);
    assert_ne!(one, two);
    assert!(q1.0.simple().to_string().starts_with(one.as_str()));
    assert_eq!(resolve_event_prefix(&b.events, two, "s"), Ok(a1));
}
