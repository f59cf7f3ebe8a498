//! What the session task tells the screen about the session as a whole: a conversation
//! loaded (at start, or picked in `/sessions`), a fresh session after `/new`, and the
//! outcome of a persist, including writes another Cairn made meanwhile.
//!
//! Stored events become transcript cells here, sanitised like everything else, and the
//! token totals and "last answer" are rebuilt from them.

use cairn_core::{Event, EventKind};

use super::event::{LiveUpdate, Origin, PersistReport, SessionView};
use super::{App, Effect, UsageTotals};
use crate::transcript::{Cell, CellKind, ToolCellView};

impl App {
    pub(super) fn on_persisted(&mut self, report: PersistReport) {
        if let Some(error) = report.error {
            self.error(&format!(
                "Could not save to the session store: {error}. Nothing is lost: what is not saved yet stays here and is saved as soon as the store answers again."
            ));
        }
        if let Some(count) = report.saved_after_outage {
            let count = cairn_core::text::plural(count as u64, "event");
            self.note(&format!(
                "The session store answers again: {count} waiting here are saved."
            ));
        }
        if let Some((count, events)) = report.merged {
            self.transcript.clear();
            self.usage = UsageTotals::default();
            self.load_events(&events);
            let count = cairn_core::text::plural(count as u64, "event");
            self.note(&format!(
                "Another Cairn wrote {count} to this session; yours follow them."
            ));
        }
        if report.unarchived {
            self.note("Another terminal had archived this session; writing to it here made it active again.");
        }
        if let Some(view) = report.moved_to {
            self.session = view;
            self.origin = Origin::New;
            self.note(
                "Another terminal deleted this session. What you had not saved yet is kept in a new session, this one.",
            );
        }
    }

    /// Another process changed this session: its new messages follow, marked as theirs, and
    /// its answer in progress shows until it is stored.
    pub(super) fn on_live_update(&mut self, update: LiveUpdate, effects: &mut Vec<Effect>) {
        if let Some((view, kept)) = update.deleted {
            self.session = view;
            self.origin = Origin::New;
            self.other_turn = None;
            self.clear_conversation();
            self.load_events(&kept);
            self.note(if kept.is_empty() {
                "Another terminal deleted this session; what you send next starts a new one."
            } else {
                "Another terminal deleted this session. What you had not saved yet is kept in a new session, this one."
            });
            return;
        }
        let shown = update
            .appended
            .iter()
            .filter(|event| !matches!(event.kind, EventKind::SystemContext { .. }))
            .count();
        if shown > 0 {
            self.note("From another terminal:");
            self.load_events(&update.appended);
        }
        self.other_turn = update.other_turn.map(|(holder, answer)| {
            let holder = crate::sanitize::sanitize(&holder).into_owned();
            let cell = (!answer.is_empty()).then(|| {
                Cell::new(
                    CellKind::Assistant {
                        first: true,
                        interrupted: false,
                    },
                    &answer,
                )
            });
            (holder, cell)
        });
        if self.other_turn.is_none()
            && self.turn.is_none()
            && let Some(message) = self.queued.take()
        {
            self.send_message(message, effects);
        }
        if update.archived_elsewhere {
            self.note(
                "Another terminal archived this session; writing to it here makes it active again.",
            );
        }
    }

    /// `/new` is done: an empty screen for `view` (but for what it `carried` over from the
    /// old session, with `/new --summary`), and where the old session went.
    pub(super) fn on_session_reset(
        &mut self,
        archived: Option<String>,
        view: SessionView,
        carried: &[Event],
        effects: &mut Vec<Effect>,
    ) {
        self.show_session(view);
        self.origin = Origin::New;
        self.clear_conversation();
        self.load_events(carried);
        let start = if carried.is_empty() {
            "Started a new session."
        } else {
            "Started a new session from a summary of the previous one; the model gets the summary before your next message."
        };
        let text = match archived {
            Some(id) => {
                format!("{start} The previous one was archived; `cairn -s {id}` brings it back.")
            }
            None => start.to_owned(),
        };
        self.note(&text);
        if self.compacting.take().is_some() {
            // A message typed while the summary was made goes to the new session.
            self.send_queued(effects);
        }
    }

    /// A session picked in `/sessions` replaces the one on screen.
    pub(super) fn on_session_loaded(
        &mut self,
        view: SessionView,
        events: &[Event],
        notes: Vec<String>,
    ) {
        self.show_session(view);
        self.origin = Origin::Resumed;
        self.clear_conversation();
        self.load_events(events);
        for note in notes {
            self.note(&note);
        }
        if let Some(model) = &self.session.model {
            let text = format!("Using {model}, the model chosen for this session.");
            self.note(&text);
        }
    }

    /// The session on screen is `view`; requests go to its model, else the default one.
    pub(super) fn show_session(&mut self, view: SessionView) {
        self.model = view
            .model
            .clone()
            .unwrap_or_else(|| self.default_model.clone());
        self.session = view;
    }

    /// The session resumed at start is loaded whole: the conversation is drawn again from all
    /// of it (what was on screen were its newest events), with the notes shown so far and the
    /// load's own, and a message typed meanwhile goes out.
    pub(super) fn on_session_opened(
        &mut self,
        view: SessionView,
        events: &[Event],
        notes: Vec<String>,
        effects: &mut Vec<Effect>,
    ) {
        let shown_notes = self.opening.take().unwrap_or_default();
        self.session = view;
        let scroll = self.scroll;
        self.clear_conversation();
        self.load_events(events);
        for note in shown_notes.iter().chain(&notes) {
            self.note(note);
        }
        // Rows scrolled up from the bottom: the same place, since the bottom is unchanged
        // unless the load added notes.
        self.scroll = if notes.is_empty() { scroll } else { 0 };
        if self.other_turn.is_none()
            && self.turn.is_none()
            && let Some(message) = self.queued.take()
        {
            self.send_message(message, effects);
        }
    }

    /// The session resumed at start could not be loaded: the chat goes on with a fresh one,
    /// and says so rather than leaving the old conversation on screen.
    pub(super) fn on_open_failed(&mut self, view: SessionView, error: &str) {
        self.opening = None;
        self.session = view;
        self.origin = Origin::New;
        let queued = self.queued.take();
        self.clear_conversation();
        self.error(&format!(
            "could not open the session: {error}. This is a new session."
        ));
        if let Some(text) = queued
            && self.composer.text().is_empty()
        {
            self.composer.paste(&text);
            self.hint = Some("your message was not sent; Enter sends it to the new session".into());
        }
    }

    fn clear_conversation(&mut self) {
        self.hint = None;
        self.editing = None;
        self.transcript.clear();
        self.live = None;
        self.turn = None;
        self.scroll = 0;
        self.usage = UsageTotals::default();
        self.last_answer = None;
        self.last_turn_failed = false;
    }

    /// Adds cells for stored events (sanitised like everything else).
    pub(super) fn load_events(&mut self, events: &[Event]) {
        self.last_turn_failed = false;
        // How many cells there were before each event, to fold a summary's share.
        let mut cells_before: Vec<(cairn_core::EventId, usize)> = Vec::new();
        for event in events {
            cells_before.push((event.id, self.transcript.cells().len()));
            let cell = match &event.kind {
                EventKind::UserMessage { text } => {
                    self.last_turn_failed = false;
                    Cell::new(CellKind::User, text)
                }
                EventKind::AssistantMessage {
                    text,
                    usage,
                    interrupted,
                    ..
                } => {
                    if let Some(usage) = usage {
                        self.usage.last_input = usage.input_tokens;
                        self.usage.output += usage.output_tokens;
                    }
                    if text.is_empty() {
                        // An answer made only of tool calls: the calls show themselves.
                        continue;
                    }
                    self.last_answer = Some(text.clone());
                    Cell::new(
                        CellKind::Assistant {
                            first: true,
                            interrupted: *interrupted,
                        },
                        text,
                    )
                }
                EventKind::ToolCall {
                    call_id,
                    name,
                    arguments,
                } => Cell::tool(
                    ToolCellView::new(call_id, name, arguments),
                    self.tools.as_ref().is_some_and(|tools| tools.expanded),
                ),
                EventKind::Note { text } => Cell::new(CellKind::Note, text),
                EventKind::Error { message } => {
                    self.last_turn_failed = true;
                    Cell::new(CellKind::Error, message)
                }
                EventKind::Summary {
                    continued_from: Some(from),
                    ..
                } => Cell::new(
                    CellKind::Note,
                    &cairn_core::compact::continuation_line(from),
                ),
                EventKind::Summary {
                    messages, through, ..
                } => {
                    // What follows `through` (a question asked before the summary was made)
                    // stays in sight.
                    let folded = cells_before
                        .iter()
                        .position(|(id, _)| id == through)
                        .and_then(|index| cells_before.get(index + 1))
                        .map_or(self.transcript.cells().len(), |(_, cells)| *cells);
                    self.transcript.fold_first(folded, *messages);
                    continue;
                }
                EventKind::ToolResult { .. } | EventKind::ToolDecision { .. } => {
                    self.show_tool_event(&event.kind);
                    continue;
                }
                EventKind::SystemContext { .. } => continue,
            };
            self.transcript.push(cell.with_event_id(event.id));
        }
    }
}
