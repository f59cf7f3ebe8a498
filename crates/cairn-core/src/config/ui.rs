//! The `[ui]` table: how the chat uses the terminal around it. `window_title` (default on)
//! lets the chat name the terminal's window after the session, and give the old name back
//! on leaving.

use serde::Deserialize;

/// The `[ui]` table as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct UiConfig {
    /// Whether the chat sets the terminal's window title to `cairn · <session title>`.
    pub window_title: Option<bool>,
}

impl UiConfig {
    /// Whether the chat sets the window title; on unless turned off.
    pub fn window_title(&self) -> bool {
        self.window_title.unwrap_or(true)
    }
}
