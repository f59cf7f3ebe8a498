//! The conversation screen as a pure state machine.
//!
//! [`App::handle`] takes one [`AppEvent`] (a key, a paste, a resize, a clock tick, a reply
//! from the session task, a piece of a model stream) and returns the [`Effect`]s the driver
//! must perform: persistence jobs for the session task, starting or cancelling a model
//! stream, writing a file, copying to the clipboard, quitting. It does no IO, never awaits
//! and reads no clock: time arrives as [`AppEvent::Tick`]. Rendering (`crate::render`) only
//! reads this state; this module never imports it.
//!
//! `App` routes events to its parts and owns the turn lifecycle:
//! - [`event`]: the events in and effects out;
//! - `composer`: the input editor, prompt history and command popup;
//! - `stream`: the answer in flight and committing its finished paragraphs;
//! - `turn`: beginning, following, cancelling and finishing a turn;
//! - `submit`: what Enter does with a line (a message, a slash command);
//! - `overlay`: the help and the sessions picker, each with its own keys;
//! - `session`: loading, resetting and merging the conversation;
//! - `rewind`: the rewind list, editing an earlier message, `/tree` and `/fork`;
//! - `tools` and `approval`: the tool loop of a turn and the prompt asking about a call;
//! - `scroll`: scrolling the transcript.
//! - `compact`: `/compact`, compacting before a turn, and folding what a summary covers.
//!
//! Invariants:
//! - At most one turn (a request to the model) is active; every stream event carries the
//!   turn number it belongs to and events of a finished or cancelled turn are ignored.
//! - A turn that ends for any reason (finished, failed, cancelled, quit) records exactly one
//!   persistence job for what it produced, before any later job.
//! - Text enters the transcript only through [`Cell`], which sanitises it.

mod approval;
mod compact;
mod composer;
mod event;
mod overlay;
mod rewind;
mod scroll;
mod session;
mod stream;
mod submit;
mod title;
mod tools;
mod turn;

use cairn_core::{Event, ProviderInfo};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;

use crate::commands::CommandSpec;
use crate::layout::Areas;
use crate::transcript::{Cell, CellKind, Transcript};

pub(crate) use self::approval::ApprovalPrompt;
pub(crate) use self::composer::Composer;
pub use self::event::{
    AppEvent, CompactJob, CompactionEvent, Effect, LiveUpdate, Origin, PersistReport, PickerJob,
    PickerReply, SessionJob, SessionView, TreeJob,
};
pub(crate) use self::overlay::{ModelPicker, Overlay};
pub(crate) use self::stream::ActiveTurn;
pub use self::tools::ToolSettings;
#[cfg(test)]
pub(crate) use self::tools::ToolState;

/// Shown when a paste was collapsed into a placeholder.
const PASTE_HINT: &str = "paste collapsed · Ctrl+T expands it · Backspace removes it";

/// Rows the mouse wheel scrolls per notch, when the mouse is captured.
pub(crate) const WHEEL_ROWS: usize = 3;

/// Token counts for the status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UsageTotals {
    /// Input tokens of the latest answer: how full the context is.
    pub(crate) last_input: u64,
    /// Output tokens of every answer in the session.
    pub(crate) output: u64,
}

/// How to start the screen.
pub struct AppInit {
    /// The session shown in the status line.
    pub session: SessionView,
    /// Fresh or resumed, for the status line.
    pub origin: Origin,
    /// The provider the model stream goes to, for the status line and `/model`.
    pub provider: ProviderInfo,
    /// The model put in requests for a session that has none of its own (`/model` sets one).
    pub model: String,
    /// The conversation so far (a resumed session), oldest first.
    pub events: Vec<Event>,
    /// Notes shown after the conversation (the resume note, provider notes).
    pub notes: Vec<String>,
    /// Earlier prompts of this workspace, oldest first.
    pub history: Vec<String>,
    /// Wall-clock time in milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// The terminal's size: columns, rows.
    pub size: (u16, u16),
    /// `events` are only the newest of a resumed session: the session task is loading the
    /// whole branch, and the screen takes it over when [`AppEvent::SessionOpened`] arrives.
    pub loading_rest: bool,
    /// The shared store in use (`postgres host:port/db`), for the status line; `None` for
    /// the local file, which goes unmentioned.
    pub store: Option<String>,
    /// The model that names sessions (`[conversation] title_model`); `None`: the session's.
    pub title_model: Option<String>,
    /// The tools the model may call; `None` when `[tools] enabled = false`.
    pub tools: Option<ToolSettings>,
}

/// The chat screen's state. Outside this crate it is driven only through [`App::new`],
/// [`App::handle`] and drawn as a ratatui widget (`&App` implements `Widget`).
pub struct App {
    pub(crate) session: SessionView,
    pub(crate) origin: Origin,
    pub(crate) provider: ProviderInfo,
    /// The model put in requests: the session's own, else `default_model`.
    pub(crate) model: String,
    default_model: String,
    title_model: Option<String>,
    pub(crate) store: Option<String>,
    pub(crate) transcript: Transcript,
    /// The part of a streaming answer not yet committed to `transcript`.
    pub(crate) live: Option<Cell>,
    pub(crate) turn: Option<ActiveTurn>,
    /// Another terminal answering in this session: who, and its answer so far (shown where
    /// our own live answer would be, while we have none).
    pub(crate) other_turn: Option<(String, Option<Cell>)>,
    /// A message sent while an answer streams, here or in another terminal: it goes out
    /// when that turn ends (Esc takes it back into the input).
    pub(crate) queued: Option<String>,
    next_turn: u64,
    pub(crate) composer: Composer,
    pub(crate) overlay: Overlay,
    /// Rows scrolled up from the bottom of the transcript.
    pub(crate) scroll: usize,
    pub(crate) size: (u16, u16),
    pub(crate) now_ms: i64,
    /// A transient hint under the transcript ("press Ctrl+C again to quit").
    pub(crate) hint: Option<String>,
    quit_armed: bool,
    /// The last turn ended in an error: Enter on an empty line retries.
    last_turn_failed: bool,
    pub(crate) usage: UsageTotals,
    last_answer: Option<String>,
    /// While a resumed session's whole branch loads (only its newest events are on screen):
    /// the notes to show again under the whole conversation. Messages wait in `queued`.
    pub(crate) opening: Option<Vec<String>>,
    /// An earlier message is being edited: the next message goes on a new branch.
    pub(crate) editing: Option<rewind::EditPoint>,
    /// Esc was pressed once with nothing to cancel: a second one opens the rewind list.
    esc_armed: bool,
    pub(crate) tools: Option<tools::ToolState>,
    /// A summary of the conversation is being made.
    pub(crate) compacting: Option<compact::Compacting>,
}

impl App {
    /// The screen for `init`: its conversation and notes in the transcript, an empty input.
    pub fn new(init: AppInit) -> Self {
        let mut app = Self {
            model: init.session.model.clone().unwrap_or(init.model.clone()),
            default_model: init.model,
            title_model: init.title_model,
            session: init.session,
            origin: init.origin,
            provider: init.provider,
            store: init.store,
            transcript: Transcript::default(),
            live: None,
            turn: None,
            other_turn: None,
            queued: None,
            next_turn: 1,
            composer: Composer::new(init.history),
            overlay: Overlay::None,
            scroll: 0,
            size: init.size,
            now_ms: init.now_ms,
            hint: None,
            quit_armed: false,
            last_turn_failed: false,
            usage: UsageTotals::default(),
            last_answer: None,
            opening: init.loading_rest.then(|| init.notes.clone()),
            editing: None,
            esc_armed: false,
            tools: init.tools.map(tools::ToolState::new),
            compacting: None,
        };
        app.load_events(&init.events);
        for note in init.notes {
            app.transcript.push(Cell::new(CellKind::Note, &note));
        }
        app
    }

    /// Replaces the prompt history (tests start from a given one).
    #[cfg(test)]
    pub(crate) fn replace_history(&mut self, history: Vec<String>) {
        self.composer.replace_history(history);
    }

    /// The text in the input editor.
    pub(crate) fn input_text(&self) -> String {
        self.composer.text()
    }

    /// Whether a turn is active here or in another terminal (the driver ticks the clock, for
    /// the spinner, only then).
    pub fn is_busy(&self) -> bool {
        self.turn.is_some()
            || self.other_turn.is_some()
            || self.in_tool_round()
            || self.compacting.is_some()
    }

    /// The slash commands the popup offers for the current input (none under an overlay).
    pub(crate) fn completions(&self) -> Vec<&'static CommandSpec> {
        if !matches!(self.overlay, Overlay::None) {
            return Vec::new();
        }
        self.composer.completions()
    }

    /// Where everything goes on the screen `area`.
    pub(crate) fn areas(&self, area: Rect) -> Areas {
        let prompt = self.tools.as_ref().and_then(|tools| tools.prompt());
        Areas::new(
            area,
            prompt.map_or_else(
                || self.composer.rows(area.width, self.size.1),
                |prompt| prompt.height(area.width),
            ),
            self.is_busy() || self.hint.is_some(),
        )
    }

    /// The answer being written below the transcript: ours, or else another terminal's.
    pub(crate) fn live_cell(&self) -> Option<&Cell> {
        self.live.as_ref().or_else(|| {
            self.other_turn
                .as_ref()
                .and_then(|(_, answer)| answer.as_ref())
        })
    }

    fn screen(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// The provider label with the model currently chosen.
    pub(crate) fn provider_label(&self) -> String {
        ProviderInfo {
            model: self.model.clone(),
            ..self.provider.clone()
        }
        .label()
    }

    /// Handles one event and returns what the driver must do.
    pub fn handle(&mut self, event: AppEvent) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            AppEvent::Key(key) => {
                if key.kind != KeyEventKind::Release {
                    self.on_key(key, &mut effects);
                }
            }
            AppEvent::Paste(text) => {
                if self.on_approval_paste(&text) || self.on_overlay_paste(&text, &mut effects) {
                } else if self.composer.paste(&text) {
                    self.hint = Some(PASTE_HINT.to_owned());
                }
            }
            AppEvent::Wheel { up, rows } => {
                if up {
                    self.scroll_up(rows);
                } else {
                    self.scroll = self.scroll.saturating_sub(rows);
                }
            }
            AppEvent::Arrows { up, count } => self.on_arrows(up, count, &mut effects),
            AppEvent::Resize { width, height } => {
                self.size = (width, height);
                self.clamp_scroll();
            }
            AppEvent::Tick { now_ms } => {
                self.now_ms = now_ms;
                self.tick_tools();
                self.heartbeat_if_due(&mut effects);
            }
            AppEvent::TurnWaiting { turn, text, holder } => {
                self.on_turn_waiting(turn, text, holder)
            }
            AppEvent::Terminate => self.quit(&mut effects),
            AppEvent::RequestReady { turn, mut request } => {
                if let Some(active) = self.turn.as_mut().filter(|active| active.id == turn) {
                    active.streaming = true;
                    active.declared_tools =
                        (self.tools.as_ref()).is_some_and(|tools| tools.declare(&mut request));
                    effects.push(Effect::StartStream { turn, request });
                }
            }
            AppEvent::TurnRejected { turn, reason } => {
                if self.turn.as_ref().is_some_and(|active| active.id == turn) {
                    self.turn = None;
                    self.live = None;
                    self.note(&reason);
                }
            }
            AppEvent::Persisted(report) => self.on_persisted(report),
            AppEvent::LiveUpdate(update) => self.on_live_update(update, &mut effects),
            AppEvent::SessionChanged(view) => self.show_session(view),
            AppEvent::ModelsListed(result) => {
                if let Overlay::Models(picker) = &mut self.overlay {
                    picker.listed(result);
                }
            }
            AppEvent::SessionReset {
                archived,
                view,
                carried,
            } => self.on_session_reset(archived, view, &carried, &mut effects),
            AppEvent::SessionLoaded {
                view,
                events,
                notes,
            } => self.on_session_loaded(view, &events, notes),
            AppEvent::SessionOpened {
                view,
                events,
                notes,
            } => self.on_session_opened(view, &events, notes, &mut effects),
            AppEvent::OpenFailed { view, error } => self.on_open_failed(view, &error),
            AppEvent::SessionsListed {
                all_workspaces,
                result,
            } => self.on_sessions_listed(all_workspaces, result, &mut effects),
            AppEvent::Picker(reply) => self.on_picker_reply(reply, &mut effects),
            AppEvent::SearchResults {
                query,
                all_workspaces,
                result,
            } => {
                if let Overlay::Sessions(picker) = &mut self.overlay
                    && picker.all_workspaces == all_workspaces
                {
                    picker.found(query, result);
                }
            }
            AppEvent::Focus(event_id) => self.focus_event(event_id),
            AppEvent::BranchListed(result) => self.on_branch_listed(result),
            AppEvent::TreeLoaded(result) => self.on_tree_loaded(result),
            AppEvent::JobFailed { what, error } => {
                self.hint = None;
                self.error(&format!("{what} failed: {error}"));
            }
            AppEvent::Renamed { title } => {
                self.note(&format!("Renamed this session to “{title}”."))
            }
            AppEvent::TitleWanted {
                session_id,
                input,
                refresh_of,
            } => self.on_title_wanted(session_id, &input, refresh_of, &mut effects),
            AppEvent::TitleGenerated {
                session_id,
                title,
                source,
            } => effects.push(Effect::Job(SessionJob::SetGeneratedTitle {
                session_id,
                title,
                source,
            })),
            AppEvent::ExportWritten { result } => match result {
                Ok(path) => self.note(&format!("Exported the conversation to {}", path.display())),
                Err(error) => self.error(&format!("export failed: {error}")),
            },
            AppEvent::Stream { turn, event } => self.on_stream(turn, event, &mut effects),
            AppEvent::StreamFailed { turn, error } => {
                if self.turn.as_ref().is_some_and(|active| active.id == turn) {
                    self.on_turn_failed(error, &mut effects);
                }
            }
            AppEvent::ToolPlaced { call_id, place } => {
                self.on_tool_placed(&call_id, place, &mut effects)
            }
            AppEvent::ToolFinished {
                call_id,
                output,
                is_error,
            } => self.on_tool_finished(&call_id, output, is_error, &mut effects),
            AppEvent::StreamEnded { turn } => {
                if self.turn.as_ref().is_some_and(|active| active.id == turn) {
                    self.finish_turn(/*interrupted*/ false, None, &mut effects);
                }
            }
            AppEvent::Compaction(event) => self.on_compaction(event, &mut effects),
        }
        effects
    }

    /// Keys that act on the whole screen are handled here; an open overlay takes every key,
    /// and the composer gets the rest.
    fn on_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let is_ctrl_c = ctrl && key.code == KeyCode::Char('c');
        let esc_was_armed = std::mem::take(&mut self.esc_armed);
        if !is_ctrl_c {
            self.quit_armed = false;
            self.hint = self
                .editing
                .is_some()
                .then(|| rewind::EDITING_HINT.to_owned());
        }
        if self.on_approval_key(key, effects) || self.on_overlay_key(key, effects) {
            return;
        }
        match key.code {
            KeyCode::Char('c') if ctrl => self.ctrl_c(effects),
            // The newest thing is undone first: a queued message, then the answer.
            KeyCode::Esc if self.queued.is_some() => self.unqueue(),
            KeyCode::Esc if self.turn.is_some() => self.cancel_turn(effects),
            KeyCode::Esc if self.in_tool_round() => _ = self.cancel_round(effects),
            KeyCode::Char('o') if ctrl => self.toggle_tool_output(),
            KeyCode::Esc if self.completions().is_empty() => {
                self.esc_armed = esc_was_armed;
                self.on_idle_esc(effects);
            }
            KeyCode::Char('d') if ctrl && self.input_text().is_empty() => self.quit(effects),
            KeyCode::Char('l') if ctrl => effects.push(Effect::ClearScreen),
            KeyCode::Char('z') if ctrl => effects.push(Effect::Suspend),
            KeyCode::Enter if !shift && !alt => {
                if self.composer.accept_completion() {
                    self.submit(effects);
                }
            }
            KeyCode::PageUp => {
                let page = self.page_rows();
                self.scroll_up(page);
            }
            KeyCode::PageDown => {
                let page = self.page_rows();
                self.scroll = self.scroll.saturating_sub(page);
            }
            KeyCode::Home if self.input_text().is_empty() => {
                // On an empty line Home goes to the start of the conversation (End, below,
                // back to its end); clamping stops at the first row.
                self.scroll_up(usize::MAX / 2);
            }
            KeyCode::Char('?') if self.input_text().is_empty() && !ctrl && !alt => {
                self.overlay = Overlay::Help { scroll: 0 };
            }
            _ => {
                if key.code == KeyCode::End {
                    // End also brings the transcript back to the bottom.
                    self.scroll = 0;
                }
                if let Some(hint) = self.composer.handle_key(key) {
                    self.hint = Some(hint.to_owned());
                }
            }
        }
    }

    fn ctrl_c(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.cancel_turn(effects);
        } else if self.cancel_round(effects) {
        } else if !self.input_text().is_empty() {
            self.composer.discard();
        } else if self.quit_armed {
            self.quit(effects);
        } else {
            self.quit_armed = true;
            self.hint = Some("press Ctrl+C again to quit".to_owned());
        }
    }

    fn note(&mut self, text: &str) {
        self.transcript.push(Cell::new(CellKind::Note, text));
        self.scroll = 0;
    }

    fn error(&mut self, text: &str) {
        self.transcript.push(Cell::new(CellKind::Error, text));
        self.scroll = 0;
    }
}

#[cfg(test)]
mod tests;
