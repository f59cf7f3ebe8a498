//! The conversation tree: every event of a session on every branch, seen as one row per user
//! message. Pure: built from [`SessionEvents`](crate::service::SessionEvents)'s events and
//! the session's head, shared by the chat's `/tree` overlay and `cairn sessions show --tree`.
//!
//! Invariants:
//! - Rows come in pre-order (a row's replies under it, siblings oldest first), so printing
//!   them in order with their [`TreeRow::depth`] draws the tree. A straight conversation stays
//!   at one depth; only the rows after a branch point are indented.
//! - Siblings are ordered by creation time, then id; "newest" means the same order, so the
//!   result never depends on the order events were handed over.
//! - Building is linear in the number of events (one pass down, one pass up), so a session of
//!   10,000 events and 200 branches builds in about a millisecond.

use std::collections::HashMap;

use crate::event::{Event, EventKind};
use crate::ids::EventId;
use crate::session::clean_title;

/// One user message of the tree, with the answers that follow it folded in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRow {
    /// The user message.
    pub event_id: EventId,
    /// The first non-empty line of the message, made one clean line.
    pub text: String,
    pub created_at_ms: i64,
    /// Indentation: how many branch points lie above this row.
    pub depth: usize,
    /// The row this one answers to (the previous user message on its branch), by index.
    pub parent_row: Option<usize>,
    /// Assistant messages after this message and before the next one, on every branch (more
    /// than one after `/retry`).
    pub answers: usize,
    /// The conversation forks inside this row: two answers, or two following messages.
    pub branch_point: bool,
    /// On the path from the first event to the head.
    pub active: bool,
    /// The head is this message or one of its answers.
    pub holds_head: bool,
    /// Where the branch through this row ends: the newest leaf under the message. Switching
    /// to this row moves the head here.
    pub newest_leaf: EventId,
    /// Messages (user and assistant) on the branch that ends at [`TreeRow::newest_leaf`].
    pub branch_messages: usize,
    /// No later user message follows on any branch: the row ends its branch.
    pub ends_branch: bool,
}

/// A session's events arranged as a tree; see the module documentation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationTree {
    pub rows: Vec<TreeRow>,
    /// Leaves: 1 for a conversation that never branched, 0 for an empty one.
    pub branch_count: usize,
    /// Events on the active branch that are messages.
    pub active_messages: usize,
    /// Event ids in pre-order and, per event, its parent and newest leaf, by index.
    ids: Vec<EventId>,
    index: HashMap<EventId, usize>,
    parent: Vec<Option<usize>>,
    newest_leaf: Vec<usize>,
}

impl ConversationTree {
    /// Builds the tree of `events` (any order, every branch) whose head is `head`. An event
    /// whose parent is not among `events` starts a tree of its own.
    pub fn build(events: &[Event], head: Option<EventId>) -> Self {
        let count = events.len();
        let position: HashMap<EventId, usize> = events
            .iter()
            .enumerate()
            .map(|(at, event)| (event.id, at))
            .collect();
        let order_key = |at: &usize| (events[*at].created_at_ms, events[*at].id);
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); count];
        let mut roots = Vec::new();
        for (at, event) in events.iter().enumerate() {
            match event.parent_id.and_then(|parent| position.get(&parent)) {
                Some(&parent) if parent != at => children[parent].push(at),
                _ => roots.push(at),
            }
        }
        for list in &mut children {
            list.sort_unstable_by_key(order_key);
        }
        roots.sort_unstable_by_key(order_key);

        // Pre-order, iteratively: deep sessions must not overflow the stack. A damaged cycle
        // has no root and is never reached.
        let mut pre_order = Vec::with_capacity(count);
        let mut stack: Vec<usize> = roots.iter().rev().copied().collect();
        while let Some(at) = stack.pop() {
            pre_order.push(at);
            stack.extend(children[at].iter().rev().copied());
        }

        let mut parent_of: Vec<Option<usize>> = vec![None; count];
        for (at, list) in children.iter().enumerate() {
            for &child in list {
                parent_of[child] = Some(at);
            }
        }
        // Reverse pre-order sees every child before its parent.
        let mut newest_leaf: Vec<usize> = (0..count).collect();
        for &at in pre_order.iter().rev() {
            let newest = children[at]
                .iter()
                .map(|&child| newest_leaf[child])
                .max_by_key(order_key);
            if let Some(newest) = newest {
                newest_leaf[at] = newest;
            }
        }
        let mut message_depth = vec![0_usize; count];
        // The nearest user message strictly above each event.
        let mut user_above: Vec<Option<usize>> = vec![None; count];
        for &at in &pre_order {
            let own = usize::from(events[at].kind.is_message());
            if let Some(parent) = parent_of[at] {
                message_depth[at] = message_depth[parent] + own;
                user_above[at] = if is_user(&events[parent]) {
                    Some(parent)
                } else {
                    user_above[parent]
                };
            } else {
                message_depth[at] = own;
            }
        }

        let mut on_path = vec![false; count];
        let mut active_messages = 0;
        let head_at = head.and_then(|head| position.get(&head).copied());
        let mut cursor = head_at;
        while let Some(at) = cursor {
            if on_path[at] {
                break;
            }
            on_path[at] = true;
            cursor = parent_of[at];
        }
        if let Some(head_at) = head_at {
            active_messages = message_depth[head_at];
        }
        let head_row_event = head_at.and_then(|at| {
            if is_user(&events[at]) {
                Some(at)
            } else {
                user_above[at]
            }
        });

        let mut row_of_event: Vec<Option<usize>> = vec![None; count];
        let mut rows: Vec<TreeRow> = Vec::new();
        let mut child_rows: Vec<usize> = Vec::new();
        let mut top_rows = 0;
        for &at in &pre_order {
            let event = &events[at];
            let EventKind::UserMessage { text } = &event.kind else {
                continue;
            };
            let parent_row = user_above[at].and_then(|user| row_of_event[user]);
            match parent_row {
                Some(parent) => child_rows[parent] += 1,
                None => top_rows += 1,
            }
            row_of_event[at] = Some(rows.len());
            let leaf = newest_leaf[at];
            rows.push(TreeRow {
                event_id: event.id,
                text: first_line(text),
                created_at_ms: event.created_at_ms,
                depth: 0,
                parent_row,
                answers: 0,
                branch_point: children[at].len() > 1,
                active: on_path[at],
                holds_head: head_row_event == Some(at),
                newest_leaf: events[leaf].id,
                branch_messages: message_depth[leaf],
                ends_branch: true,
            });
            child_rows.push(0);
        }
        for &at in &pre_order {
            if is_user(&events[at]) {
                continue;
            }
            let Some(row) = user_above[at].and_then(|user| row_of_event[user]) else {
                continue;
            };
            if matches!(events[at].kind, EventKind::AssistantMessage { .. }) {
                rows[row].answers += 1;
            }
            if children[at].len() > 1 {
                rows[row].branch_point = true;
            }
        }
        // Rows come in pre-order, so a parent row's depth is known before its children's.
        for at in 0..rows.len() {
            let depth = match rows[at].parent_row {
                Some(parent) => rows[parent].depth + usize::from(child_rows[parent] > 1),
                None => usize::from(top_rows > 1),
            };
            rows[at].depth = depth;
            rows[at].ends_branch = child_rows[at] == 0;
        }

        let branch_count = children.iter().filter(|list| list.is_empty()).count();
        let ids: Vec<EventId> = events.iter().map(|event| event.id).collect();
        Self {
            rows,
            branch_count,
            active_messages,
            ids,
            index: position,
            parent: parent_of,
            newest_leaf,
        }
    }

    /// The newest leaf under `event` (itself when nothing follows it): where the head goes
    /// when a person picks the branch through `event`. `None` for an event not in the tree.
    pub fn newest_leaf_under(&self, event: EventId) -> Option<EventId> {
        let at = *self.index.get(&event)?;
        Some(self.ids[self.newest_leaf[at]])
    }

    /// The events from the first one down to `event`, oldest first: the branch as it was
    /// when `event` was its end. `None` for an event not in the tree.
    pub fn path_to(&self, event: EventId) -> Option<Vec<EventId>> {
        Some(
            self.path_positions(event)?
                .into_iter()
                .map(|at| self.ids[at])
                .collect(),
        )
    }

    /// [`path_to`](Self::path_to) as the events themselves, cloned from `events`, which must
    /// be the events the tree was built from (their positions are the tree's indices, so no
    /// lookup by id is needed).
    pub fn branch_to(&self, events: &[Event], event: EventId) -> Option<Vec<Event>> {
        if events.len() != self.ids.len() {
            return None;
        }
        self.path_positions(event)?
            .into_iter()
            .map(|at| (events[at].id == self.ids[at]).then(|| events[at].clone()))
            .collect()
    }

    /// Positions (in the events given to `build`) from the first event down to `event`.
    fn path_positions(&self, event: EventId) -> Option<Vec<usize>> {
        let mut cursor = Some(*self.index.get(&event)?);
        let mut path = Vec::new();
        while let Some(at) = cursor {
            // A cycle cannot be reached from a root (see `build`), but an event given by id
            // can sit on one in a damaged store.
            if path.len() > self.ids.len() {
                return None;
            }
            path.push(at);
            cursor = self.parent[at];
        }
        path.reverse();
        Some(path)
    }

    /// The index of the row holding the head, if any.
    pub fn head_row(&self) -> Option<usize> {
        self.rows.iter().position(|row| row.holds_head)
    }
}

fn is_user(event: &Event) -> bool {
    matches!(event.kind, EventKind::UserMessage { .. })
}

/// The first non-empty line of a message, made safe to print on one line.
fn first_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    clean_title(line)
}

/// The shortest prefix of each event's id (hex digits, at least eight) that no other event
/// of `events` shares: what to print for a person to type back. Events written in the same
/// millisecond share most of their digits, so some need more than eight.
pub fn short_event_ids(events: &[Event]) -> HashMap<EventId, String> {
    const MIN_SHORT_ID: usize = 8;
    let mut hex: Vec<(String, EventId)> = events
        .iter()
        .map(|event| (event.id.0.simple().to_string(), event.id))
        .collect();
    hex.sort_unstable();
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut short = HashMap::with_capacity(hex.len());
    for at in 0..hex.len() {
        let before = at
            .checked_sub(1)
            .map_or(0, |prev| common(&hex[prev].0, &hex[at].0));
        let after = hex
            .get(at + 1)
            .map_or(0, |next| common(&next.0, &hex[at].0));
        let length = (before.max(after) + 1).clamp(MIN_SHORT_ID, hex[at].0.len());
        short.insert(hex[at].1, hex[at].0[..length].to_owned());
    }
    short
}

/// Why an event prefix typed by a person names no single event of a session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventPrefixError {
    #[error("no event of session {session} starts with `{prefix}`")]
    NoMatch { session: String, prefix: String },
    #[error("`{prefix}` names more than one event of session {session}: {}", .candidates.join(", "))]
    Ambiguous {
        session: String,
        prefix: String,
        /// The matching ids, oldest first, at most ten.
        candidates: Vec<String>,
    },
}

/// The event of `events` whose id (hyphens ignored, case-insensitive) starts with `prefix`.
/// `session` only names the session in the error.
pub fn resolve_event_prefix(
    events: &[Event],
    prefix: &str,
    session: &str,
) -> Result<EventId, EventPrefixError> {
    const MAX_CANDIDATES: usize = 10;
    let wanted: String = prefix
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let mut matches: Vec<&Event> = events
        .iter()
        .filter(|event| !wanted.is_empty() && event.id.0.simple().to_string().starts_with(&wanted))
        .collect();
    match matches.as_slice() {
        [only] => Ok(only.id),
        [] => Err(EventPrefixError::NoMatch {
            session: session.to_owned(),
            prefix: crate::text::neutralize_controls(prefix),
        }),
        _ => {
            matches.sort_by_key(|event| (event.created_at_ms, event.id));
            Err(EventPrefixError::Ambiguous {
                session: session.to_owned(),
                prefix: crate::text::neutralize_controls(prefix),
                candidates: matches
                    .iter()
                    .take(MAX_CANDIDATES)
                    .map(|event| event.id.to_string())
                    .collect(),
            })
        }
    }
}

/// Copies of `branch` (oldest first) for the session `session_id`: new ids, the same content,
/// invocation and times, re-chained so each copy's parent is the copy before it.
pub fn copy_branch(branch: &[Event], session_id: crate::ids::SessionId) -> Vec<Event> {
    let mut parent = None;
    branch
        .iter()
        .map(|event| {
            let copy = Event {
                id: EventId::new(),
                session_id,
                parent_id: parent,
                invocation_id: event.invocation_id,
                created_at_ms: event.created_at_ms,
                kind: event.kind.clone(),
            };
            parent = Some(copy.id);
            copy
        })
        .collect()
}

#[cfg(test)]
mod tests;
