//! The terminal's window title: `cairn · <session title>` while the chat runs, and the
//! title the window had before on leaving.
//!
//! The old title is kept by the terminal itself, on the xterm title stack: it is pushed
//! (`CSI 22;0 t`) before the first title is set and popped (`CSI 23;0 t`) when the terminal
//! is given back (quit, Ctrl+Z, a panic), exactly once per push. A terminal without the stack
//! ignores both. The title is untrusted text (the model may have written it): every
//! character a terminal could act on is neutralised, lines are joined, and it is cut to
//! [`MAX_TITLE_WIDTH`] columns, so nothing in it can end the sequence early or start another.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use cairn_core::shorten::ellipsize;
use cairn_core::text::neutralize_controls;

/// Saves the window's title on the terminal's title stack.
pub const PUSH_TITLE: &str = "\x1b[22;0t";
/// Gives the window the title saved by [`PUSH_TITLE`] back.
pub const POP_TITLE: &str = "\x1b[23;0t";
/// The widest title set, in columns: enough for a tab or a title bar.
pub const MAX_TITLE_WIDTH: usize = 60;

/// Whether a title was pushed and not popped yet.
static PUSHED: AtomicBool = AtomicBool::new(false);

/// The sequence (OSC 0, icon name and window title) naming the window after the session
/// `title`.
pub fn title_sequence(title: &str) -> String {
    let safe = neutralize_controls(title)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let shown = if safe.is_empty() {
        "cairn".to_owned()
    } else {
        format!("cairn · {safe}")
    };
    format!("\x1b]0;{}\x07", ellipsize(&shown, MAX_TITLE_WIDTH))
}

/// Keeps the window titled after the session, writing only when the title changes.
#[derive(Debug, Default)]
pub struct WindowTitle {
    /// The session title last written; `None` after the terminal was given back.
    shown: Option<String>,
}

impl WindowTitle {
    /// Names the window after `title` unless it already is; the first time (and the first
    /// time after the terminal was taken back) the old title is pushed first.
    pub fn show(&mut self, out: &mut impl Write, title: &str) -> std::io::Result<()> {
        if self.shown.as_deref() == Some(title) {
            return Ok(());
        }
        if !PUSHED.swap(true, Ordering::SeqCst) {
            out.write_all(PUSH_TITLE.as_bytes())?;
        }
        out.write_all(title_sequence(title).as_bytes())?;
        out.flush()?;
        self.shown = Some(title.to_owned());
        Ok(())
    }

    /// The terminal was given back and taken again (after Ctrl+Z): the next
    /// [`WindowTitle::show`] pushes and writes again.
    pub fn forget(&mut self) {
        self.shown = None;
    }
}

/// Gives the window its old title back if one was pushed: part of restoring the terminal.
pub(crate) fn restore(out: &mut impl Write) {
    if PUSHED.swap(false, Ordering::SeqCst) {
        let _ = out.write_all(POP_TITLE.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use unicode_width::UnicodeWidthStr;

    #[test]
    fn a_hostile_title_cannot_end_the_sequence_or_start_another() {
        let hostile = "pwned\x07\x1b]0;evil\x1b\\\x1b[2J\u{9b}31m\r\nsecond line\t\u{7f}";
        let sequence = title_sequence(hostile);
        let inner = sequence
            .strip_prefix("\x1b]0;")
            .and_then(|rest| rest.strip_suffix('\x07'))
            .expect("one OSC 0 sequence ended by BEL");
        assert_eq!(
            inner,
            "cairn · pwned␇␛]0;evil␛\\␛[2J\u{fffd}31m second line ␡"
        );
        assert!(
            inner.chars().all(|c| !c.is_control()),
            "no control character inside: {inner:?}"
        );
    }

    #[test]
    fn a_long_or_wide_title_is_cut_by_display_width() {
        let sequence = title_sequence(&"界".repeat(100));
        let inner = &sequence[4..sequence.len() - 1];
        assert!(inner.width() <= MAX_TITLE_WIDTH, "{inner}");
        assert!(inner.ends_with('…'));
        assert_eq!(title_sequence("  "), "\x1b]0;cairn\x07");
    }

    #[test]
    fn the_title_is_written_once_per_change_and_popped_once() {
        let mut out = Vec::new();
        let mut title = WindowTitle::default();
        title.show(&mut out, "first").unwrap();
        title.show(&mut out, "first").unwrap();
        title.show(&mut out, "second").unwrap();
        restore(&mut out);
        restore(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "{PUSH_TITLE}{}{}{POP_TITLE}",
                title_sequence("first"),
                title_sequence("second")
            )
        );
    }
}
