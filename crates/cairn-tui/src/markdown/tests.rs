//! Markdown rendering, read back as the rows a reader sees.

use super::*;
use pretty_assertions::assert_eq;

fn rows(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in render_markdown(text) {
        line.wrap(width, &mut out);
    }
    out.iter().map(|line| line.to_string()).collect()
}

#[test]
fn paragraphs_are_separated_by_a_blank_line() {
    assert_eq!(rows("one\n\ntwo", 40), vec!["one", "", "two"]);
}

#[test]
fn lists_nest_and_number() {
    assert_eq!(
        rows("- a\n- b\n  1. c\n  2. d\n\nafter", 40),
        vec!["• a", "• b", "  1. c", "  2. d", "", "after"]
    );
}

#[test]
fn list_items_wrap_under_their_text() {
    assert_eq!(
        rows("- alpha beta gamma", 12),
        vec!["• alpha beta", "  gamma"]
    );
}

#[test]
fn code_blocks_are_set_apart_and_keep_spacing() {
    assert_eq!(
        rows("text\n\n```rust\nfn main() {\n    x\n}\n```\nafter", 40),
        vec![
            "text",
            "",
            "╭ rust",
            "│ fn main() {",
            "│     x",
            "│ }",
            "",
            "after"
        ]
    );
}

#[test]
fn headings_quotes_and_inline_styles() {
    let lines = render_markdown("# Title\n\n> quoted *it* **b** `code`");
    let text: Vec<String> = lines
        .iter()
        .map(|line| {
            line.first_prefix
                .iter()
                .chain(&line.content)
                .map(|s| s.content.as_ref())
                .collect()
        })
        .collect();
    assert_eq!(text, vec!["# Title", "", "▌ quoted it b code"]);
    let quote = &lines[2].content;
    assert!(
        quote
            .iter()
            .any(|s| s.content == "it" && s.style == Style::new().italic())
    );
    assert!(
        quote
            .iter()
            .any(|s| s.content == "b" && s.style == Style::new().bold())
    );
    assert!(
        quote
            .iter()
            .any(|s| s.content == "code" && s.style == Style::new().cyan())
    );
}

#[test]
fn unclosed_fence_while_streaming_is_still_code() {
    assert_eq!(rows("```\nlet a", 40), vec!["│ let a"]);
}

#[test]
fn links_show_their_target() {
    assert_eq!(
        rows("see [docs](https://example.com)", 60),
        vec!["see docs (https://example.com)"]
    );
}

const TABLE: &str = "\
| Crate | Job | Lines |
|:------|:---:|------:|
| cairn-core | the domain: sessions, events | 4200 |
| cairn-tui | the screen | 380 |
";

#[test]
fn tables_line_up_their_columns() {
    assert_eq!(
        rows(&format!("before\n\n{TABLE}\nafter"), 60),
        vec![
            "before",
            "",
            "Crate      │             Job              │ Lines",
            "───────────┼──────────────────────────────┼──────",
            "cairn-core │ the domain: sessions, events │  4200",
            "cairn-tui  │          the screen          │   380",
            "",
            "after",
        ]
    );
}

#[test]
fn a_table_wider_than_the_screen_wraps_its_widest_cells() {
    let rows = rows(TABLE, 30);
    assert_eq!(
        rows,
        vec![
            "Crate      │    Job    │ Lines",
            "───────────┼───────────┼──────",
            "cairn-core │    the    │  4200",
            "           │  domain:  │",
            "           │ sessions, │",
            "           │  events   │",
            "cairn-tui  │    the    │   380",
            "           │  screen   │",
        ]
    );
    assert!(rows.iter().all(|row| row.chars().count() <= 30), "{rows:?}");
}

#[test]
fn strikethrough_and_task_lists() {
    let lines = render_markdown("~~gone~~ kept\n\n- [x] done\n- [ ] todo");
    assert!(
        lines[0]
            .content
            .iter()
            .any(|span| span.content == "gone" && span.style == Style::new().crossed_out())
    );
    assert_eq!(
        rows("- [x] done\n- [ ] todo", 40),
        vec!["• [x] done", "• [ ] todo"]
    );
}
