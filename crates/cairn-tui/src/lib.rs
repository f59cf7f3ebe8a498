//! Cairn's terminal front end: the chat screen.
//!
//! Layout:
//! - `app`: the pure state machine (`App::handle(AppEvent) -> Vec<Effect>`), no IO, split
//!   into its events, the composer, the stream controller, the turn lifecycle and overlays.
//! - `render`: draws an `&App` into a ratatui buffer, one file per part; never changes state.
//! - `layout`: the screen's regions and the help's size, which both of the above need (the
//!   state machine never imports the renderer). `help_text`: the help's content.
//! - [`transcript`], [`markdown`], [`wrap`], `sanitize`: cells, Markdown, wrapping by
//!   display width, and neutralising untrusted text.
//! - `commands`, `picker`, `history`: slash commands, the session picker, the prompt
//!   history file.
//! - `session_task`: the one task that owns the `SessionManager` and persists in order.
//! - `driver` and `terminal`: the event loop performing effects, the frame scheduler, and
//!   taking over / restoring the terminal.
//!
//! The public API is small: [`run`] is the entry point the binary calls; [`App`] with
//! [`AppInit`] and [`AppEvent`] lets benchmarks drive and draw the screen without a terminal.

mod app;
mod commands;
mod driver;
mod help_text;
mod history;
mod layout;
pub mod logical_line;
pub mod markdown;
mod picker;
mod render;
mod sanitize;
mod session_task;

pub use session_task::Unsaved;
mod terminal;
#[cfg(test)]
mod test_support;
pub mod transcript;
mod tree_view;
mod window_title;
pub mod wrap;

use std::path::PathBuf;
use std::sync::Arc;

use cairn_core::{ModelProvider, RecentEvents, SessionId, SessionManager, StartOutcome};

pub use app::{
    App, AppEvent, AppInit, Effect, Origin, PersistReport, SessionJob, SessionView, ToolSettings,
};
pub use driver::FrameScheduler;

/// What the binary hands the TUI.
pub struct TuiOptions {
    /// Fresh, or already resumed when `start` is `Started(Resumed(..))`.
    pub manager: SessionManager,
    /// How the chat opens.
    pub start: Opening,
    /// Shown as notes (which provider was chosen, and why).
    pub startup_notes: Vec<String>,
    pub provider: Arc<dyn ModelProvider>,
    /// The model put in requests (`/model` switches it for the session).
    pub model: String,
    pub max_output_tokens: Option<u32>,
    /// Where the prompt-history file lives.
    pub state_dir: PathBuf,
    /// The shared store in use (`postgres host:port/db`), shown in the status line; `None`
    /// for the local file.
    pub store: Option<String>,
    /// The model that names sessions; `None`: the session's own.
    pub title_model: Option<String>,
    /// The share of the context window the history may fill before it is compacted (`0`:
    /// never).
    pub compact_at: f64,
    /// Name the terminal's window after the session (`[ui] window_title`).
    pub window_title: bool,
    /// The tools the model may call; `None` when `[tools] enabled = false`.
    pub tools: Option<ChatTools>,
    /// `[ui] mouse`: capture the mouse (else it is left to the terminal, and the wheel comes
    /// as arrow keys).
    pub capture_mouse: bool,
}

/// The chat's tools: the workspace's toolbox that runs them and the rules that decide.
pub struct ChatTools {
    pub toolbox: cairn_tools::Toolbox,
    pub settings: ToolSettings,
}

/// How the chat opens.
pub enum Opening {
    /// A fresh session (`New`), or one the manager has loaded already (`Resumed(info)`, whose
    /// note is shown).
    Started(StartOutcome),
    /// A session to resume of which only the newest events are loaded. They are drawn at
    /// once, so the first frame does not wait for a long session's whole history; the session
    /// task loads the whole branch and takes the session over before any other job, and a
    /// message typed meanwhile waits for it.
    Resume(RecentEvents),
}

/// How the TUI ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TuiExit {
    pub session_id: SessionId,
    /// Whether the session was ever written (an untouched fresh session is not).
    pub session_stored: bool,
    /// Events the store would not take before the end, and where they were kept instead.
    pub unsaved: Option<Unsaved>,
}

/// Runs the chat until the user quits (or a signal arrives). The terminal is restored on
/// every exit path, and every pending write is finished before this returns.
pub async fn run(options: TuiOptions) -> eyre::Result<TuiExit> {
    driver::run(options).await
}
