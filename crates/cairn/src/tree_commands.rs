//! The conversation tree on the command line: `cairn sessions show ID --tree [--json]`,
//! `cairn sessions switch`, `cairn sessions fork`, and the event lookup `cairn run --at` uses.
//!
//! Event ids are typed as a full id or a unique prefix; the text tree prints the shortest
//! prefix that is unique in the session, so what a person copies from it works.

use std::collections::HashSet;
use std::fmt::Write as _;

use cairn_core::manager::{fork_session, switch_branch};
use cairn_core::tree::{ConversationTree, resolve_event_prefix, short_event_ids};
use cairn_core::{EventId, EventKind, SessionEvents, SessionService};
use serde_json::json;

use crate::output::human;

/// The event of the session `all` that `typed` names. An unknown or ambiguous prefix is an
/// error naming the candidates; an event of another session is not found here.
pub fn resolve_event(all: &SessionEvents, typed: &str) -> eyre::Result<EventId> {
    Ok(resolve_event_prefix(
        &all.events,
        typed.trim(),
        &all.session.id.to_string(),
    )?)
}

/// The tree as indented text, one row per user message: `*` on the active branch, `>` on
/// the row holding the head, the short event id, the message's first line, folded answers,
/// and where a branch ends, its message count.
pub fn tree_text(all: &SessionEvents) -> String {
    let tree = ConversationTree::build(&all.events, all.session.head_id);
    let short = short_event_ids(&all.events);
    let mut out = String::new();
    for row in &tree.rows {
        let mark = match (row.holds_head, row.active) {
            (true, _) => '>',
            (false, true) => '*',
            (false, false) => ' ',
        };
        let id = short.get(&row.event_id).map_or("", String::as_str);
        let _ = write!(
            out,
            "{}{mark} {id}  {}",
            "  ".repeat(row.depth),
            human(&row.text)
        );
        let mut notes = Vec::new();
        if row.answers > 1 {
            notes.push(format!("{} answers", row.answers));
        }
        if row.ends_branch {
            notes.push(format!("{} messages", row.branch_messages));
        }
        if row.holds_head {
            notes.push("head".to_owned());
        }
        if !notes.is_empty() {
            let _ = write!(out, "  ({})", notes.join(", "));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} {}, {} messages on the active one",
        tree.branch_count,
        if tree.branch_count == 1 {
            "branch"
        } else {
            "branches"
        },
        tree.active_messages
    );
    out
}

/// Every event of every branch as JSON, oldest first: `id`, `parent_id`, `type`, `text`,
/// `created_at` (milliseconds since the epoch) and `active` (on the head's branch).
pub fn tree_json(all: &SessionEvents) -> eyre::Result<String> {
    let tree = ConversationTree::build(&all.events, all.session.head_id);
    let active: HashSet<EventId> = all
        .session
        .head_id
        .and_then(|head| tree.path_to(head))
        .unwrap_or_default()
        .into_iter()
        .collect();
    let mut events: Vec<_> = all.events.iter().collect();
    events.sort_by_key(|event| (event.created_at_ms, event.id));
    let events: Vec<_> = events
        .into_iter()
        .map(|event| {
            json!({
                "id": event.id.to_string(),
                "parent_id": event.parent_id.map(|parent| parent.to_string()),
                "type": event.kind.event_type(),
                "text": event_text(&event.kind),
                "created_at": event.created_at_ms,
                "active": active.contains(&event.id),
            })
        })
        .collect();
    let value = json!({
        "session": all.session,
        "forked_from": all.forked_from.map(|origin| json!({
            "session_id": origin.session_id.to_string(),
            "event_id": origin.event_id.to_string(),
        })),
        "branch_count": tree.branch_count,
        "events": events,
        "warnings": all.warnings,
    });
    Ok(serde_json::to_string_pretty(&value)?)
}

/// The text an event carries, whatever its kind.
fn event_text(kind: &EventKind) -> &str {
    match kind {
        EventKind::UserMessage { text }
        | EventKind::AssistantMessage { text, .. }
        | EventKind::Note { text }
        | EventKind::SystemContext { text }
        | EventKind::Summary { text, .. } => text,
        EventKind::ToolCall { arguments, .. } => arguments,
        EventKind::ToolResult { output, .. } => output,
        EventKind::ToolDecision { decision, .. } => decision.describe(),
        EventKind::Error { message } => message,
    }
}

/// `cairn sessions switch`: returns the new head.
pub async fn switch(
    service: &dyn SessionService,
    all: &SessionEvents,
    typed_event: &str,
) -> eyre::Result<EventId> {
    let event = resolve_event(all, typed_event)?;
    Ok(switch_branch(service, all.session.id, event).await?)
}

/// `cairn sessions fork`: returns the new session's id.
pub async fn fork(
    service: &dyn SessionService,
    all: &SessionEvents,
    typed_event: Option<&str>,
    title: Option<&str>,
    now_ms: i64,
) -> eyre::Result<cairn_core::SessionId> {
    let at = typed_event
        .map(|typed| resolve_event(all, typed))
        .transpose()?;
    let fork = fork_session(service, all.session.id, at, title, now_ms).await?;
    Ok(fork.id)
}
