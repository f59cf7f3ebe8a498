//! The `[ui]` table: how the chat uses the terminal around it. `window_title` (default on)
//! lets the chat name the terminal's window after the session, and give the old name back
//! on leaving. `mouse` (default `false`) leaves the mouse to the terminal, so text is selected
//! and copied without holding Shift, and the wheel still scrolls the conversation through the
//! terminal's alternate-scroll mode; `true` captures the mouse (the wheel then arrives as
//! mouse events, and selecting needs Shift).

use serde::Deserialize;

/// The `[ui]` table as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct UiConfig {
    /// Whether the chat sets the terminal's window title to `cairn · <session title>`.
    pub window_title: Option<bool>,
    /// Capture the mouse; unset means `false`.
    pub mouse: Option<bool>,
}

impl UiConfig {
    /// Whether the chat sets the window title; on unless turned off.
    pub fn window_title(&self) -> bool {
        self.window_title.unwrap_or(true)
    }

    /// Whether the chat captures the mouse.
    pub fn captures_mouse(&self) -> bool {
        self.mouse.unwrap_or(false)
    }
}
