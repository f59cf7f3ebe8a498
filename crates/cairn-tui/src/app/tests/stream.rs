//! The stream controller: deltas into the live cell, committed paragraphs, retry status,
//! tool calls, hostile text, and a scrolled-up reader keeping their place.

use std::time::Duration;

use cairn_core::provider::FinishReason;
use cairn_core::{EventKind, StreamEvent, TokenUsage};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;
use ratatui::layout::Rect;

use super::{delta, last_text, streaming, texts};
use crate::app::{App, AppEvent, Effect, Origin, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

#[test]
fn deltas_stream_into_a_live_cell_and_finished_paragraphs_are_committed() {
    let mut app = streaming("hi");
    delta(&mut app, "First para");
    assert_eq!(
        app.live.as_ref().map(|cell| cell.text.as_str()),
        Some("First para")
    );
    delta(&mut app, "graph.\n\n");
    assert_eq!(app.transcript.cells().len(), 1);
    delta(&mut app, "Second");
    assert_eq!(
        texts(&app)[1],
        (
            CellKind::Assistant {
                first: true,
                interrupted: false
            },
            "First paragraph.".into()
        )
    );
    assert_eq!(
        app.live.as_ref().map(|cell| cell.text.as_str()),
        Some("Second")
    );
    // A blank line inside a code fence does not end anything.
    delta(&mut app, "\n\n```\ncode\n\nmore code\n```\n\nafter");
    let committed: Vec<String> = app.transcript.cells()[1..]
        .iter()
        .map(|cell| cell.text.clone())
        .collect();
    assert_eq!(
        committed,
        vec!["First paragraph.", "Second", "```\ncode\n\nmore code\n```"]
    );
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::Usage(TokenUsage {
            input_tokens: 10,
            output_tokens: 20,
        }),
    });
    let effects = app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::Finished(FinishReason::Stop),
    });
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Record(vec![
            EventKind::AssistantMessage {
                text: "First paragraph.\n\nSecond\n\n```\ncode\n\nmore code\n```\n\nafter".into(),
                usage: Some(TokenUsage {
                    input_tokens: 10,
                    output_tokens: 20
                }),
                interrupted: false,
                model: Some("echo".into()),
            }
        ]))]
    );
    assert!(app.live.is_none());
    assert!(!app.is_busy());
    assert_eq!(last_text(&app), "after");
    assert_eq!(app.usage.output, 20);
    assert_eq!(app.usage.last_input, 10);
    // The end of the stream after Finished changes nothing.
    assert!(app.handle(AppEvent::StreamEnded { turn: 1 }).is_empty());
}

#[test]
fn retrying_shows_as_a_transient_status() {
    let mut app = streaming("hi");
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::Retrying {
            attempt: 1,
            max_attempts: 4,
            delay: Duration::from_secs(2),
            reason: "429 Too Many Requests".into(),
        },
    });
    assert_eq!(
        app.turn
            .as_ref()
            .and_then(|turn| turn.retrying.clone())
            .as_deref(),
        Some("retrying in 2s: 429 Too Many Requests (1/4)")
    );
    delta(&mut app, "ok");
    assert_eq!(
        app.turn.as_ref().and_then(|turn| turn.retrying.clone()),
        None
    );
}

#[test]
fn tool_calls_are_shown_compactly_and_answered_as_unavailable() {
    let mut app = streaming("hi");
    for (id, name, arguments) in [
        (Some("c1"), Some("read_file"), "{\"path\": "),
        (None, None, "\"src/main.rs\"}"),
    ] {
        app.handle(AppEvent::Stream {
            turn: 1,
            event: StreamEvent::ToolCallDelta {
                index: 0,
                id: id.map(Into::into),
                name: name.map(Into::into),
                arguments: arguments.into(),
            },
        });
    }
    let effects = app.handle(AppEvent::StreamEnded { turn: 1 });
    assert_eq!(
        last_text(&app),
        "read_file  src/main.rs\nfailed\nTools are not available in this version of Cairn; answer without them."
    );
    let Some(Effect::Job(SessionJob::Record(kinds))) = effects.last() else {
        panic!("no record: {effects:?}");
    };
    // The same events `cairn run` records: the answer, then the call, then its result.
    assert_eq!(
        kinds[..],
        [
            EventKind::AssistantMessage {
                text: String::new(),
                usage: None,
                interrupted: false,
                model: Some("echo".into()),
            },
            EventKind::ToolCall {
                call_id: "c1".into(),
                name: "read_file".into(),
                arguments: "{\"path\": \"src/main.rs\"}".into()
            },
            EventKind::ToolResult {
                call_id: "c1".into(),
                output: cairn_core::turn::TOOLS_UNAVAILABLE_RESULT.into(),
                is_error: true,
            },
        ]
    );
}

#[test]
fn hostile_model_output_never_reaches_the_screen_raw() {
    let mut app = streaming("hi");
    delta(&mut app, "a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\u{9b}31m\rc");
    let live = app.live.as_ref().unwrap();
    assert_eq!(live.text, "a␛]52;c;ZXZpbA==␇b␛[2J\u{fffd}31m␍c");
    let terminal = draw(&app);
    for cell in terminal.backend().buffer().content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control character drawn: {:?}",
            cell.symbol()
        );
    }
    // Stored text is sanitised on load too.
    let app = app_with((80, 20), Origin::Resumed, vec![assistant("x\x1b[Hy")], &[]);
    assert_eq!(last_text(&app), "x␛[Hy");
}

#[test]
fn a_scrolled_up_reader_keeps_their_place_while_the_answer_grows() {
    let mut app = streaming("tell me a long story");
    for n in 0..30 {
        delta(&mut app, &format!("paragraph {n}\n\n"));
    }
    app.handle(key(KeyCode::PageUp));
    let before = app.scroll;
    assert!(before > 0);
    let area = app.areas(Rect::new(0, 0, 80, 20)).transcript;
    let width = area.width;
    let height = usize::from(area.height);
    let window = |app: &App| {
        app.transcript
            .visible(app.live.as_ref(), width, height, app.scroll)
            .iter()
            .map(|line| line.to_string())
            .collect::<Vec<_>>()
    };
    let shown = window(&app);
    delta(&mut app, "more\n\nand more\n\nand even more\n\n");
    assert!(
        app.scroll > before,
        "the offset from the bottom grew with the answer"
    );
    assert_eq!(window(&app), shown, "the same rows stay on screen");

    // At the bottom, the view follows the answer as before.
    app.handle(key(KeyCode::End));
    delta(&mut app, "the end\n\n");
    assert_eq!(app.scroll, 0);
}

/// Paragraphs are found the same way whatever the size of the deltas: one byte at a time,
/// a few bytes, or the whole answer at once.
#[test]
fn paragraph_commits_do_not_depend_on_how_the_answer_was_split() {
    let answer = "Intro line\n\n- item one\n\n  continued\n\nNext para\n```rust\nfn a() {}\n\nfn b() {}\n```\n\nAfter the fence\n\n\n   indented\nTail without newline";
    let stream_in = |step: usize| {
        let mut app = streaming("hi");
        let mut start = 0;
        while start < answer.len() {
            let mut end = (start + step).min(answer.len());
            while !answer.is_char_boundary(end) {
                end += 1;
            }
            delta(&mut app, &answer[start..end]);
            start = end;
        }
        let live = app.live.as_ref().map(|cell| cell.text.clone());
        (texts(&app), live)
    };
    let whole = stream_in(answer.len());
    for step in [1, 2, 3, 7, 16] {
        assert_eq!(stream_in(step), whole, "deltas of {step} bytes");
    }
    assert!(whole.0.len() > 3, "paragraphs were committed: {whole:?}");
}
