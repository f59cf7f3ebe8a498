//! Snapshots of every screen, drawn into a `TestBackend` at fixed sizes with injected ids
//! and times.

use std::time::Duration;

use cairn_core::provider::FinishReason;
use cairn_core::service::SessionSummary;
use cairn_core::{ProviderError, Session, StreamEvent};
use crossterm::event::KeyCode;
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

use crate::app::{AppEvent, Origin};
use crate::test_support::*;

fn request() -> cairn_core::ModelRequest {
    cairn_core::ModelRequest {
        model: "echo".into(),
        system: String::new(),
        messages: Vec::new(),
        max_output_tokens: None,
        tools: Vec::new(),
    }
}

const RESUMED_NOTE: &str =
    "Continuing previous session (last active 12 minutes ago) - /new starts a fresh one";

fn conversation() -> Vec<cairn_core::EventKind> {
    vec![
        user("How do I read a file in Rust?"),
        assistant(
            "Use `std::fs::read_to_string`:\n\n```rust\nlet text = std::fs::read_to_string(\"notes.txt\")?;\n```\n\nIt returns an **io::Result**.",
        ),
        user("And line by line?"),
        assistant(
            "## Line by line\n\n1. Open the file\n2. Wrap it in a `BufReader`\n3. Call `lines()`\n\n> Each line is an *io::Result* too.",
        ),
    ]
}

#[test]
fn empty_new_session() {
    let app = app_with(
        (80, 12),
        Origin::New,
        Vec::new(),
        &["using the offline echo provider: no API key found"],
    );
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn resumed_session_with_note() {
    let app = app_with((80, 30), Origin::Resumed, conversation(), &[RESUMED_NOTE]);
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn waiting_for_the_first_token() {
    let mut app = new_app();
    type_text(&mut app, "explain borrowing");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::Tick {
        now_ms: NOW_MS + 2_300,
    });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn streaming_answer() {
    let mut app = new_app();
    type_text(&mut app, "explain borrowing");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    for delta in [
        "Borrowing lets ",
        "code *use* a value\n\nwithout ",
        "owning it",
    ] {
        app.handle(AppEvent::Stream {
            turn: 1,
            event: StreamEvent::TextDelta(delta.into()),
        });
    }
    app.handle(AppEvent::Tick {
        now_ms: NOW_MS + 4_100,
    });
    type_text(&mut app, "next question while it streams");
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn retrying_status() {
    let mut app = new_app();
    type_text(&mut app, "hello");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::Retrying {
            attempt: 1,
            max_attempts: 4,
            delay: Duration::from_secs(2),
            reason: "429 Too Many Requests".into(),
        },
    });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn provider_error() {
    let mut app = new_app();
    type_text(&mut app, "hello");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: ProviderError::Auth {
            status: 401,
            key_env: "OPENAI_API_KEY".into(),
            message: "invalid key".into(),
        },
    });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn help_overlay() {
    let mut app = app_with((90, 34), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn help_overlay_at_80_by_24_scrolls_to_its_end() {
    let mut app = app_with((80, 24), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    let top = draw(&app).backend().to_string();
    app.handle(key(KeyCode::End));
    let bottom = draw(&app).backend().to_string();
    assert_snapshot!("help_overlay_80x24_top", top);
    assert_snapshot!("help_overlay_80x24_bottom", bottom);
}

#[test]
fn help_overlay_in_a_tiny_terminal() {
    let mut app = app_with((20, 6), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    app.handle(key(KeyCode::Down));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn status_line_at_80_columns_shortens_the_title_first() {
    let mut app = app_with((80, 8), Origin::Resumed, conversation(), &[]);
    app.session.title = "A rather long title about reading files in Rust line by line".into();
    app.handle(AppEvent::Tick { now_ms: NOW_MS });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn status_line_names_a_shared_store_until_only_the_essentials_fit() {
    let mut app = app_with((120, 8), Origin::Resumed, conversation(), &[]);
    app.store = Some("postgres db.example:5432/cairn".into());
    app.handle(AppEvent::Tick { now_ms: NOW_MS });
    assert_snapshot!("shared_store_wide", draw(&app).backend());
    // The folder's parents go before the store does.
    for (width, name) in [(100, "shared_store_narrow"), (60, "shared_store_tiny")] {
        app.handle(AppEvent::Resize { width, height: 8 });
        assert_snapshot!(name, draw(&app).backend());
    }
}

#[test]
fn command_popup_is_as_wide_as_its_entries() {
    let mut app = app_with((100, 16), Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/");
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn slash_completion_popup() {
    let mut app = app_with((80, 16), Origin::Resumed, conversation(), &[]);
    type_text(&mut app, "/re");
    app.handle(key(KeyCode::Down));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn command_popup_covers_the_transcript_and_keeps_the_tab_note_in_view() {
    let long = "a long line of the answer that runs right across the screen ".repeat(4);
    let mut app = app_with(
        (80, 12),
        Origin::Resumed,
        vec![user("question"), assistant(&long)],
        &[],
    );
    type_text(&mut app, "/re");
    app.handle(key(KeyCode::Tab));
    assert_snapshot!(draw(&app).backend());
}

pub(super) fn summary(
    n: u128,
    title: &str,
    minutes_ago: i64,
    count: u64,
    preview: &str,
) -> SessionSummary {
    SessionSummary {
        session: Session {
            id: cairn_core::SessionId(Uuid::from_u128((0x0193_0000 + n) << 96)),
            directory: "/home/dev/projects/demo".into(),
            git_root: None,
            head_id: None,
            title: title.into(),
            created_at_ms: NOW_MS - minutes_ago * 60_000 - 1000,
            updated_at_ms: NOW_MS - minutes_ago * 60_000,
            archived_at_ms: None,
            model: None,
            location: cairn_core::Location::default(),
        },
        message_count: count,
        branch_count: 1,
        preview: preview.into(),
        title_source: cairn_core::title::TitleSource::FirstMessage,
    }
}

#[test]
fn sessions_picker() {
    let mut app = app_with((80, 16), Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![
            summary(
                1,
                "Fix the flaky test",
                12,
                8,
                "why does it fail on CI only?",
            ),
            summary(2, "Release notes", 3 * 60, 4, "draft the notes for 0.2"),
            summary(3, "", 2 * 24 * 60, 2, "hello"),
        ]),
    });
    app.handle(key(KeyCode::Down));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn sessions_picker_with_search_matches() {
    use cairn_core::search::{SearchHit, Snippet};
    let mut app = app_with((80, 12), Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/search kestrel");
    app.handle(key(KeyCode::Enter));
    let listed = summary(1, "Birds of prey", 12, 8, "which birds hover?");
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![listed.clone()]),
    });
    let found = |session: Session, passage: &str| SearchHit {
        snippets: vec![Snippet::from_marked(
            session.id,
            cairn_core::EventId(Uuid::from_u128(7)),
            passage,
        )],
        session,
        score: 1.0,
    };
    let older = summary(2, "Falconry notes", 3 * 24 * 60, 2, "").session;
    app.handle(AppEvent::SearchResults {
        query: "kestrel".into(),
        all_workspaces: false,
        result: Ok(vec![
            found(
                listed.session,
                "…a \u{e000}kestrel\u{e001} hovers, then drops on its prey",
            ),
            found(older, "the \u{e000}kestrel\u{e001} is the smallest falcon…"),
        ]),
    });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn sessions_picker_tells_apart_sessions_of_the_same_minute_and_marks_archived_ones() {
    let mut app = app_with((80, 10), Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    // Created within the same second: their first ten digits are equal.
    let mut same_minute = summary(1, "Today", 1, 2, "now");
    same_minute.session.id = cairn_core::SessionId(Uuid::from_u128(0x0193_a1b2_c3d4 << 80));
    let mut archived = summary(2, "Earlier today", 5, 4, "before");
    archived.session.id = cairn_core::SessionId(Uuid::from_u128(0x0193_a1b2_c3f0 << 80));
    archived.session.archived_at_ms = Some(NOW_MS - 60_000);
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![same_minute, archived]),
    });
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn markdown_table_fitted_to_a_narrow_terminal() {
    let app = app_with(
        (40, 16),
        Origin::Resumed,
        vec![
            user("compare them"),
            assistant(
                "| Tool | Resume | Notes |\n|---|:---:|---|\n| Cairn | ~~no~~ yes | per workspace, in a window |\n| shell | - | history only |\n\n- [x] tables\n- [ ] more",
            ),
        ],
        &[],
    );
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn help_overlay_at_40_columns_puts_descriptions_under_their_keys() {
    let mut app = app_with((40, 20), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn model_picker() {
    let mut app = app_with((60, 12), Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/model");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::ModelsListed(Ok((1..=12)
        .map(|n| format!("model-{n:02}"))
        .chain(["echo".to_owned()])
        .collect())));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn tiny_terminal() {
    let app = app_with((20, 6), Origin::Resumed, conversation(), &[RESUMED_NOTE]);
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn wide_characters_wrap_by_display_width() {
    let app = app_with(
        (30, 14),
        Origin::Resumed,
        vec![
            user("日本語のテキストを折り返す"),
            assistant("你好世界！这是一个很长的句子，用来测试换行。🎉🎉 emoji 👩‍👩‍👧 too"),
        ],
        &[],
    );
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn finished_answer_with_tool_call() {
    let mut app = new_app();
    type_text(&mut app, "list files");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    for event in [
        StreamEvent::TextDelta("Let me look.".into()),
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("call_1".into()),
            name: Some("list_dir".into()),
            arguments: "{\"path\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            id: None,
            name: None,
            arguments: " \".\"}".into(),
        },
        StreamEvent::Finished(FinishReason::ToolCalls),
    ] {
        app.handle(AppEvent::Stream { turn: 1, event });
    }
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn every_size_down_to_nothing_draws_without_panicking() {
    let mut app = app_with((20, 6), Origin::Resumed, conversation(), &[RESUMED_NOTE]);
    type_text(&mut app, "/");
    for (width, height) in [
        (0, 0),
        (1, 1),
        (2, 1),
        (5, 2),
        (10, 3),
        (19, 5),
        (20, 6),
        (300, 2),
    ] {
        app.handle(AppEvent::Resize { width, height });
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| frame.render_widget(&app, frame.area()))
            .unwrap();
    }
    app.handle(key(KeyCode::Esc));
    app.handle(key(KeyCode::Char('?')));
    for (width, height) in [(0, 0), (1, 1), (5, 2), (20, 6)] {
        app.handle(AppEvent::Resize { width, height });
        draw(&app);
    }
}

#[test]
fn another_terminal_answering_with_a_queued_message() {
    let mut app = app_with((80, 16), Origin::Resumed, conversation(), &[]);
    app.handle(AppEvent::LiveUpdate(crate::app::LiveUpdate {
        appended: events(vec![user("What about bytes?")]),
        other_turn: Some((
            "pid 4242 on laptop".into(),
            "Use `std::fs::read` for".into(),
        )),
        archived_elsewhere: false,
        deleted: None,
    }));
    type_text(&mut app, "and write it back?");
    app.handle(key(KeyCode::Enter));
    assert_snapshot!(draw(&app).backend());
}
