//! Model output is untrusted: before any of it reaches a terminal, control characters are
//! made visible and harmless, so no answer can move the cursor, clear the screen, set the
//! clipboard (OSC 52) or retitle the window.

/// `count` and `noun`, the noun in the plural unless there is exactly one: "1 message",
/// "2 messages". Nouns whose plural is not just an added `s` are not used with it.
pub fn plural(count: impl Into<u64>, noun: &str) -> String {
    let count = count.into();
    let ending = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{ending}")
}

/// Replaces every control character except newline and tab with a visible stand-in (see
/// [`control_replacement`]). A carriage return followed by a newline is dropped (Windows line
/// endings); a lone one is shown, since it would otherwise overwrite the line.
pub fn neutralize_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            _ => out.push(control_replacement(c).unwrap_or(c)),
        }
    }
    out
}

/// What a character that could act on a terminal is shown as; `None` for characters that are
/// safe as they are. C0 controls become their Unicode "control picture" (ESC becomes `␛`),
/// DEL becomes `␡`, C1 controls (the 8-bit CSI and OSC among them) and bidirectional
/// overrides become U+FFFD. Newline and tab are C0 too: callers keep or expand them first.
pub fn control_replacement(c: char) -> Option<char> {
    match c {
        // U+2400 + code is the matching control picture (␀..␟).
        '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32),
        '\u{7f}' => Some('\u{2421}'),
        '\u{80}'..='\u{9f}' => Some('\u{fffd}'),
        // Bidirectional embeddings, overrides and isolates can make text read differently
        // from what it is.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => Some('\u{fffd}'),
        _ => None,
    }
}

/// Whether `text` has nothing to neutralise (the common case, checked without allocating).
pub fn is_terminal_safe(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c != '\n' && c != '\t' && control_replacement(c).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(
            [
                plural(0u64, "message"),
                plural(1u64, "message"),
                plural(2u64, "user message")
            ],
            ["0 messages", "1 message", "2 user messages"]
        );
    }

    #[test]
    fn escape_sequences_become_visible_text() {
        let hostile = "a\x1b]52;c;cHduZWQ=\x07b\x1b[2Jc\u{9b}31md\re\r\nf\u{7f}";
        let safe = neutralize_controls(hostile);
        assert_eq!(safe, "a␛]52;c;cHduZWQ=␇b␛[2Jc\u{fffd}31md␍e\nf␡");
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
