//! Snapshots of the approval prompt and of tool cells, at 80 and 40 columns.

use cairn_core::tool::{Place, ToolPolicy};
use cairn_core::{EventKind, ModelRequest, StreamEvent, ToolVerdict};
use crossterm::event::KeyCode;
use insta::assert_snapshot;

use crate::app::{AppEvent, Origin, ToolSettings, ToolState};
use crate::test_support::*;

fn with_tools(app: &mut crate::App) {
    app.tools = Some(ToolState::new(ToolSettings {
        policy: ToolPolicy {
            can_ask: true,
            ..ToolPolicy::default()
        },
        max_steps: 25,
        folder: "~/src/cairn".to_owned(),
    }));
}

/// A screen of `size` asking about `command`.
fn asking(size: (u16, u16), command: &str) -> crate::App {
    let mut app = app_with(size, Origin::New, Vec::new(), &[]);
    with_tools(&mut app);
    type_text(&mut app, "what is in here?");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: ModelRequest {
            model: "echo".into(),
            system: String::new(),
            messages: Vec::new(),
            max_output_tokens: None,
            tools: Vec::new(),
        },
    });
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("c1".into()),
            name: Some("run_command".into()),
            arguments: serde_json::json!({ "command": command }).to_string(),
        },
    });
    app.handle(AppEvent::StreamEnded { turn: 1 });
    app.handle(AppEvent::ToolPlaced {
        call_id: "c1".into(),
        place: Place::InsideWorkspace,
    });
    app
}

#[test]
fn approval_prompt_80_columns() {
    let app = asking((80, 20), "git status --short");
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn approval_prompt_40_columns_with_a_hostile_command() {
    let app = asking((40, 20), "printf '\x1b[2J\x1b]52;c;aGk=\x07'; ls");
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn approval_prompt_typing_a_reason() {
    let mut app = asking((80, 20), "rm -rf target");
    app.handle(key(KeyCode::Up));
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, "not now");
    assert_snapshot!(draw(&app).backend());
}

fn resumed_with_tools(size: (u16, u16)) -> crate::App {
    let call = |id: &str, name: &str, arguments: &str| EventKind::ToolCall {
        call_id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    };
    let decision = |id: &str, verdict, reason: Option<&str>| EventKind::ToolDecision {
        call_id: id.into(),
        decision: verdict,
        rule: None,
        reason: reason.map(Into::into),
    };
    let result = |id: &str, output: &str, is_error| EventKind::ToolResult {
        call_id: id.into(),
        output: output.into(),
        is_error,
    };
    let events = vec![
        user("run the tests"),
        assistant(""),
        call(
            "c1",
            "run_command",
            r#"{"command":"cargo test --workspace --all-targets"}"#,
        ),
        decision("c1", ToolVerdict::AllowedOnce, None),
        result(
            "c1",
            "exit code 101 after 12.3 s\nrunning 3 tests\ntest a ... ok\ntest b ... FAILED\n\x1b[31mtest c\x1b[0m ... ok\nfailures:\n    b",
            true,
        ),
        call("c2", "read_file", r#"{"path":"src/lib.rs"}"#),
        decision("c2", ToolVerdict::Automatic, None),
        result("c2", "1\tfn main() {}", false),
        call("c3", "run_command", r#"{"command":"git push --force"}"#),
        decision("c3", ToolVerdict::Denied, Some("never push from here")),
        result("c3", "Not run: denied: never push from here", true),
        call("c4", "run_command", r#"{"command":"sleep 30"}"#),
        decision("c4", ToolVerdict::AllowedOnce, None),
        decision("c4", ToolVerdict::Interrupted, None),
        result("c4", "Not run: the session was interrupted", true),
    ];
    app_with(size, Origin::Resumed, events, &[])
}

#[test]
fn tool_cells_80_columns() {
    assert_snapshot!(draw(&resumed_with_tools((80, 30))).backend());
}

#[test]
fn tool_cells_40_columns() {
    assert_snapshot!(draw(&resumed_with_tools((40, 40))).backend());
}
