//! The chat's tool loop and approval prompt: every key path of the prompt, grants, the step
//! limit, cancelling a running command and quitting in the middle.

use cairn_core::tool::{CommandPrefix, Place, ToolPolicy, ToolRequest};
use cairn_core::turn::interrupted_call_events;
use cairn_core::{EventKind, StreamEvent, ToolVerdict};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::super::tools::ToolState;
use super::*;
use crate::app::{SessionJob, ToolSettings};

fn tool_app(max_steps: u32) -> App {
    let mut app = new_app();
    app.tools = Some(ToolState::new(ToolSettings {
        policy: ToolPolicy {
            can_ask: true,
            ..ToolPolicy::default()
        },
        max_steps,
        folder: "~/work".to_owned(),
    }));
    app
}

fn command(text: &str) -> ToolRequest {
    ToolRequest::RunCommand {
        command: text.to_owned(),
    }
}

/// Streams an answer of turn `turn` calling `run_command` with each of `commands`
/// (ids `c1`, `c2`, …) and ends it; returns the effects of the end.
fn answer_with_commands(app: &mut App, turn: u64, commands: &[&str]) -> Vec<Effect> {
    let ready = app.handle(AppEvent::RequestReady {
        turn,
        request: request(),
    });
    let Some(Effect::StartStream { request, .. }) = ready.first() else {
        panic!("no stream: {ready:?}");
    };
    assert_eq!(request.tools.len(), 3, "the tools are declared");
    for (index, text) in commands.iter().enumerate() {
        let arguments = serde_json::json!({ "command": text }).to_string();
        app.handle(AppEvent::Stream {
            turn,
            event: StreamEvent::ToolCallDelta {
                index: u32::try_from(index).unwrap(),
                id: Some(format!("c{}", index + 1)),
                name: Some("run_command".into()),
                arguments,
            },
        });
    }
    app.handle(AppEvent::StreamEnded { turn })
}

/// Sends a message and gets to the prompt for `commands[0]`.
fn asking(commands: &[&str]) -> App {
    let mut app = tool_app(25);
    type_text(&mut app, "look around");
    app.handle(key(KeyCode::Enter));
    let effects = answer_with_commands(&mut app, 1, commands);
    assert_eq!(
        effects.last(),
        Some(&Effect::PlaceTool {
            call_id: "c1".into(),
            request: command(commands[0]),
        })
    );
    let Some(Effect::Job(SessionJob::RecordStep(kinds))) = effects.first() else {
        panic!("the answer is not recorded first: {effects:?}");
    };
    assert!(matches!(kinds[0], EventKind::AssistantMessage { .. }));
    assert_eq!(kinds.len(), 1 + commands.len());
    let placed = app.handle(AppEvent::ToolPlaced {
        call_id: "c1".into(),
        place: Place::InsideWorkspace,
    });
    assert_eq!(placed, vec![]);
    assert!(prompt_shown(&app));
    app
}

fn prompt_shown(app: &App) -> bool {
    app.tools
        .as_ref()
        .and_then(|tools| tools.prompt())
        .is_some()
}

fn decision(
    call_id: &str,
    verdict: ToolVerdict,
    rule: Option<&str>,
    reason: Option<&str>,
) -> EventKind {
    EventKind::ToolDecision {
        call_id: call_id.into(),
        decision: verdict,
        rule: rule.map(Into::into),
        reason: reason.map(Into::into),
    }
}

fn result(call_id: &str, output: &str, is_error: bool) -> EventKind {
    EventKind::ToolResult {
        call_id: call_id.into(),
        output: output.into(),
        is_error,
    }
}

fn tool_cell_text(app: &App, index_from_end: usize) -> String {
    let cells: Vec<_> = app
        .transcript
        .cells()
        .iter()
        .filter(|cell| cell.tool_view().is_some())
        .collect();
    cells[cells.len() - 1 - index_from_end].text.clone()
}

#[test]
fn allow_once_runs_the_command_records_it_and_calls_the_model_again() {
    let mut app = asking(&["ls -la"]);
    assert_eq!(
        tool_cell_text(&app, 0),
        "run_command  ls -la\nwaiting for approval"
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::RunTool {
                call_id: "c1".into(),
                request: command("ls -la"),
            },
            Effect::Job(SessionJob::RecordStep(vec![decision(
                "c1",
                ToolVerdict::AllowedOnce,
                None,
                None
            )])),
        ]
    );
    assert!(!prompt_shown(&app));
    app.handle(AppEvent::Tick {
        now_ms: NOW_MS + 3_200,
    });
    assert_eq!(tool_cell_text(&app, 0), "run_command  ls -la\nrunning · 3s");
    let output = "exit code 0 after 3.2 s\na\nb\nc\nd\ne\nf";
    let effects = app.handle(AppEvent::ToolFinished {
        call_id: "c1".into(),
        output: output.into(),
        is_error: false,
    });
    assert_eq!(
        effects,
        vec![
            Effect::Job(SessionJob::RecordStep(vec![result("c1", output, false)])),
            Effect::Job(SessionJob::NextRequest {
                turn: 2,
                model: "echo".into()
            }),
        ]
    );
    assert_eq!(
        tool_cell_text(&app, 0),
        "run_command  ls -la\nexit code 0 after 3.2 s\na\nb\nc\nd\n… 2 more lines · Ctrl+O shows all"
    );
    app.handle(ctrl('o'));
    assert_eq!(
        tool_cell_text(&app, 0),
        "run_command  ls -la\nexit code 0 after 3.2 s\na\nb\nc\nd\ne\nf"
    );
    // The next answer, without calls, ends the turn and gives the lease back.
    app.handle(AppEvent::RequestReady {
        turn: 2,
        request: request(),
    });
    delta(&mut app, "Done.");
    let effects = app.handle(AppEvent::StreamEnded { turn: 2 });
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::Record(_)))
    ));
    assert!(!app.is_busy());
}

#[test]
fn a_grant_covers_the_second_call_without_asking() {
    let mut app = asking(&["cargo test", "cargo test --release"]);
    app.handle(key(KeyCode::Down));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects[1],
        Effect::Job(SessionJob::RecordStep(vec![decision(
            "c1",
            ToolVerdict::AllowedByGrant,
            Some("cargo test"),
            None
        )]))
    );
    let grants = &app.tools.as_ref().unwrap().policy.grants;
    assert_eq!(grants, &vec![CommandPrefix::parse("cargo test").unwrap()]);
    let effects = app.handle(AppEvent::ToolFinished {
        call_id: "c1".into(),
        output: "exit code 0 after 1.0 s\nok".into(),
        is_error: false,
    });
    assert_eq!(
        effects.last(),
        Some(&Effect::PlaceTool {
            call_id: "c2".into(),
            request: command("cargo test --release"),
        })
    );
    let effects = app.handle(AppEvent::ToolPlaced {
        call_id: "c2".into(),
        place: Place::InsideWorkspace,
    });
    assert!(!prompt_shown(&app));
    assert_eq!(
        effects,
        vec![
            Effect::RunTool {
                call_id: "c2".into(),
                request: command("cargo test --release"),
            },
            Effect::Job(SessionJob::RecordStep(vec![decision(
                "c2",
                ToolVerdict::AllowedByGrant,
                Some("cargo test"),
                None
            )])),
        ]
    );
}

#[test]
fn deny_with_a_reason_tells_the_model_and_goes_on() {
    let mut app = asking(&["rm -rf build"]);
    // Allow once, Allow `rm` for the session, Deny.
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![]);
    type_text(&mut app, "not now");
    assert_eq!(app.input_text(), "", "the reason never reaches the input");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::Job(SessionJob::RecordStep(vec![
                decision("c1", ToolVerdict::Denied, None, Some("not now")),
                result("c1", "Not run: denied: not now", true),
            ])),
            Effect::Job(SessionJob::NextRequest {
                turn: 2,
                model: "echo".into()
            }),
        ]
    );
    assert_eq!(
        tool_cell_text(&app, 0),
        "run_command  rm -rf build\ndenied: not now"
    );
}

#[test]
fn deny_without_a_reason_and_esc_both_deny() {
    for keys in [
        vec![key(KeyCode::Up), key(KeyCode::Enter), key(KeyCode::Enter)],
        vec![key(KeyCode::Esc)],
    ] {
        let mut app = asking(&["make deploy"]);
        let mut effects = Vec::new();
        for event in keys {
            effects = app.handle(event);
        }
        assert_eq!(
            effects[0],
            Effect::Job(SessionJob::RecordStep(vec![
                decision("c1", ToolVerdict::Denied, None, None),
                result("c1", "Not run: denied", true),
            ]))
        );
    }
}

#[test]
fn keys_go_to_the_prompt_and_the_input_keeps_what_it_had() {
    let mut app = tool_app(25);
    type_text(&mut app, "look around");
    app.handle(key(KeyCode::Enter));
    answer_with_commands(&mut app, 1, &["ls"]);
    type_text(&mut app, "draft");
    app.handle(AppEvent::ToolPlaced {
        call_id: "c1".into(),
        place: Place::InsideWorkspace,
    });
    type_text(&mut app, "yes please");
    assert!(prompt_shown(&app));
    assert_eq!(app.input_text(), "draft");
}

#[test]
fn a_command_no_prefix_can_cover_offers_no_grant_and_says_why() {
    let app = asking(&["git status; rm -rf ~"]);
    let prompt = app.tools.as_ref().and_then(|tools| tools.prompt()).unwrap();
    assert_eq!(prompt.choices(), vec!["Allow once", "Deny"]);
    assert!(prompt.no_grant_because.is_some());
}

#[test]
fn quitting_at_the_prompt_records_the_calls_as_interrupted() {
    let mut app = asking(&["ls", "pwd"]);
    let effects = app.handle(AppEvent::Terminate);
    let mut expected: Vec<EventKind> = interrupted_call_events("c1".into()).into();
    expected.extend(interrupted_call_events("c2".into()));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Record(expected)), Effect::Quit]
    );
}

#[test]
fn ctrl_c_while_a_command_runs_stops_it_and_ends_the_turn() {
    let mut app = asking(&["sleep 30", "ls"]);
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.handle(ctrl('c')), vec![Effect::CancelTool]);
    let stopped = "stopped by the user after 1.0 s; the command and its child processes were stopped\n(no output)";
    let effects = app.handle(AppEvent::ToolFinished {
        call_id: "c1".into(),
        output: stopped.into(),
        is_error: true,
    });
    let mut expected = vec![result("c1", stopped, true)];
    expected.extend(interrupted_call_events("c2".into()));
    assert_eq!(effects, vec![Effect::Job(SessionJob::Record(expected))]);
    assert_eq!(
        tool_cell_text(&app, 1),
        "run_command  sleep 30\nstopped by the user after 1.0 s\n(no output)"
    );
    assert_eq!(
        tool_cell_text(&app, 0),
        "run_command  ls\ninterrupted, not run"
    );
    assert!(!app.is_busy());
}

#[test]
fn quitting_while_a_command_runs_stops_it_and_records_it_stopped() {
    let mut app = asking(&["sleep 30"]);
    app.handle(key(KeyCode::Enter));
    let effects = app.handle(AppEvent::Terminate);
    assert_eq!(effects[0], Effect::CancelTool);
    let Effect::Job(SessionJob::Record(kinds)) = &effects[1] else {
        panic!("not recorded: {effects:?}");
    };
    assert!(
        matches!(&kinds[..], [EventKind::ToolResult { call_id, is_error: true, .. }] if call_id == "c1")
    );
    assert_eq!(effects[2], Effect::Quit);
}

#[test]
fn the_step_limit_closes_the_calls_and_notes_it() {
    let mut app = tool_app(1);
    type_text(&mut app, "look around");
    app.handle(key(KeyCode::Enter));
    answer_with_commands(&mut app, 1, &["ls"]);
    app.handle(AppEvent::ToolPlaced {
        call_id: "c1".into(),
        place: Place::InsideWorkspace,
    });
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::ToolFinished {
        call_id: "c1".into(),
        output: "exit code 0 after 0.1 s\nfile".into(),
        is_error: false,
    });
    let effects = answer_with_commands(&mut app, 2, &["ls -la"]);
    let Some(Effect::Job(SessionJob::Record(kinds))) = effects.last() else {
        panic!("not closed: {effects:?}");
    };
    assert!(matches!(
        kinds[..],
        [
            EventKind::ToolDecision {
                decision: ToolVerdict::Denied,
                ..
            },
            EventKind::ToolResult { .. },
            EventKind::Note { .. }
        ]
    ));
    assert!(!app.is_busy());
}

#[test]
fn a_message_sent_while_a_command_runs_waits_for_the_turn_to_end() {
    let mut app = asking(&["sleep 30"]);
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, "also check the logs");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::Job(SessionJob::SendUserMessage { .. }))),
        "{effects:?}"
    );
    assert_eq!(app.queued.as_deref(), Some("also check the logs"));
}

#[test]
fn commands_that_move_the_branch_wait_for_the_tool_calls() {
    let mut app = asking(&["sleep 30"]);
    app.handle(key(KeyCode::Enter));
    for command in ["/tree", "/rewind", "/retry", "/fork", "/compact"] {
        type_text(&mut app, command);
        let effects = app.handle(key(KeyCode::Enter));
        assert!(
            !effects
                .iter()
                .any(|effect| matches!(effect, Effect::Job(_) | Effect::CancelTool)),
            "{command}: {effects:?}"
        );
        assert_eq!(
            app.hint.as_deref(),
            Some("tool calls are running · Esc stops them first"),
            "{command}"
        );
    }
}

#[test]
fn a_new_session_while_a_command_runs_stops_it_and_records_it_in_the_old_one_first() {
    let mut app = asking(&["sleep 30"]);
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, "/new");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects[0], Effect::SaveHistory("/new".into()));
    assert_eq!(effects[1], Effect::CancelTool);
    let Effect::Job(SessionJob::Record(kinds)) = &effects[2] else {
        panic!("not recorded: {effects:?}");
    };
    assert!(
        matches!(&kinds[..], [EventKind::ToolResult { call_id, is_error: true, .. }] if call_id == "c1")
    );
    assert_eq!(effects[3..], [Effect::Job(SessionJob::NewSession)]);
    assert!(!app.in_tool_round());
}

/// The model asks to read `path` (call `c1`); returns the effects of the answer's end.
fn answer_reading(app: &mut App, path: &str) -> Vec<Effect> {
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("c1".into()),
            name: Some("read_file".into()),
            arguments: serde_json::json!({ "path": path }).to_string(),
        },
    });
    app.handle(AppEvent::StreamEnded { turn: 1 })
}

#[test]
fn reading_inside_the_workspace_runs_and_outside_it_asks() {
    for (place, asks) in [
        (Place::InsideWorkspace, false),
        (Place::OutsideWorkspace, true),
    ] {
        let mut app = tool_app(25);
        type_text(&mut app, "read it");
        app.handle(key(KeyCode::Enter));
        let effects = answer_reading(&mut app, "notes.txt");
        assert!(
            matches!(effects.last(), Some(Effect::PlaceTool { call_id, .. }) if call_id == "c1"),
            "the path is resolved first: {effects:?}"
        );
        let placed = app.handle(AppEvent::ToolPlaced {
            call_id: "c1".into(),
            place,
        });
        assert_eq!(prompt_shown(&app), asks, "{place:?}");
        let runs = placed
            .iter()
            .any(|effect| matches!(effect, Effect::RunTool { .. }));
        assert_eq!(runs, !asks, "{place:?}: {placed:?}");
        if asks {
            // Allow once runs it.
            let effects = app.handle(key(KeyCode::Enter));
            assert!(
                effects
                    .iter()
                    .any(|effect| matches!(effect, Effect::RunTool { .. })),
                "{effects:?}"
            );
        }
    }
}
