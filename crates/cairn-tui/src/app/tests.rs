//! State-machine tests: construct the state, feed events, assert on effects and state. No
//! runtime, no terminal.

use std::path::PathBuf;
use std::time::Duration;

use cairn_core::provider::FinishReason;
use cairn_core::{EventKind, ModelRequest, ProviderError, StreamEvent, TokenUsage};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::*;
use crate::test_support::*;

fn request() -> ModelRequest {
    ModelRequest {
        model: "echo".into(),
        system: String::new(),
        messages: Vec::new(),
        max_output_tokens: None,
    }
}

fn texts(app: &App) -> Vec<(CellKind, String)> {
    app.transcript
        .cells()
        .iter()
        .map(|cell| (cell.kind.clone(), cell.text.clone()))
        .collect()
}

fn last_text(app: &App) -> String {
    app.transcript
        .cells()
        .last()
        .map(|cell| cell.text.clone())
        .unwrap_or_default()
}

/// Sends `text` and starts its stream; returns the app with turn 1 streaming.
fn streaming(text: &str) -> App {
    let mut app = new_app();
    type_text(&mut app, text);
    app.handle(key(KeyCode::Enter));
    let effects = app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    assert_eq!(
        effects,
        vec![Effect::StartStream {
            turn: 1,
            request: request()
        }]
    );
    app
}

fn delta(app: &mut App, text: &str) -> Vec<Effect> {
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::TextDelta(text.into()),
    })
}

#[test]
fn enter_sends_the_message_and_persists_it_first() {
    let mut app = new_app();
    type_text(&mut app, "hello");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("hello".into()),
            Effect::Job(SessionJob::SendUserMessage {
                turn: 1,
                text: "hello".into(),
                model: "echo".into()
            }),
        ]
    );
    assert_eq!(texts(&app), vec![(CellKind::User, "hello".into())]);
    assert_eq!(app.input_text(), "");
    assert!(app.is_busy());
}

#[test]
fn shift_enter_alt_enter_and_ctrl_j_insert_newlines() {
    let mut app = new_app();
    type_text(&mut app, "a");
    assert!(app.handle(shift(KeyCode::Enter)).is_empty());
    type_text(&mut app, "b");
    assert!(app.handle(alt(KeyCode::Enter)).is_empty());
    type_text(&mut app, "c");
    assert!(app.handle(ctrl('j')).is_empty());
    type_text(&mut app, "d");
    assert_eq!(app.input_text(), "a\nb\nc\nd");
    assert!(!app.is_busy());
}

#[test]
fn line_editing_keys() {
    let mut app = new_app();
    type_text(&mut app, "one two three");
    app.handle(ctrl('a'));
    type_text(&mut app, ">");
    assert_eq!(app.input_text(), ">one two three");
    app.handle(ctrl('e'));
    app.handle(ctrl('w'));
    assert_eq!(app.input_text(), ">one two ");
    app.handle(key(KeyCode::Home));
    app.handle(alt(KeyCode::Char('f')));
    app.handle(alt(KeyCode::Char('f')));
    app.handle(ctrl('k'));
    assert_eq!(app.input_text(), ">one ");
    app.handle(key(KeyCode::Left));
    app.handle(ctrl('u'));
    assert_eq!(app.input_text(), " ");
    app.handle(key(KeyCode::End));
    type_text(&mut app, "xy");
    app.handle(alt(KeyCode::Char('b')));
    type_text(&mut app, "[");
    assert_eq!(app.input_text(), " [xy");
    app.handle(key(KeyCode::Backspace));
    app.handle(AppEvent::Key(crossterm::event::KeyEvent::new(
        KeyCode::Right,
        crossterm::event::KeyModifiers::CONTROL,
    )));
    app.handle(key(KeyCode::Left));
    app.handle(key(KeyCode::Delete));
    assert_eq!(app.input_text(), " x");
}

#[test]
fn up_and_down_recall_this_workspaces_prompts_and_restore_the_draft() {
    let mut app = new_app();
    type_text(&mut app, "draft");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "latest prompt");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier prompt");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier prompt");
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "latest prompt");
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "draft");
}

#[test]
fn up_inside_a_multi_line_input_moves_the_cursor_not_the_history() {
    let mut app = new_app();
    type_text(&mut app, "line one");
    app.handle(shift(KeyCode::Enter));
    type_text(&mut app, "two");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "line one\ntwo");
    assert_eq!(app.input.cursor().0, 0);
}

#[test]
fn up_and_down_walk_past_a_multi_line_prompt_like_a_shell() {
    let mut app = app_with_history(&["from A one", "from B one", "from A two", "m1\nm2"]);
    type_text(&mut app, "my draft");
    let mut seen = Vec::new();
    for _ in 0..5 {
        app.handle(key(KeyCode::Up));
        seen.push((app.input_text(), app.input.cursor().0));
    }
    // A recalled prompt puts the cursor on its first line, so Up keeps going back.
    assert_eq!(
        seen,
        vec![
            ("m1\nm2".to_owned(), 0),
            ("from A two".to_owned(), 0),
            ("from B one".to_owned(), 0),
            ("from A one".to_owned(), 0),
            ("from A one".to_owned(), 0),
        ]
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        app.handle(key(KeyCode::Down));
        seen.push((app.input_text(), app.input.cursor().0));
    }
    // Going down the cursor lands on the last line, so Down keeps going forward.
    assert_eq!(
        seen,
        vec![
            ("from B one".to_owned(), 0),
            ("from A two".to_owned(), 0),
            ("m1\nm2".to_owned(), 1),
            ("my draft".to_owned(), 0),
        ]
    );
}

#[test]
fn moving_inside_a_recalled_multi_line_prompt_keeps_the_history_place() {
    let mut app = app_with_history(&["older", "m1\nm2"]);
    app.handle(key(KeyCode::Up));
    assert_eq!(
        (app.input_text(), app.input.cursor().0),
        ("m1\nm2".to_owned(), 0)
    );
    // Down on the first line moves to the second line, not forward in the history.
    app.handle(key(KeyCode::Down));
    assert_eq!(
        (app.input_text(), app.input.cursor().0),
        ("m1\nm2".to_owned(), 1)
    );
    app.handle(key(KeyCode::Up));
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "older");
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "");
}

#[test]
fn the_input_box_is_as_tall_as_the_editor_wraps_its_text() {
    let mut app = app_with((100, 30), Origin::New, Vec::new(), &[]);
    let screen = Rect::new(0, 0, 100, 30);
    type_text(&mut app, &format!("{} end", "x".repeat(104)));
    // 98 columns of text: 98 x, then 6 x, then " end" (the editor starts a new row after a
    // word it had to split).
    assert_eq!(app.areas(screen).input.height, 3);
    app.handle(ctrl('a'));
    assert_eq!(app.areas(screen).input.height, 3);
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains(" end"), "{drawn}");

    let mut app = app_with((100, 30), Origin::New, Vec::new(), &[]);
    type_text(
        &mut app,
        &format!("see {} tail words here", "x".repeat(100)),
    );
    assert_eq!(app.areas(screen).input.height, 4);
}

#[test]
fn a_tall_input_is_capped_and_keeps_the_cursor_row_in_view() {
    let mut app = app_with((40, 24), Origin::New, Vec::new(), &[]);
    for line in 1..=12 {
        type_text(&mut app, &format!("line {line}"));
        app.handle(shift(KeyCode::Enter));
    }
    type_text(&mut app, "last");
    let screen = Rect::new(0, 0, 40, 24);
    assert_eq!(app.areas(screen).input.height, MAX_INPUT_ROWS);
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains("last"), "{drawn}");
    app.handle(ctrl_key(KeyCode::Home));
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains("line 1 "), "{drawn}");
}

#[test]
fn sent_prompts_join_the_history() {
    let mut app = new_app();
    type_text(&mut app, "fresh");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::StreamEnded { turn: 1 });
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "fresh");
}

#[test]
fn page_keys_wheel_and_end_scroll_the_transcript() {
    let kinds = (0..40)
        .flat_map(|n| {
            [
                user(&format!("question {n}")),
                assistant(&format!("answer {n}")),
            ]
        })
        .collect();
    let mut app = app_with((60, 20), Origin::Resumed, kinds, &[]);
    app.handle(key(KeyCode::PageUp));
    let page = app.scroll;
    assert!(page > 0);
    app.handle(key(KeyCode::PageUp));
    assert_eq!(app.scroll, 2 * page);
    app.handle(key(KeyCode::PageDown));
    assert_eq!(app.scroll, page);
    app.handle(AppEvent::Wheel { up: true });
    assert_eq!(app.scroll, page + 3);
    app.handle(AppEvent::Wheel { up: false });
    assert_eq!(app.scroll, page);
    app.handle(key(KeyCode::End));
    assert_eq!(app.scroll, 0);
    for _ in 0..100 {
        app.handle(key(KeyCode::PageUp));
    }
    let top = app.scroll;
    let transcript = app.areas(Rect::new(0, 0, 60, 20)).transcript;
    let total = app.transcript.height_up_to(None, 60, usize::MAX);
    assert_eq!(top, total - usize::from(transcript.height));
    type_text(&mut app, "back to the bottom");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.scroll, 0);
}

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
fn esc_cancels_a_streaming_answer_and_keeps_the_partial_text() {
    let mut app = streaming("hi");
    delta(&mut app, "partial ans");
    let effects = app.handle(key(KeyCode::Esc));
    assert_eq!(
        effects,
        vec![
            Effect::CancelStream { turn: 1 },
            Effect::Job(SessionJob::Record(vec![EventKind::AssistantMessage {
                text: "partial ans".into(),
                usage: None,
                interrupted: true,
                model: Some("echo".into()),
            }])),
        ]
    );
    assert_eq!(
        texts(&app).last().unwrap().0,
        CellKind::Assistant {
            first: true,
            interrupted: true
        }
    );
    // Late events of the cancelled turn are ignored.
    assert!(delta(&mut app, "more").is_empty());
    assert!(app.live.is_none());
}

#[test]
fn cancelling_before_the_first_token_records_nothing() {
    let mut app = new_app();
    type_text(&mut app, "hi");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.handle(key(KeyCode::Esc)), Vec::new());
    assert_eq!(last_text(&app), "Cancelled.");
    // The request that arrives afterwards is not started.
    assert!(
        app.handle(AppEvent::RequestReady {
            turn: 1,
            request: request()
        })
        .is_empty()
    );
}

#[test]
fn ctrl_c_cancels_then_clears_then_asks_then_quits() {
    let mut app = streaming("hi");
    delta(&mut app, "x");
    let effects = app.handle(ctrl('c'));
    assert!(effects.contains(&Effect::CancelStream { turn: 1 }));
    type_text(&mut app, "typed");
    assert!(app.handle(ctrl('c')).is_empty());
    assert_eq!(app.input_text(), "");
    assert!(app.handle(ctrl('c')).is_empty());
    assert_eq!(app.hint.as_deref(), Some("press Ctrl+C again to quit"));
    assert_eq!(app.handle(ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn another_key_disarms_the_ctrl_c_quit() {
    let mut app = new_app();
    app.handle(ctrl('c'));
    app.handle(key(KeyCode::Left));
    assert_eq!(app.hint, None);
    assert!(app.handle(ctrl('c')).is_empty());
}

#[test]
fn ctrl_d_quits_only_on_an_empty_line() {
    let mut app = new_app();
    type_text(&mut app, "ab");
    app.handle(key(KeyCode::Left));
    assert!(app.handle(ctrl('d')).is_empty());
    assert_eq!(app.input_text(), "a");
    app.handle(ctrl('u'));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(app.handle(ctrl('d')), vec![Effect::Quit]);
}

#[test]
fn quitting_while_streaming_saves_the_partial_answer_first() {
    let mut app = streaming("hi");
    delta(&mut app, "half");
    let effects = app.handle(AppEvent::Terminate);
    assert_eq!(effects.len(), 3);
    assert_eq!(effects[0], Effect::CancelStream { turn: 1 });
    assert!(matches!(
        &effects[1],
        Effect::Job(SessionJob::Record(kinds))
            if matches!(&kinds[0], EventKind::AssistantMessage { interrupted: true, text, .. } if text == "half")
    ));
    assert_eq!(effects[2], Effect::Quit);
}

#[test]
fn ctrl_l_redraws() {
    let mut app = new_app();
    assert_eq!(app.handle(ctrl('l')), vec![Effect::ClearScreen]);
}

#[test]
fn question_mark_and_slash_help_open_the_help_which_esc_or_question_mark_close() {
    let mut app = new_app();
    app.handle(key(KeyCode::Char('?')));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
    type_text(&mut app, "/help");
    app.handle(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    app.handle(key(KeyCode::Char('?')));
    assert!(matches!(app.overlay, Overlay::None));
    // In the middle of text, ? is just a character.
    type_text(&mut app, "why?");
    assert_eq!(app.input_text(), "why?");
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn the_help_scrolls_with_arrows_and_page_keys_within_its_length() {
    let mut app = app_with((80, 24), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    let max = crate::render::help_max_scroll(Rect::new(0, 0, 80, 24));
    assert!(max > 0, "the help is taller than 24 rows");
    let mut seen = Vec::new();
    for code in [
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Up,
        KeyCode::PageDown,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
    ] {
        app.handle(key(code));
        let Overlay::Help { scroll } = app.overlay else {
            panic!("the help closed on {code:?}");
        };
        seen.push(scroll);
    }
    assert_eq!(seen, vec![1, 2, 1, max, max, 0, max, 0]);
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn bracketed_paste_inserts_lines_without_sending() {
    let mut app = new_app();
    let effects = app.handle(AppEvent::Paste("one\r\ntwo\nthree".into()));
    assert!(effects.is_empty());
    assert_eq!(app.input_text(), "one\ntwo\nthree");
    assert!(app.transcript.cells().is_empty());
}

#[test]
fn slash_shows_commands_and_tab_completes() {
    let mut app = new_app();
    type_text(&mut app, "/");
    assert_eq!(app.completions().len(), commands::COMMANDS.len());
    type_text(&mut app, "re");
    let names: Vec<&str> = app.completions().iter().map(|spec| spec.name).collect();
    assert_eq!(names, vec!["retry", "rename"]);
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.input_text(), "/rename ");
    assert!(app.completions().is_empty());
}

#[test]
fn enter_on_a_partial_command_runs_the_highlighted_one() {
    let mut app = new_app();
    type_text(&mut app, "/he");
    app.handle(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    // A command that needs an argument is completed, not run.
    app.handle(key(KeyCode::Esc));
    type_text(&mut app, "/ren");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.input_text(), "/rename ");
}

#[test]
fn slash_new_archives_and_clears_the_screen() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("old"), assistant("reply")],
        &[],
    );
    type_text(&mut app, "/new");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("/new".into()),
            Effect::Job(SessionJob::NewSession)
        ]
    );
    let mut fresh = view();
    fresh.id = cairn_core::SessionId(uuid::Uuid::from_u128(42));
    // The session task shortens the id only as far as it stays unambiguous.
    app.handle(AppEvent::SessionReset {
        archived: Some("0193a1b2c3d4".to_owned()),
        view: fresh.clone(),
    });
    assert_eq!(app.origin, Origin::New);
    assert_eq!(app.session, fresh);
    assert_eq!(
        texts(&app),
        vec![(
            CellKind::Note,
            "Started a new session. The previous one was archived; `cairn -s 0193a1b2c3d4` brings it back."
                .to_owned()
        )]
    );
    assert_eq!(app.usage, UsageTotals::default());
}

#[test]
fn slash_quit_and_exit_quit() {
    for command in ["/quit", "/exit"] {
        let mut app = new_app();
        type_text(&mut app, command);
        let effects = app.handle(key(KeyCode::Enter));
        assert_eq!(effects.last(), Some(&Effect::Quit), "{command}");
    }
}

#[test]
fn the_sessions_picker_lists_filters_toggles_and_switches() {
    use cairn_core::service::SessionSummary;
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::ListSessions {
            all_workspaces: false
        }))
    );
    let make = |n: u128, title: &str| SessionSummary {
        session: cairn_core::Session {
            id: cairn_core::SessionId(uuid::Uuid::from_u128(n)),
            directory: "/w".into(),
            git_root: None,
            head_id: None,
            title: title.into(),
            created_at_ms: NOW_MS,
            updated_at_ms: NOW_MS,
            archived_at_ms: None,
        },
        message_count: 2,
        preview: "p".into(),
    };
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![make(1, "alpha"), make(2, "beta"), make(3, "gamma")]),
    });
    type_text(&mut app, "a");
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    assert_eq!(picker.rows(NOW_MS).len(), 3);
    type_text(&mut app, "m");
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    assert_eq!(picker.rows(NOW_MS)[0].title, "gamma");
    app.handle(key(KeyCode::Backspace));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(
        app.handle(key(KeyCode::Tab)),
        vec![Effect::Job(SessionJob::ListSessions {
            all_workspaces: true
        })]
    );
    assert_eq!(
        app.handle(ctrl('a')),
        vec![Effect::Job(SessionJob::ListSessions {
            all_workspaces: false
        })]
    );
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![make(1, "alpha"), make(2, "beta")]),
    });
    app.handle(key(KeyCode::Down));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Resume(cairn_core::SessionId(
            uuid::Uuid::from_u128(2)
        )))]
    );
    assert!(matches!(app.overlay, Overlay::None));

    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn a_loaded_session_replaces_the_transcript() {
    let mut app = new_app();
    app.handle(AppEvent::SessionLoaded {
        view: view(),
        events: events(vec![user("q"), assistant("a")]),
        notes: vec![
            "Continuing previous session (last active 2 days ago) - /new starts a fresh one".into(),
        ],
    });
    assert_eq!(app.origin, Origin::Resumed);
    assert_eq!(texts(&app).len(), 3);
    assert_eq!(app.usage.output, 56);
}

#[test]
fn rename_needs_a_title() {
    let mut app = new_app();
    type_text(&mut app, "/rename Better title");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Rename("Better title".into())))
    );
    app.handle(AppEvent::Renamed {
        title: "Better title".into(),
    });
    assert_eq!(last_text(&app), "Renamed this session to “Better title”.");
    type_text(&mut app, "/rename");
    app.handle(key(KeyCode::Enter));
    assert_eq!(
        texts(&app).last().unwrap(),
        &(CellKind::Error, "usage: /rename <title>".into())
    );
}

#[test]
fn export_writes_to_the_workspace_by_default_and_says_where() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("a")],
        &[],
    );
    type_text(&mut app, "/export");
    let effects = app.handle(key(KeyCode::Enter));
    let expected = PathBuf::from(format!(
        "/home/dev/projects/demo/cairn-{}.md",
        session_id().short()
    ));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export(expected.clone())))
    );
    type_text(&mut app, "/export notes/chat.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export(PathBuf::from(
            "/home/dev/projects/demo/notes/chat.md"
        ))))
    );
    app.handle(AppEvent::ExportWritten {
        result: Ok(expected.clone()),
    });
    assert_eq!(
        last_text(&app),
        format!("Exported the conversation to {}", expected.display())
    );
}

#[test]
fn export_leaves_a_home_path_to_the_session_task_and_refuses_an_empty_session() {
    let mut app = new_app();
    type_text(&mut app, "/export ~/exp.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::SaveHistory("/export ~/exp.md".into())]
    );
    assert_eq!(last_text(&app), "There is nothing to export yet.");

    let mut app = app_with((80, 20), Origin::Resumed, vec![user("q")], &[]);
    type_text(&mut app, "/export ~/exp.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export(PathBuf::from("~/exp.md"))))
    );
}

#[test]
fn esc_closes_the_command_popup_and_keeps_the_text() {
    let mut app = new_app();
    type_text(&mut app, "/mo");
    assert_eq!(app.completions().len(), 1);
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.input_text(), "/mo");
    assert!(app.completions().is_empty());
    // Typing brings it back.
    type_text(&mut app, "d");
    assert_eq!(app.completions().len(), 1);
}

#[test]
fn commands_are_case_insensitive() {
    let mut app = new_app();
    type_text(&mut app, "/QUIT");
    assert_eq!(app.handle(key(KeyCode::Enter)).last(), Some(&Effect::Quit));
}

#[test]
fn tab_on_an_ambiguous_prefix_completes_the_common_part_then_cycles() {
    let mut app = new_app();
    type_text(&mut app, "/r");
    app.handle(key(KeyCode::Tab));
    // retry and rename share "re"; neither is picked for the user.
    assert_eq!(app.input_text(), "/re");
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.input_text(), "/re");
    assert_eq!(app.popup_selected, 0);
    assert!(app.hint.as_deref().unwrap_or("").contains("Tab again"));
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.popup_selected, 1);
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.popup_selected, 0);
    app.handle(key(KeyCode::Tab));
    let effects = app.handle(key(KeyCode::Enter));
    // Enter on the highlighted /rename completes it and waits for the title.
    assert!(effects.is_empty());
    assert_eq!(app.input_text(), "/rename ");
}

#[test]
fn copy_sends_the_last_answer_to_the_clipboard() {
    let mut app = new_app();
    type_text(&mut app, "/copy");
    app.handle(key(KeyCode::Enter));
    assert_eq!(last_text(&app), "There is no answer to copy yet.");
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("the answer")],
        &[],
    );
    type_text(&mut app, "/copy");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::CopyToClipboard("the answer".into())));
}

#[test]
fn model_shows_or_switches_the_model() {
    let mut app = new_app();
    type_text(&mut app, "/model");
    app.handle(key(KeyCode::Enter));
    assert!(last_text(&app).starts_with("Model: echo (echo/echo (offline))"));
    type_text(&mut app, "/model bigger-model");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.model, "bigger-model");
    assert_eq!(app.provider_label(), "echo/bigger-model (offline)");
    type_text(&mut app, "hi");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::SendUserMessage { model, .. })) if model == "bigger-model"
    ));
}

#[test]
fn retry_drops_the_last_answer_and_asks_again() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q1"), assistant("a1"), user("q2"), assistant("a2")],
        &[],
    );
    type_text(&mut app, "/retry");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Retry {
            turn: 1,
            model: "echo".into()
        }))
    );
    assert_eq!(last_text(&app), "q2");
    assert!(app.is_busy());
}

#[test]
fn unknown_commands_say_so_and_double_slash_sends_a_slash() {
    let mut app = new_app();
    type_text(&mut app, "/nope");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert!(last_text(&app).starts_with("unknown command /nope"));
    type_text(&mut app, "//nope");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::SendUserMessage { text, .. })) if text == "/nope"
    ));
}

#[test]
fn provider_errors_are_shown_and_recorded_and_enter_retries() {
    let mut app = streaming("hi");
    let effects = app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: ProviderError::RateLimited {
            attempts: 4,
            message: "slow down".into(),
        },
    });
    // The error is stored as the provider gave it; the hint is for the screen only.
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Record(vec![EventKind::Error {
            message: "rate limited by the provider (429) after 4 attempts: slow down".into()
        }]))]
    );
    let message = "rate limited by the provider (429) after 4 attempts: slow down. Press Enter on an empty line or type /retry to try again.";
    assert_eq!(
        texts(&app).last().unwrap(),
        &(CellKind::Error, message.into())
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Retry {
            turn: 2,
            model: "echo".into()
        })]
    );
    // The error is dropped from the screen, as from the branch.
    assert_eq!(texts(&app), vec![(CellKind::User, "hi".into())]);
}

#[test]
fn enter_on_an_empty_line_does_nothing_without_an_error() {
    let mut app = new_app();
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
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
        "tool call: read_file({\"path\": \"src/main.rs\"})"
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
fn persistence_failures_are_shown() {
    let mut app = new_app();
    app.handle(AppEvent::Persisted(PersistReport {
        error: Some("disk full".into()),
        merged: None,
    }));
    assert!(last_text(&app).starts_with("Could not save to the session database: disk full."));
}

#[test]
fn writes_from_another_cairn_rebuild_the_transcript_with_a_note() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    app.handle(AppEvent::Persisted(PersistReport {
        error: None,
        merged: Some((
            2,
            events(vec![
                user("theirs"),
                assistant("their answer"),
                user("mine"),
            ]),
        )),
    }));
    assert_eq!(
        texts(&app),
        vec![
            (CellKind::User, "theirs".into()),
            (
                CellKind::Assistant {
                    first: true,
                    interrupted: false
                },
                "their answer".into()
            ),
            (CellKind::User, "mine".into()),
            (
                CellKind::Note,
                "Another Cairn wrote 2 events to this session; yours follow them.".into()
            ),
        ]
    );
}

#[test]
fn sending_while_an_answer_streams_keeps_the_text_and_says_why() {
    let mut app = streaming("hi");
    type_text(&mut app, "follow-up");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.input_text(), "follow-up");
    assert_eq!(
        app.hint.as_deref(),
        Some("an answer is streaming · Esc cancels")
    );
    let drawn = draw(&app).backend().to_string();
    assert!(
        drawn.contains("an answer is streaming · Esc cancels"),
        "{drawn}"
    );
}

#[test]
fn resize_reflows_and_keeps_the_scroll_in_range() {
    let kinds = (0..10).map(|n| user(&format!("message {n}"))).collect();
    let mut app = app_with((40, 10), Origin::Resumed, kinds, &[]);
    for _ in 0..10 {
        app.handle(key(KeyCode::PageUp));
    }
    let before = app.scroll;
    app.handle(AppEvent::Resize {
        width: 40,
        height: 30,
    });
    assert!(app.scroll < before);
}

#[test]
fn the_resumed_transcript_ends_with_the_note_and_starts_at_the_bottom() {
    let note = "Continuing previous session (last active 12 minutes ago) - /new starts a fresh one";
    let app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("a")],
        &[note],
    );
    assert_eq!(last_text(&app), note);
    assert_eq!(app.scroll, 0);
    assert_eq!(app.origin, Origin::Resumed);
}

#[test]
fn errors_in_a_loaded_session_make_enter_retry() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![
            user("q"),
            EventKind::Error {
                message: "boom".into(),
            },
        ],
        &[],
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::Retry { .. }))
    ));
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
