//! Large pastes, collapsed: a paste of more than [`MAX_INLINE_LINES`] lines or
//! [`MAX_INLINE_CHARS`] characters goes into the editor as one placeholder
//! (`[pasted 4,000 lines · 120 KB]`) and its text is kept here until the message is sent,
//! when every placeholder still in the editor is replaced by what was pasted.
//!
//! The editor only ever holds the placeholder's label, so a 200 KB paste costs the editor (and
//! every keystroke's wrapping and drawing) a few dozen characters.
//!
//! Invariants:
//! - Labels are unique among the pastes of one draft (a second paste of the same size gets
//!   ` #2`), so each placeholder stands for exactly one paste.
//! - A paste whose placeholder was deleted stays here (an undo or yank may bring it back)
//!   until the draft is cleared; only placeholders present when the message is sent count.

use std::ops::Range;

use cairn_core::text::plural;

/// Pastes with more lines than this are collapsed.
pub(crate) const MAX_INLINE_LINES: usize = 10;
/// Pastes with more characters than this are collapsed.
pub(crate) const MAX_INLINE_CHARS: usize = 1_000;

struct Paste {
    label: String,
    text: String,
}

/// The collapsed pastes of the draft being written.
#[derive(Default)]
pub(super) struct Pastes {
    entries: Vec<Paste>,
}

/// Whether `text` is too big to go into the editor as typed.
pub(super) fn is_large(text: &str) -> bool {
    text.lines().count() > MAX_INLINE_LINES || text.chars().nth(MAX_INLINE_CHARS).is_some()
}

impl Pastes {
    /// Keeps `text` and returns the placeholder that stands for it in the editor.
    pub(super) fn add(&mut self, text: String) -> String {
        let lines = plural(text.lines().count().max(1) as u64, "line");
        let base = format!("pasted {} · {}", grouped(&lines), size(text.len()));
        let mut label = format!("[{base}]");
        let mut number = 1;
        while self.entries.iter().any(|paste| paste.label == label) {
            number += 1;
            label = format!("[{base} #{number}]");
        }
        self.entries.push(Paste {
            label: label.clone(),
            text,
        });
        label
    }

    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    /// `draft` with every placeholder replaced by its paste. Pasted text is never searched
    /// for placeholders itself.
    pub(super) fn expand(&self, draft: &str) -> String {
        if self.entries.is_empty() {
            return draft.to_owned();
        }
        let mut out = String::with_capacity(draft.len());
        let mut rest = draft;
        while let Some((at, paste)) = self
            .entries
            .iter()
            .filter_map(|paste| rest.find(&paste.label).map(|at| (at, paste)))
            .min_by_key(|(at, _)| *at)
        {
            out.push_str(&rest[..at]);
            out.push_str(&paste.text);
            rest = &rest[at + paste.label.len()..];
        }
        out.push_str(rest);
        out
    }

    /// The placeholders on `line`, as ranges of code points (the editor's columns), in order.
    pub(super) fn ranges(&self, line: &str) -> Vec<Range<usize>> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for paste in &self.entries {
            for (byte, _) in line.match_indices(&paste.label) {
                let start = line[..byte].chars().count();
                ranges.push(start..start + paste.label.chars().count());
            }
        }
        ranges.sort_by_key(|range| range.start);
        ranges
    }

    /// The text a placeholder stands for.
    pub(super) fn text_of(&self, label: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|paste| paste.label == label)
            .map(|paste| paste.text.as_str())
    }
}

/// "4000 lines" as "4,000 lines": digit groups in the leading number.
fn grouped(counted: &str) -> String {
    let (number, rest) = counted.split_at(counted.find(' ').unwrap_or(counted.len()));
    let mut out = String::new();
    for (index, digit) in number.chars().enumerate() {
        if index > 0 && (number.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out + rest
}

/// A size in bytes as people read it: "900 bytes", "120 KB", "1.5 MB".
fn size(bytes: usize) -> String {
    match bytes {
        0..1_000 => plural(bytes as u64, "byte"),
        1_000..1_000_000 => grouped(&format!("{} KB", (bytes + 500) / 1_000)),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn labels_say_how_big_the_paste_is_and_stay_unique() {
        let mut pastes = Pastes::default();
        let log = "line\n".repeat(4_000);
        assert_eq!(pastes.add(log.clone()), "[pasted 4,000 lines · 20 KB]");
        assert_eq!(pastes.add(log), "[pasted 4,000 lines · 20 KB #2]");
        assert_eq!(pastes.add("x".repeat(1_500)), "[pasted 1 line · 2 KB]");
        assert_eq!(pastes.add("a\n".repeat(11)), "[pasted 11 lines · 22 bytes]");
        assert_eq!(
            pastes.add("é".repeat(1_200_000)),
            "[pasted 1 line · 2.4 MB]"
        );
    }

    #[test]
    fn only_pastes_past_a_threshold_are_collapsed() {
        assert!(!is_large(&"a\n".repeat(10)));
        assert!(is_large(&"a\n".repeat(11)));
        assert!(!is_large(&"é".repeat(1_000)));
        assert!(is_large(&"é".repeat(1_001)));
    }

    #[test]
    fn expanding_replaces_each_placeholder_with_its_own_paste() {
        let mut pastes = Pastes::default();
        let first = pastes.add("one\n".repeat(20));
        // A paste that happens to contain the other's label is left as it is.
        let second = pastes.add(format!("{first}\n").repeat(20));
        let draft = format!("look: {second} and {first}!");
        assert_eq!(
            pastes.expand(&draft),
            format!(
                "look: {} and {}!",
                format!("{first}\n").repeat(20),
                "one\n".repeat(20)
            )
        );
        assert_eq!(
            pastes.ranges(&draft),
            vec![6..6 + second.chars().count(), {
                let start = 11 + second.chars().count();
                start..start + first.chars().count()
            }]
        );
    }
}
