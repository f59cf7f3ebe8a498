//! Where a summary cuts the history: the newest [`EventKind::Summary`] on the branch stands
//! for every event up to the one it names, so the model gets it (as context in a user turn)
//! and the events after that one, never the events it stands for.
//!
//! A summary that carries another session forward (`continued_from`) stands for that
//! session, so it covers nothing before itself here.
//!
//! A summary whose `through` event is not on the branch (a branch rewound to before it
//! cannot hold one, but a damaged store might) is ignored: the whole history is sent, and the
//! budget decides what fits.

use crate::event::{Event, EventKind};
use crate::provider::{Message, Part, Role};

/// How the summary is introduced to the model.
pub const SUMMARY_HEADING: &str = "Summary of the conversation so far (the earlier messages \
are condensed into it; the messages after it follow in full):";

/// The newest summary on `events` (oldest first) and the events after the last one it
/// stands for; `None` when the branch has no usable summary.
pub(crate) fn split_at_summary(events: &[Event]) -> Option<(&str, &[Event])> {
    let (text, through) = events.iter().rev().find_map(|event| match &event.kind {
        EventKind::Summary {
            text,
            through,
            continued_from,
            ..
        } => Some((
            text.as_str(),
            if continued_from.is_some() {
                event.id
            } else {
                *through
            },
        )),
        _ => None,
    })?;
    let covered = events.iter().position(|event| event.id == through)?;
    Some((text, &events[covered + 1..]))
}

/// The user turn that carries the summary to the model.
pub(crate) fn summary_message(text: &str) -> Message {
    Message {
        role: Role::User,
        parts: vec![Part::Context {
            text: format!("{SUMMARY_HEADING}\n\n{}", text.trim()),
        }],
    }
}

#[cfg(test)]
mod tests;
