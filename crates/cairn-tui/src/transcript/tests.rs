use super::*;
use pretty_assertions::assert_eq;

fn texts(lines: &[Line<'static>]) -> Vec<String> {
    lines.iter().map(|line| line.to_string()).collect()
}

fn numbered(count: usize) -> Transcript {
    let mut transcript = Transcript::default();
    for index in 0..count {
        transcript.push(Cell::new(CellKind::Note, &format!("note {index}")));
    }
    transcript
}

#[test]
fn bottom_window_shows_the_latest_rows() {
    let transcript = numbered(10);
    assert_eq!(
        texts(&transcript.visible(None, 20, 3, 0)),
        vec!["  note 8", "", "  note 9"]
    );
}

#[test]
fn scrolling_moves_the_window_up_and_clamps_at_the_top() {
    let transcript = numbered(3);
    assert_eq!(
        texts(&transcript.visible(None, 20, 2, 2)),
        vec!["", "  note 1"]
    );
    assert_eq!(
        texts(&transcript.visible(None, 20, 2, 100)),
        vec!["", "  note 0"]
    );
}

#[test]
fn short_conversations_start_at_the_top() {
    let transcript = numbered(1);
    assert_eq!(
        texts(&transcript.visible(None, 20, 5, 0)),
        vec!["", "  note 0"]
    );
}

#[test]
fn live_cell_comes_last() {
    let transcript = numbered(1);
    let live = Cell::new(
        CellKind::Assistant {
            first: true,
            interrupted: false,
        },
        "stream",
    );
    assert_eq!(
        texts(&transcript.visible(Some(&live), 20, 4, 0)),
        vec!["", "  note 0", "", "• stream"]
    );
}

#[test]
fn cache_follows_the_width() {
    let cell = Cell::new(CellKind::User, "one two three four");
    assert_eq!(cell.height(40), 2);
    assert_eq!(cell.height(8), 5);
    assert_eq!(cell.height(40), 2);
}

#[test]
fn hostile_text_is_sanitised_when_the_cell_is_made() {
    let cell = Cell::new(CellKind::Note, "\x1b[2Jgone");
    assert_eq!(cell.text, "␛[2Jgone");
}

/// Rows as (text, style) runs, so two layouts that only cut spans differently compare
/// equal.
fn runs(lines: &[Line<'static>]) -> Vec<Vec<(String, ratatui::style::Style)>> {
    lines
        .iter()
        .map(|line| {
            let mut runs: Vec<(String, ratatui::style::Style)> = Vec::new();
            for span in &line.spans {
                match runs.last_mut() {
                    Some((text, style)) if *style == span.style => text.push_str(&span.content),
                    _ => runs.push((span.content.to_string(), span.style)),
                }
            }
            runs.retain(|(text, _)| !text.is_empty());
            runs
        })
        .collect()
}

/// A streamed answer, grown piece by piece and drawn after each piece, lays out exactly
/// as the whole text does, whether the last row was continued or laid out again.
#[test]
fn a_growing_answer_lays_out_as_its_whole_text() {
    let answers = [
        "0123456789abcdefghijklmnopqrstuvwxyz".repeat(20),
        format!("```\n{}", "QUJD+/=".repeat(60)),
        format!("```rust\nfn main() {{}}\n{}\n```\nafter", "x".repeat(90)),
        format!(
            "intro *it* and **bold**\nmore {} words\n\n- item {} end",
            "long ".repeat(30),
            "y".repeat(70)
        ),
        format!("> quoted {} text", "abc def ".repeat(20)),
        format!("# Heading {}", "word ".repeat(30)),
        format!("1234567890{}", ". x".repeat(5)),
        format!("123456789{}", ". x".repeat(5)),
        format!("123456789.{}", "x".repeat(5)),
        format!(
            "see http://example.com/{} and www.example.com/x",
            "p".repeat(20)
        ),
        format!("intro\n\n{}a", "-".repeat(12)),
        format!("intro\n{}a", "=".repeat(12)),
        format!("- - - - - - - -{}", "a".repeat(5)),
        format!("a+b-c=d. e, f: g% h? {}", "i/j".repeat(20)),
        format!("[ref]: http://a.example/{}\n\n[x][ref]", "p".repeat(30)),
        format!(
            "see [link](http://example.com) {} `code` &amp;x",
            "z".repeat(50)
        ),
        format!("a\\{}  b", "c".repeat(40)),
        format!("text\n{}", "=".repeat(12)),
        format!("wide 漢字漢字 {} 😀 tail", "q".repeat(40)),
        format!("tabs\tand\r\nline ends {} \x1b[2J", "r".repeat(30)),
    ];
    let kind = CellKind::Assistant {
        first: true,
        interrupted: false,
    };
    for answer in &answers {
        for step in [1, 3, 7] {
            for width in [13u16, 40] {
                let mut cell = Cell::new(kind.clone(), "");
                let mut end = 0;
                while end < answer.len() {
                    end = (end + step).min(answer.len());
                    while !answer.is_char_boundary(end) {
                        end += 1;
                    }
                    cell.set_text(&answer[..end]);
                    let grown = runs(&cell.lines(width));
                    let whole = runs(&Cell::new(kind.clone(), &answer[..end]).lines(width));
                    assert_eq!(grown, whole, "{:?} at {width}", &answer[..end]);
                }
            }
        }
    }
}

/// The point of continuing the last row: a megabyte on one line, grown 100 bytes at a
/// time, does not lay the line out again (a full layout of a megabyte per delta would
/// take minutes here in a debug build).
#[test]
fn a_megabyte_line_grows_without_being_laid_out_again() {
    let kind = CellKind::Assistant {
        first: true,
        interrupted: false,
    };
    for opening in ["", "```\n"] {
        let mut cell = Cell::new(kind.clone(), opening);
        let mut text = opening.to_owned();
        while text.len() < 1_000_000 {
            text.push_str(&"0123456789".repeat(10));
            cell.set_text(&text);
            assert!(cell.height(100) > 0);
        }
        let whole = Cell::new(kind.clone(), &text);
        assert_eq!(cell.height(100), whole.height(100));
        assert_eq!(runs(&cell.lines(100)), runs(&whole.lines(100)));
    }
}

#[test]
fn height_up_to_stops_early() {
    let transcript = numbered(1000);
    assert_eq!(transcript.height_up_to(None, 20, 5), 6);
}
