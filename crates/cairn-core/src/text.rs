//! Model output is untrusted: before any of it reaches a terminal, control characters are
//! made visible and harmless, so no answer can move the cursor, clear the screen, set the
//! clipboard (OSC 52) or retitle the window.

/// Replaces every C0 and C1 control character except newline and tab with a visible
/// stand-in: the Unicode "control picture" for C0 (ESC becomes `␛`), U+FFFD for C1 and DEL.
/// A carriage return followed by a newline is dropped (Windows line endings); a lone one is
/// shown, since it would otherwise overwrite the line.
pub fn neutralize_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\u{0}'..='\u{1f}' => {
                // U+2400 + code is the control picture for every C0 character.
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
            }
            '\u{7f}'..='\u{9f}' => out.push('\u{fffd}'),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `text` has nothing to neutralise (the common case, checked without allocating).
pub fn is_terminal_safe(text: &str) -> bool {
    !text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || ('\u{7f}'..='\u{9f}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible_text() {
        let hostile = "a\x1b]52;c;cHduZWQ=\x07b\x1b[2Jc\u{9b}31md\re\r\nf\u{7f}";
        let safe = neutralize_controls(hostile);
        assert_eq!(safe, "a␛]52;c;cHduZWQ=␇b␛[2Jc\u{fffd}31md␍e\nf\u{fffd}");
        assert!(is_terminal_safe(&safe));
        assert!(!is_terminal_safe(hostile));
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let text = "Hello, 世界 👋\n\tcode";
        assert_eq!(neutralize_controls(text), text);
        assert!(is_terminal_safe(text));
    }
}
