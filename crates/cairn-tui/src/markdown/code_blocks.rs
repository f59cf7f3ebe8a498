//! The code blocks of an answer, as their text alone (no fence, no language, no gutter), for
//! `/copy code`.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// Every fenced or indented code block of `text`, in order.
pub fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => current = Some(String::new()),
            Event::Text(piece) => {
                if let Some(block) = &mut current {
                    block.push_str(&piece);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    // An answer cut off inside a fence still has that code.
    blocks.extend(current);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn fenced_and_indented_blocks_without_their_fences() {
        let answer = "Try:\n\n```rust\nfn main() {}\n```\n\nor\n\n    ls -la\n\n```\nunclosed";
        assert_eq!(
            code_blocks(answer),
            ["fn main() {}\n", "ls -la\n", "unclosed"]
        );
        assert!(code_blocks("no code `inline` only").is_empty());
    }
}
