//! The conversation screen as a pure state machine.
//!
//! [`App::handle`] takes one [`AppEvent`] (a key, a paste, a resize, a clock tick, a reply
//! from the session task, a piece of a model stream) and returns the [`Effect`]s the driver
//! must perform: persistence jobs for the session task, starting or cancelling a model
//! stream, writing a file, copying to the clipboard, quitting. It does no IO, never awaits
//! and reads no clock: time arrives as [`AppEvent::Tick`]. Rendering lives in
//! [`crate::render`] and only reads this state.
//!
//! Invariants:
//! - At most one turn (a request to the model) is active; every stream event carries the
//!   turn number it belongs to and events of a finished or cancelled turn are ignored.
//! - A turn that ends for any reason (finished, failed, cancelled, quit) records exactly one
//!   persistence job for what it produced, before any later job.
//! - Text enters the transcript only through [`Cell`], which sanitises it.

use std::path::PathBuf;

use cairn_core::provider::FinishReason;
use cairn_core::turn::{AnswerAccumulator, TurnEnd, answer_events};
use cairn_core::{
    Event, EventKind, ModelRequest, ProviderError, ProviderInfo, SessionId, SessionSummary,
    StreamEvent,
};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use crate::commands::{self, Command, Submission};
use crate::picker::Picker;
use crate::transcript::{Cell, CellKind, Transcript};

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: usize = 3;
/// The most rows the input editor grows to.
const MAX_INPUT_ROWS: u16 = 8;

/// What the status line shows about the session; refreshed by the session task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub id: SessionId,
    pub title: String,
    /// The workspace folder, absolute.
    pub directory: PathBuf,
    /// The workspace folder for display (`~/...`).
    pub display_directory: String,
    pub stored: bool,
}

/// Whether the session on screen was started fresh or picked up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    New,
    Resumed,
}

/// Everything that can happen to the screen.
#[derive(Debug)]
pub enum AppEvent {
    Key(KeyEvent),
    Paste(String),
    /// The mouse wheel; `up` scrolls towards older messages.
    Wheel {
        up: bool,
    },
    Resize {
        width: u16,
        height: u16,
    },
    /// Wall-clock time in milliseconds since the Unix epoch.
    Tick {
        now_ms: i64,
    },
    /// SIGTERM or SIGHUP: leave as if the user quit.
    Terminate,
    /// The session task persisted the user message (or branched for a retry) and built the
    /// request for `turn`.
    RequestReady {
        turn: u64,
        request: ModelRequest,
    },
    /// A turn could not be started (for example `/retry` with nothing to retry).
    TurnRejected {
        turn: u64,
        reason: String,
    },
    Persisted(PersistReport),
    SessionChanged(SessionView),
    /// `/new` done: `archived` is the id of the session put away, if it had been written,
    /// shortened only as far as it stays unambiguous (it is shown as `cairn -s <id>`).
    SessionReset {
        archived: Option<String>,
        view: SessionView,
    },
    /// A session picked in `/sessions` is now the current one.
    SessionLoaded {
        view: SessionView,
        events: Vec<Event>,
        notes: Vec<String>,
    },
    SessionsListed {
        all_workspaces: bool,
        result: Result<Vec<SessionSummary>, String>,
    },
    /// A session-task job other than persisting failed; shown as an error.
    JobFailed {
        what: String,
        error: String,
    },
    Renamed {
        title: String,
    },
    ExportWritten {
        result: Result<PathBuf, String>,
    },
    Stream {
        turn: u64,
        event: StreamEvent,
    },
    StreamFailed {
        turn: u64,
        error: ProviderError,
    },
    StreamEnded {
        turn: u64,
    },
}

/// What a persist did, as the screen needs to know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersistReport {
    /// Set when writing failed; the events stay in memory and are retried with the next job.
    pub error: Option<String>,
    /// Set when another Cairn wrote to this session meanwhile: how many events it wrote and
    /// the whole branch as it is now.
    pub merged: Option<(usize, Vec<Event>)>,
}

/// Work for the session task, which owns the `SessionManager` and runs jobs in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionJob {
    /// Push and persist the user message, then build the request for `turn`.
    SendUserMessage {
        turn: u64,
        text: String,
        model: String,
    },
    /// Branch from the last user message and build the request for `turn` again.
    Retry {
        turn: u64,
        model: String,
    },
    /// Push and persist these events (an answer, an error, tool calls).
    Record(Vec<EventKind>),
    NewSession,
    Resume(SessionId),
    Rename(String),
    ListSessions {
        all_workspaces: bool,
    },
    /// Write the conversation as Markdown to this file.
    Export(PathBuf),
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Job(SessionJob),
    StartStream {
        turn: u64,
        request: ModelRequest,
    },
    CancelStream {
        turn: u64,
    },
    SaveHistory(String),
    CopyToClipboard(String),
    /// Ctrl+L: clear the terminal and draw everything again.
    ClearScreen,
    Quit,
}

#[derive(Debug)]
pub enum Overlay {
    None,
    /// `scroll`: help rows scrolled past at the top.
    Help {
        scroll: usize,
    },
    Sessions(Picker),
}

/// The request in flight.
#[derive(Debug)]
pub struct ActiveTurn {
    pub id: u64,
    pub started_ms: i64,
    /// The stream was started (the request is with the provider).
    pub streaming: bool,
    /// Everything the model said so far, raw: text, tool calls, usage, finish reason.
    answer: AnswerAccumulator,
    /// Byte offset up to which the answer text has been committed to transcript cells.
    committed: usize,
    /// "retrying in 2s: ..." while the provider retries.
    pub retrying: Option<String>,
}

impl ActiveTurn {
    pub fn has_text(&self) -> bool {
        !self.answer.text.is_empty()
    }
}

/// Token counts for the status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Input tokens of the latest answer: how full the context is.
    pub last_input: u64,
    /// Output tokens of every answer in the session.
    pub output: u64,
}

/// How to start the screen.
pub struct AppInit {
    pub session: SessionView,
    pub origin: Origin,
    pub provider: ProviderInfo,
    pub model: String,
    /// The conversation so far (a resumed session), oldest first.
    pub events: Vec<Event>,
    /// Notes shown after the conversation (the resume note, provider notes).
    pub notes: Vec<String>,
    /// Earlier prompts of this workspace, oldest first.
    pub history: Vec<String>,
    pub now_ms: i64,
    pub size: (u16, u16),
}

pub struct App {
    pub session: SessionView,
    pub origin: Origin,
    pub provider: ProviderInfo,
    pub model: String,
    pub transcript: Transcript,
    /// The part of a streaming answer not yet committed to `transcript`.
    pub live: Option<Cell>,
    pub turn: Option<ActiveTurn>,
    next_turn: u64,
    pub input: TextArea<'static>,
    history: Vec<String>,
    /// Position while browsing history with Up/Down, and the draft it replaced.
    history_position: Option<usize>,
    history_draft: String,
    pub popup_selected: usize,
    /// Esc closed the command popup; typing opens it again.
    popup_dismissed: bool,
    /// The highlight was moved with Up/Down, so Tab takes that command.
    popup_picked: bool,
    /// Tab was pressed on an ambiguous prefix; further Tabs move the highlight.
    popup_cycling: bool,
    pub overlay: Overlay,
    /// Rows scrolled up from the bottom of the transcript.
    pub scroll: usize,
    pub size: (u16, u16),
    pub now_ms: i64,
    /// A transient hint under the transcript ("press Ctrl+C again to quit").
    pub hint: Option<String>,
    quit_armed: bool,
    /// The last turn ended in an error: Enter on an empty line retries.
    last_turn_failed: bool,
    pub usage: UsageTotals,
    last_answer: Option<String>,
}

/// The screen's regions for a terminal size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub transcript: Rect,
    /// Spinner, retry status or hint; zero height when there is none.
    pub activity: Rect,
    pub rule: Rect,
    pub input: Rect,
    pub status: Rect,
}

fn new_input() -> TextArea<'static> {
    let mut input = TextArea::default();
    input.set_wrap_mode(WrapMode::WordOrGlyph);
    input.set_cursor_line_style(ratatui::style::Style::default());
    input.set_placeholder_text("Ask anything · / for commands · ? for keys");
    input
}

impl App {
    pub fn new(init: AppInit) -> Self {
        let mut app = Self {
            session: init.session,
            origin: init.origin,
            provider: init.provider,
            model: init.model,
            transcript: Transcript::default(),
            live: None,
            turn: None,
            next_turn: 1,
            input: new_input(),
            history: init.history,
            history_position: None,
            history_draft: String::new(),
            popup_selected: 0,
            popup_dismissed: false,
            popup_picked: false,
            popup_cycling: false,
            overlay: Overlay::None,
            scroll: 0,
            size: init.size,
            now_ms: init.now_ms,
            hint: None,
            quit_armed: false,
            last_turn_failed: false,
            usage: UsageTotals::default(),
            last_answer: None,
        };
        app.load_events(&init.events);
        for note in init.notes {
            app.transcript.push(Cell::new(CellKind::Note, &note));
        }
        app
    }

    /// Replaces the prompt history (tests start from a given one).
    #[cfg(test)]
    pub fn replace_history(&mut self, history: Vec<String>) {
        self.history = history;
        self.history_position = None;
    }

    /// The text in the input editor.
    pub fn input_text(&self) -> String {
        self.input.lines().join("\n")
    }

    pub fn is_busy(&self) -> bool {
        self.turn.is_some()
    }

    /// The slash commands the popup offers for the current input.
    pub fn completions(&self) -> Vec<&'static commands::CommandSpec> {
        if self.input.lines().len() != 1
            || !matches!(self.overlay, Overlay::None)
            || self.popup_dismissed
        {
            return Vec::new();
        }
        commands::completions(&self.input.lines()[0])
    }

    /// Where everything goes on a `width` x `height` screen.
    pub fn areas(&self, area: Rect) -> Areas {
        let mut remaining = area.height;
        let mut take = |rows: u16| {
            let rows = rows.min(remaining);
            remaining -= rows;
            rows
        };
        let status_rows = take(1);
        let input_rows = take(self.input_rows(area.width));
        let rule_rows = take(1);
        let activity_rows = take(u16::from(self.turn.is_some() || self.hint.is_some()));
        let transcript_rows = remaining;
        let row = |y: u16, height: u16| Rect::new(area.x, y, area.width, height);
        let transcript = row(area.y, transcript_rows);
        let activity = row(transcript.bottom(), activity_rows);
        let rule = row(activity.bottom(), rule_rows);
        let input = row(rule.bottom(), input_rows);
        let status = row(input.bottom(), status_rows);
        Areas {
            transcript,
            activity,
            rule,
            input,
            status,
        }
    }

    /// Rows the input needs when soft-wrapped to `width` (minus its two-column prompt), as
    /// the editor itself wraps. Past the cap the editor scrolls to keep the cursor in view.
    fn input_rows(&self, width: u16) -> u16 {
        let inner = usize::from(width.saturating_sub(2));
        let rows = crate::wrap::editor_rows(self.input.lines(), inner);
        let cap = MAX_INPUT_ROWS.min((self.size.1 / 3).max(1));
        u16::try_from(rows).unwrap_or(u16::MAX).clamp(1, cap)
    }

    fn screen(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
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
                if let Overlay::Sessions(picker) = &mut self.overlay {
                    picker.filter.push_str(text.lines().next().unwrap_or(""));
                    picker.selected = 0;
                } else {
                    let text = text.replace("\r\n", "\n").replace('\r', "\n");
                    self.input.insert_str(text);
                    self.history_position = None;
                }
            }
            AppEvent::Wheel { up } => {
                if up {
                    self.scroll_up(WHEEL_ROWS);
                } else {
                    self.scroll = self.scroll.saturating_sub(WHEEL_ROWS);
                }
            }
            AppEvent::Resize { width, height } => {
                self.size = (width, height);
                self.clamp_scroll();
            }
            AppEvent::Tick { now_ms } => self.now_ms = now_ms,
            AppEvent::Terminate => self.quit(&mut effects),
            AppEvent::RequestReady { turn, request } => {
                if let Some(active) = self.turn.as_mut().filter(|active| active.id == turn) {
                    active.streaming = true;
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
            AppEvent::SessionChanged(view) => self.session = view,
            AppEvent::SessionReset { archived, view } => {
                self.session = view;
                self.origin = Origin::New;
                self.clear_conversation();
                let text = match archived {
                    Some(id) => format!(
                        "Started a new session. The previous one was archived; `cairn -s {id}` brings it back."
                    ),
                    None => "Started a new session.".to_owned(),
                };
                self.note(&text);
            }
            AppEvent::SessionLoaded {
                view,
                events,
                notes,
            } => {
                self.session = view;
                self.origin = Origin::Resumed;
                self.clear_conversation();
                self.load_events(&events);
                for note in notes {
                    self.note(&note);
                }
            }
            AppEvent::SessionsListed {
                all_workspaces,
                result,
            } => {
                if let Overlay::Sessions(picker) = &mut self.overlay
                    && picker.all_workspaces == all_workspaces
                {
                    match result {
                        Ok(items) => {
                            picker.items = Some(items);
                            picker.error = None;
                        }
                        Err(error) => {
                            picker.items = Some(Vec::new());
                            picker.error = Some(error);
                        }
                    }
                    picker.selected = 0;
                }
            }
            AppEvent::JobFailed { what, error } => {
                self.hint = None;
                self.error(&format!("{what} failed: {error}"));
            }
            AppEvent::Renamed { title } => {
                self.note(&format!("Renamed this session to “{title}”."))
            }
            AppEvent::ExportWritten { result } => match result {
                Ok(path) => self.note(&format!("Exported the conversation to {}", path.display())),
                Err(error) => self.error(&format!("export failed: {error}")),
            },
            AppEvent::Stream { turn, event } => self.on_stream(turn, event, &mut effects),
            AppEvent::StreamFailed { turn, error } => {
                if self.turn.as_ref().is_some_and(|active| active.id == turn) {
                    self.finish_turn(/*interrupted*/ true, Some(error), &mut effects);
                }
            }
            AppEvent::StreamEnded { turn } => {
                if self.turn.as_ref().is_some_and(|active| active.id == turn) {
                    self.finish_turn(/*interrupted*/ false, None, &mut effects);
                }
            }
        }
        effects
    }

    fn on_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let is_ctrl_c = ctrl && key.code == KeyCode::Char('c');
        if !is_ctrl_c {
            self.quit_armed = false;
            self.hint = None;
        }
        match &self.overlay {
            Overlay::Help { scroll } => {
                let max = crate::render::help_max_scroll(self.screen());
                let page = usize::from(self.size.1.saturating_sub(4)).max(1);
                let scroll = match key.code {
                    KeyCode::Esc | KeyCode::Char('?' | 'q') => None,
                    KeyCode::Char('c') if ctrl => None,
                    KeyCode::Up | KeyCode::Char('k') => Some(scroll.saturating_sub(1)),
                    KeyCode::Down | KeyCode::Char('j') => Some(scroll + 1),
                    KeyCode::PageUp => Some(scroll.saturating_sub(page)),
                    KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll + page),
                    KeyCode::Home => Some(0),
                    KeyCode::End => Some(max),
                    _ => Some(*scroll),
                };
                self.overlay = match scroll {
                    Some(scroll) => Overlay::Help {
                        scroll: scroll.min(max),
                    },
                    None => Overlay::None,
                };
                return;
            }
            Overlay::Sessions(_) => {
                self.on_picker_key(key, effects);
                return;
            }
            Overlay::None => {}
        }
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let completions = self.completions();
        match key.code {
            KeyCode::Char('c') if ctrl => self.ctrl_c(effects),
            KeyCode::Esc => {
                if self.turn.is_some() {
                    self.cancel_turn(effects);
                } else if !completions.is_empty() {
                    // Only the popup goes; what was typed stays.
                    self.popup_dismissed = true;
                }
            }
            KeyCode::Char('d') if ctrl => {
                if self.input_text().is_empty() {
                    self.quit(effects);
                } else {
                    self.input.delete_next_char();
                }
            }
            KeyCode::Char('l') if ctrl => effects.push(Effect::ClearScreen),
            KeyCode::Char('j') if ctrl => self.input.insert_newline(),
            KeyCode::Enter if shift || alt => self.input.insert_newline(),
            KeyCode::Enter => {
                if let Some(spec) = completions.get(self.popup_selected) {
                    let typed = self.input_text();
                    let exact = commands::COMMANDS
                        .iter()
                        .any(|command| typed.eq_ignore_ascii_case(&format!("/{}", command.name)));
                    if !exact {
                        self.complete_command(spec.name, spec.args);
                        if !spec.args.is_empty() && !spec.args.starts_with('[') {
                            return;
                        }
                    }
                }
                self.submit(effects);
            }
            KeyCode::Tab if !completions.is_empty() => self.tab_complete(&completions),
            KeyCode::Up if !completions.is_empty() => {
                self.popup_selected = self.popup_selected.saturating_sub(1);
                self.popup_picked = true;
            }
            KeyCode::Down if !completions.is_empty() => {
                self.popup_selected = (self.popup_selected + 1).min(completions.len() - 1);
                self.popup_picked = true;
            }
            KeyCode::Up if self.input.cursor().0 == 0 && !alt && !ctrl => self.history_back(),
            KeyCode::Down
                if self.input.cursor().0 + 1 >= self.input.lines().len() && !alt && !ctrl =>
            {
                self.history_forward();
            }
            KeyCode::PageUp => {
                let page = self.page_rows();
                self.scroll_up(page);
            }
            KeyCode::PageDown => {
                let page = self.page_rows();
                self.scroll = self.scroll.saturating_sub(page);
            }
            KeyCode::End => {
                self.scroll = 0;
                self.input.move_cursor(if ctrl {
                    CursorMove::Bottom
                } else {
                    CursorMove::End
                });
            }
            KeyCode::Home => self.input.move_cursor(if ctrl {
                CursorMove::Top
            } else {
                CursorMove::Head
            }),
            KeyCode::Char('?') if self.input_text().is_empty() && !ctrl && !alt => {
                self.overlay = Overlay::Help { scroll: 0 };
            }
            KeyCode::Char('a') if ctrl => self.input.move_cursor(CursorMove::Head),
            KeyCode::Char('e') if ctrl => self.input.move_cursor(CursorMove::End),
            KeyCode::Char('w') if ctrl => {
                self.input.delete_word();
            }
            KeyCode::Backspace if ctrl || alt => {
                self.input.delete_word();
            }
            KeyCode::Char('u') if ctrl => {
                self.input.delete_line_by_head();
            }
            KeyCode::Char('k') if ctrl => {
                self.input.delete_line_by_end();
            }
            KeyCode::Left if ctrl || alt => self.input.move_cursor(CursorMove::WordBack),
            KeyCode::Right if ctrl || alt => self.input.move_cursor(CursorMove::WordForward),
            KeyCode::Char('b') if alt => self.input.move_cursor(CursorMove::WordBack),
            KeyCode::Char('f') if alt => self.input.move_cursor(CursorMove::WordForward),
            _ => {
                // Moving the cursor in a recalled prompt keeps the place in the history;
                // only an edit makes it a new draft.
                let before = self.input.lines().to_vec();
                self.input.input(key);
                if self.input.lines() != before.as_slice() {
                    self.history_position = None;
                    self.popup_dismissed = false;
                    self.popup_picked = false;
                    self.popup_cycling = false;
                }
                self.popup_selected = self
                    .popup_selected
                    .min(self.completions().len().saturating_sub(1));
            }
        }
    }

    fn complete_command(&mut self, name: &str, args: &str) {
        self.input = new_input();
        let suffix = if args.is_empty() { "" } else { " " };
        self.input.insert_str(format!("/{name}{suffix}"));
        self.popup_selected = 0;
        self.popup_picked = false;
        self.popup_cycling = false;
    }

    /// Tab in the command popup: one match completes; several complete their common
    /// prefix, then Tab moves the highlight through them (Enter runs the highlighted one).
    /// A command picked with Up/Down completes.
    fn tab_complete(&mut self, completions: &[&'static commands::CommandSpec]) {
        let selected = self.popup_selected.min(completions.len() - 1);
        if completions.len() == 1 || self.popup_picked {
            let spec = completions[selected];
            self.complete_command(spec.name, spec.args);
            return;
        }
        let typed = self.input_text().to_ascii_lowercase();
        let common = completions
            .iter()
            .map(|spec| spec.name)
            .reduce(|common, name| {
                let length = common
                    .bytes()
                    .zip(name.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &common[..length]
            })
            .unwrap_or("");
        if typed.len() < common.len() + 1 {
            self.input = new_input();
            self.input.insert_str(format!("/{common}"));
            self.popup_selected = 0;
        } else if self.popup_cycling {
            self.popup_selected = (selected + 1) % completions.len();
        } else {
            self.popup_cycling = true;
            self.hint =
                Some("Tab again for the next match · Enter runs the highlighted one".into());
        }
    }

    fn on_picker_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) {
        let Overlay::Sessions(picker) = &mut self.overlay else {
            return;
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let now_ms = self.now_ms;
        match key.code {
            KeyCode::Esc => self.overlay = Overlay::None,
            KeyCode::Char('c') if ctrl => self.overlay = Overlay::None,
            KeyCode::Tab => Self::toggle_all_workspaces(picker, effects),
            KeyCode::Char('a') if ctrl => Self::toggle_all_workspaces(picker, effects),
            KeyCode::Up => picker.move_selection(-1, now_ms),
            KeyCode::Down => picker.move_selection(1, now_ms),
            KeyCode::PageUp => picker.move_selection(-10, now_ms),
            KeyCode::PageDown => picker.move_selection(10, now_ms),
            KeyCode::Backspace => {
                picker.filter.pop();
                picker.selected = 0;
            }
            KeyCode::Char(c) if !ctrl => {
                picker.filter.push(c);
                picker.selected = 0;
            }
            KeyCode::Enter => {
                let Some(row) = picker.selected_row(now_ms) else {
                    return;
                };
                self.overlay = Overlay::None;
                if row.current {
                    return;
                }
                if self.turn.is_some() {
                    self.cancel_turn(effects);
                }
                self.hint = Some(format!("opening session {}…", row.id.short()));
                effects.push(Effect::Job(SessionJob::Resume(row.id)));
            }
            _ => {}
        }
    }

    fn toggle_all_workspaces(picker: &mut Picker, effects: &mut Vec<Effect>) {
        picker.all_workspaces = !picker.all_workspaces;
        picker.items = None;
        picker.selected = 0;
        effects.push(Effect::Job(SessionJob::ListSessions {
            all_workspaces: picker.all_workspaces,
        }));
    }

    fn ctrl_c(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.cancel_turn(effects);
        } else if !self.input_text().is_empty() {
            self.input = new_input();
            self.history_position = None;
        } else if self.quit_armed {
            self.quit(effects);
        } else {
            self.quit_armed = true;
            self.hint = Some("press Ctrl+C again to quit".to_owned());
        }
    }

    fn submit(&mut self, effects: &mut Vec<Effect>) {
        let text = self.input_text();
        if text.trim().is_empty() {
            if self.last_turn_failed && self.turn.is_none() {
                self.retry(effects);
            }
            return;
        }
        match commands::parse(&text) {
            Submission::Message(message) => {
                if self.turn.is_some() {
                    self.hint = Some("an answer is streaming · Esc cancels".into());
                    return;
                }
                self.input = new_input();
                self.push_history(&text);
                effects.push(Effect::SaveHistory(text));
                self.transcript.push(Cell::new(CellKind::User, &message));
                let turn = self.begin_turn();
                effects.push(Effect::Job(SessionJob::SendUserMessage {
                    turn,
                    text: message,
                    model: self.model.clone(),
                }));
            }
            Submission::Command(command) => {
                self.input = new_input();
                self.push_history(&text);
                effects.push(Effect::SaveHistory(text));
                self.run_command(command, effects);
            }
            Submission::Invalid(reason) => {
                self.input = new_input();
                self.error(&reason);
            }
        }
        self.scroll = 0;
    }

    fn push_history(&mut self, text: &str) {
        self.history_position = None;
        if self.history.last().map(String::as_str) != Some(text) {
            self.history.push(text.to_owned());
        }
    }

    fn begin_turn(&mut self) -> u64 {
        let id = self.next_turn;
        self.next_turn += 1;
        self.last_turn_failed = false;
        self.turn = Some(ActiveTurn {
            id,
            started_ms: self.now_ms,
            streaming: false,
            answer: AnswerAccumulator::new(),
            committed: 0,
            retrying: None,
        });
        self.scroll = 0;
        id
    }

    fn run_command(&mut self, command: Command, effects: &mut Vec<Effect>) {
        match command {
            Command::New => {
                if self.turn.is_some() {
                    self.cancel_turn(effects);
                }
                effects.push(Effect::Job(SessionJob::NewSession));
            }
            Command::Help => self.overlay = Overlay::Help { scroll: 0 },
            Command::Quit => self.quit(effects),
            Command::Sessions => {
                self.overlay = Overlay::Sessions(Picker::loading(
                    self.session.id,
                    /*all_workspaces*/ false,
                ));
                effects.push(Effect::Job(SessionJob::ListSessions {
                    all_workspaces: false,
                }));
            }
            Command::Rename(title) => effects.push(Effect::Job(SessionJob::Rename(title))),
            Command::Export(path) => {
                let has_messages =
                    self.transcript.cells().iter().any(|cell| {
                        matches!(cell.kind, CellKind::User | CellKind::Assistant { .. })
                    });
                if !has_messages {
                    self.note("There is nothing to export yet.");
                    return;
                }
                let file = match path {
                    // Expanded by the session task, which may read the environment.
                    Some(path) if path == "~" || path.starts_with("~/") => PathBuf::from(path),
                    Some(path) => self.session.directory.join(path),
                    None => self
                        .session
                        .directory
                        .join(format!("cairn-{}.md", self.session.id.short())),
                };
                effects.push(Effect::Job(SessionJob::Export(file)));
            }
            Command::Copy => match &self.last_answer {
                Some(answer) => {
                    let count = answer.chars().count();
                    effects.push(Effect::CopyToClipboard(answer.clone()));
                    self.note(&format!(
                        "Copied the last answer ({count} characters) to the clipboard."
                    ));
                }
                None => self.note("There is no answer to copy yet."),
            },
            Command::Model(None) => {
                let text = format!(
                    "Model: {} ({}). /model <name> switches it for this session.",
                    self.model,
                    self.provider_label()
                );
                self.note(&text);
            }
            Command::Model(Some(name)) => {
                self.model = name;
                let text = format!("Model set to {} for this session.", self.model);
                self.note(&text);
            }
            Command::Retry => self.retry(effects),
        }
    }

    fn retry(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.hint = Some("an answer is still streaming: press Esc to cancel it first".into());
            return;
        }
        let cells = self.transcript.cells_mut();
        let Some(last_user) = cells.iter().rposition(|cell| cell.kind == CellKind::User) else {
            self.note("There is nothing to retry yet.");
            return;
        };
        cells.truncate(last_user + 1);
        let turn = self.begin_turn();
        effects.push(Effect::Job(SessionJob::Retry {
            turn,
            model: self.model.clone(),
        }));
    }

    /// The provider label with the model currently chosen.
    pub fn provider_label(&self) -> String {
        ProviderInfo {
            model: self.model.clone(),
            ..self.provider.clone()
        }
        .label()
    }

    fn quit(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.cancel_turn(effects);
        }
        effects.push(Effect::Quit);
    }

    fn cancel_turn(&mut self, effects: &mut Vec<Effect>) {
        let Some(active) = &self.turn else {
            return;
        };
        if active.streaming {
            effects.push(Effect::CancelStream { turn: active.id });
        }
        self.finish_turn(/*interrupted*/ true, None, effects);
    }

    fn on_stream(&mut self, turn: u64, event: StreamEvent, effects: &mut Vec<Effect>) {
        // A reader who scrolled up keeps their place while the answer grows below them.
        let held_height = (self.scroll > 0).then(|| self.content_height());
        self.apply_stream_event(turn, event, effects);
        if let Some(before) = held_height {
            self.scroll += self.content_height().saturating_sub(before);
            self.clamp_scroll();
        }
    }

    /// Rows the whole transcript (and the live answer) takes at the current width.
    fn content_height(&self) -> usize {
        let width = self.transcript_area().width;
        self.transcript
            .height_up_to(self.live.as_ref(), width, usize::MAX)
    }

    fn apply_stream_event(&mut self, turn: u64, event: StreamEvent, effects: &mut Vec<Effect>) {
        let Some(active) = self.turn.as_mut().filter(|active| active.id == turn) else {
            return;
        };
        active.answer.push(&event);
        match event {
            StreamEvent::TextDelta(_) => {
                active.retrying = None;
                self.commit_paragraphs();
            }
            StreamEvent::ToolCallDelta { .. } => active.retrying = None,
            StreamEvent::Usage(_) => {}
            StreamEvent::Retrying {
                attempt,
                max_attempts,
                delay,
                reason,
            } => {
                active.retrying = Some(format!(
                    "retrying in {}s: {} ({attempt}/{max_attempts})",
                    delay.as_secs_f64().ceil(),
                    crate::sanitize::sanitize(&reason)
                ));
            }
            StreamEvent::Finished(_) => {
                self.finish_turn(/*interrupted*/ false, None, effects);
            }
        }
    }

    /// Moves finished paragraphs of the streaming answer into transcript cells, so only the
    /// tail is laid out again on each delta. A paragraph is finished at a blank line outside
    /// a code fence that is followed by a line starting at the margin (so list items and
    /// indented continuations stay with what they belong to).
    fn commit_paragraphs(&mut self) {
        let Some(active) = self.turn.as_mut() else {
            return;
        };
        let tail = &active.answer.text[active.committed..];
        let mut in_fence = false;
        let mut boundaries = Vec::new();
        let mut offset = 0;
        let mut previous_blank = false;
        for line in tail.split_inclusive('\n') {
            if previous_blank
                && !in_fence
                && offset > 0
                && !line.starts_with([' ', '\t'])
                && !line.trim().is_empty()
            {
                boundaries.push(offset);
            }
            let complete = line.ends_with('\n');
            let trimmed = line.trim_start_matches(' ');
            if complete && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
                in_fence = !in_fence;
            }
            previous_blank = complete && line.trim().is_empty();
            offset += line.len();
        }
        let base = active.committed;
        let mut start = 0;
        for boundary in boundaries {
            let chunk = tail[start..boundary].trim_end();
            self.transcript.push(Cell::new(
                CellKind::Assistant {
                    first: base + start == 0,
                    interrupted: false,
                },
                chunk,
            ));
            start = boundary;
        }
        active.committed = base + start;
        let first = active.committed == 0;
        let tail = active.answer.text[active.committed..].to_owned();
        match &mut self.live {
            Some(cell) => {
                cell.set_kind(CellKind::Assistant {
                    first,
                    interrupted: false,
                });
                cell.set_text(&tail);
            }
            None => {
                self.live = Some(Cell::new(
                    CellKind::Assistant {
                        first,
                        interrupted: false,
                    },
                    &tail,
                ));
            }
        }
    }

    /// Ends the active turn: commits what arrived, shows the error if any, and records one
    /// persistence job for the answer, tool calls and error.
    fn finish_turn(
        &mut self,
        interrupted: bool,
        error: Option<ProviderError>,
        effects: &mut Vec<Effect>,
    ) {
        let Some(active) = self.turn.take() else {
            return;
        };
        self.live = None;
        let end = match &error {
            Some(error) => TurnEnd::Failed(error.to_string()),
            None if interrupted => TurnEnd::Cancelled,
            None => TurnEnd::Completed,
        };
        let record = answer_events(&active.answer, &end, &self.model);
        let tail = active.answer.text[active.committed..].trim_end();
        if !tail.is_empty() || (active.committed > 0 && interrupted) {
            self.transcript.push(Cell::new(
                CellKind::Assistant {
                    first: active.committed == 0,
                    interrupted,
                },
                tail,
            ));
        }
        if active.has_text() {
            if let Some(usage) = active.answer.usage {
                self.usage.last_input = usage.input_tokens;
                self.usage.output += usage.output_tokens;
            }
            self.last_answer = Some(active.answer.text.clone());
        }
        for event in &record {
            if let EventKind::ToolCall {
                name, arguments, ..
            } = event
            {
                self.transcript.push(Cell::new(
                    CellKind::ToolCall,
                    &tool_call_summary(name, arguments),
                ));
            }
        }
        match (&error, &active.answer.finish_reason) {
            (Some(error), _) => {
                self.error(&format!(
                    "{error}. Press Enter on an empty line or type /retry to try again."
                ));
                self.last_turn_failed = true;
            }
            (None, Some(FinishReason::Length)) => {
                self.note("The answer stopped at the output token limit.");
            }
            (None, Some(FinishReason::ContentFilter)) => {
                self.note("The provider stopped the answer (content filter).");
            }
            (None, Some(FinishReason::Refusal)) => self.note("The model declined to answer."),
            (None, Some(FinishReason::Stop | FinishReason::ToolCalls | FinishReason::Other(_)))
            | (None, None) => {}
        }
        if interrupted && error.is_none() {
            if active.has_text() {
                self.hint = Some("answer cancelled; the partial text was kept".to_owned());
            } else {
                self.note("Cancelled.");
            }
        }
        if !record.is_empty() {
            effects.push(Effect::Job(SessionJob::Record(record)));
        }
    }

    fn on_persisted(&mut self, report: PersistReport) {
        if let Some(error) = report.error {
            self.error(&format!(
                "Could not save to the session database: {error}. Your messages are kept in memory and saving is tried again with the next one."
            ));
        }
        if let Some((count, events)) = report.merged {
            self.transcript.clear();
            self.usage = UsageTotals::default();
            self.load_events(&events);
            self.note(&format!(
                "Another Cairn wrote {count} events to this session; yours follow them."
            ));
        }
    }

    fn clear_conversation(&mut self) {
        self.hint = None;
        self.transcript.clear();
        self.live = None;
        self.turn = None;
        self.scroll = 0;
        self.usage = UsageTotals::default();
        self.last_answer = None;
        self.last_turn_failed = false;
    }

    /// Adds cells for stored events (sanitised like everything else).
    fn load_events(&mut self, events: &[Event]) {
        self.last_turn_failed = false;
        for event in events {
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
                    name, arguments, ..
                } => Cell::new(CellKind::ToolCall, &tool_call_summary(name, arguments)),
                EventKind::Note { text } => Cell::new(CellKind::Note, text),
                EventKind::Error { message } => {
                    self.last_turn_failed = true;
                    Cell::new(CellKind::Error, message)
                }
                EventKind::ToolResult { .. } | EventKind::SystemContext { .. } => continue,
            };
            self.transcript.push(cell.with_event_id(event.id));
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

    fn history_back(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let position = match self.history_position {
            None => {
                self.history_draft = self.input_text();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(position) => position - 1,
        };
        self.history_position = Some(position);
        let text = self.history[position].clone();
        self.set_input(&text);
        // On the first line, so the next Up goes on to an older prompt.
        self.input.move_cursor(CursorMove::Top);
        self.input.move_cursor(CursorMove::End);
    }

    fn history_forward(&mut self) {
        let Some(position) = self.history_position else {
            return;
        };
        if position + 1 < self.history.len() {
            self.history_position = Some(position + 1);
            let text = self.history[position + 1].clone();
            self.set_input(&text);
        } else {
            self.history_position = None;
            let draft = std::mem::take(&mut self.history_draft);
            self.set_input(&draft);
        }
    }

    fn set_input(&mut self, text: &str) {
        self.input = new_input();
        self.input.insert_str(text);
    }

    fn transcript_area(&self) -> Rect {
        self.areas(self.screen()).transcript
    }

    fn page_rows(&self) -> usize {
        usize::from(self.transcript_area().height)
            .saturating_sub(2)
            .max(1)
    }

    fn scroll_up(&mut self, rows: usize) {
        self.scroll += rows;
        self.clamp_scroll();
    }

    fn clamp_scroll(&mut self) {
        if self.scroll == 0 {
            return;
        }
        let area = self.transcript_area();
        let height = usize::from(area.height);
        let total =
            self.transcript
                .height_up_to(self.live.as_ref(), area.width, self.scroll + height);
        self.scroll = self.scroll.min(total.saturating_sub(height));
    }
}

/// `tool call: name(args…)`, arguments shortened to one line.
fn tool_call_summary(name: &str, arguments: &str) -> String {
    const MAX_ARGUMENT_CHARS: usize = 60;
    let flat = arguments.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut shown: String = flat.chars().take(MAX_ARGUMENT_CHARS).collect();
    if flat.chars().count() > MAX_ARGUMENT_CHARS {
        shown.push('…');
    }
    format!("tool call: {name}({shown})")
}

#[cfg(test)]
mod tests;
