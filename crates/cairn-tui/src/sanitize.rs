//! Neutralising untrusted text before it reaches the terminal.
//!
//! Model output (and anything stored that came from a model or a paste) may contain control
//! characters and escape sequences: a raw ESC could move the cursor, clear the screen, set
//! the clipboard through OSC 52 or change the window title. Everything shown on screen goes
//! through [`sanitize`] first, so the only control characters left are `\n`; tabs are expanded
//! to spaces (tab stops every [`TAB_WIDTH`] columns) and `\r\n` becomes `\n`.
//!
//! Replacements are visible, so a hostile answer looks hostile instead of silently changing:
//! C0 controls become their Unicode "control picture" (`ESC` → `␛`, a lone `\r` → `␍`),
//! DEL becomes `␡`, and C1 controls (including the 8-bit CSI `\u{9b}`) and bidirectional
//! overrides become U+FFFD.

use std::borrow::Cow;

use cairn_core::text::control_replacement as replacement;
use unicode_width::UnicodeWidthChar;

/// Columns between tab stops when tabs are expanded.
pub const TAB_WIDTH: usize = 4;

/// `text` with every control character except `\n` made harmless and visible.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_work) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut column = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                out.push('\n');
                column = 0;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\t' => {
                let spaces = TAB_WIDTH - column % TAB_WIDTH;
                out.extend(std::iter::repeat_n(' ', spaces));
                column += spaces;
            }
            c => {
                let shown = replacement(c).unwrap_or(c);
                out.push(shown);
                column += shown.width().unwrap_or(0);
            }
        }
    }
    Cow::Owned(out)
}

fn needs_work(c: char) -> bool {
    c == '\t' || (c != '\n' && replacement(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn assert_harmless(text: &str) {
        assert!(
            !text
                .chars()
                .any(|c| c != '\n' && (c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))),
            "control character left in {text:?}"
        );
    }

    #[test]
    fn osc_52_clipboard_write_is_defused() {
        let hostile = "before\x1b]52;c;ZXZpbA==\x07after";
        let clean = sanitize(hostile);
        assert_eq!(clean, "before␛]52;c;ZXZpbA==␇after");
        assert_harmless(&clean);
    }

    #[test]
    fn csi_clear_screen_and_cursor_moves_are_defused() {
        assert_eq!(sanitize("\x1b[2J\x1b[H"), "␛[2J␛[H");
        assert_eq!(sanitize("a\x1b[10;20Hb"), "a␛[10;20Hb");
    }

    #[test]
    fn eight_bit_csi_becomes_replacement_character() {
        let clean = sanitize("\u{9b}31mred");
        assert_eq!(clean, "\u{fffd}31mred");
        assert_harmless(&clean);
    }

    #[test]
    fn carriage_returns_cannot_overwrite_a_line() {
        assert_eq!(sanitize("safe\rEVIL"), "safe␍EVIL");
        assert_eq!(sanitize("line one\r\nline two"), "line one\nline two");
    }

    #[test]
    fn tabs_expand_to_the_next_tab_stop() {
        assert_eq!(sanitize("\tx"), "    x");
        assert_eq!(sanitize("ab\tc\n\td"), "ab  c\n    d");
    }

    #[test]
    fn other_controls_backspace_bell_del_and_bidi_overrides() {
        let clean = sanitize("a\x08b\x07c\x7fd\u{202e}e\x00");
        assert_eq!(clean, "a␈b␇c␡d\u{fffd}e␀");
        assert_harmless(&clean);
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        let text = "héllo 世界 🎉\nnext line";
        assert!(matches!(sanitize(text), Cow::Borrowed(_)));
    }
}
