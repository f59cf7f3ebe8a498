//! The chat with tools, in a real terminal, against a loopback server scripted to answer
//! with a tool call and then to answer using the result: approving a command (its real
//! output and exit code reach the model and the session), denying one with a reason, and a
//! chat killed while a command runs (resumed, the call shows interrupted and never runs
//! again).

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// An OpenAI stream whose answer is one call of `run_command` with `command`.
fn command_call(id: &str, command: &str) -> Reply {
    let arguments = json!({ "command": command }).to_string();
    let call = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
        {"index":0,"id":id,"type":"function","function":{"name":"run_command","arguments":arguments}}
    ]}}]});
    let finish = json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]});
    Reply::sse(format!("data: {call}\n\ndata: {finish}\n\ndata: [DONE]\n\n").into_bytes())
}

fn chat(server: &ScriptedServer) -> (TestEnv, Tui) {
    let env = TestEnv::new();
    let tui = Tui::spawn_chat_on(&env, server);
    (env, tui)
}

/// The `tool` messages of a request the server received.
fn tool_messages(request: &str) -> Vec<Value> {
    let body: Value = serde_json::from_str(request).unwrap();
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|message| message["role"] == "tool")
        .cloned()
        .collect()
}

fn kinds(env: &TestEnv) -> Vec<String> {
    env.newest_session_events()
        .into_iter()
        .map(|(kind, _)| kind)
        .collect()
}

#[test]
fn an_approved_command_runs_and_its_output_and_exit_code_reach_the_model() {
    let server = ScriptedServer::start(vec![
        command_call("call_1", "echo from-the-tool; exit 3"),
        Reply::openai_text(&["It printed from-the-tool."]),
    ]);
    let (env, tui) = chat(&server);
    tui.submit("what does it print?");
    tui.wait_for("Run this command?");
    tui.wait_for("Allow once");
    tui.send("\r");
    tui.wait_for("It printed from-the-tool.");
    tui.wait_for("exit code 3 after");

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let results = tool_messages(&requests[1]);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["tool_call_id"], "call_1");
    let content = results[0]["content"].as_str().unwrap();
    assert!(content.starts_with("exit code 3 after "), "{content}");
    assert!(content.ends_with("\nfrom-the-tool\n"), "{content}");
    tui.quit_cleanly("\x04");

    assert_eq!(
        kinds(&env),
        [
            "user_message",
            "assistant_message",
            "tool_call",
            "tool_decision",
            "tool_result",
            "assistant_message"
        ]
    );
    let events = env.newest_session_events();
    assert_eq!(
        events[3].1,
        json!({"call_id": "call_1", "decision": "allowed_once"})
    );
    assert_eq!(events[4].1["output"], content);
}

#[test]
fn a_denied_command_never_runs_and_the_model_receives_the_reason() {
    let marker = "touch denied-marker";
    let server = ScriptedServer::start(vec![
        command_call("call_1", marker),
        Reply::openai_text(&["Understood, I will not."]),
    ]);
    let (env, tui) = chat(&server);
    tui.submit("make a file");
    tui.wait_for("Allow once");
    // Allow once, Allow `touch` for the session, Deny.
    tui.send("\x1b[B");
    tui.send("\x1b[B");
    tui.send("\r");
    tui.wait_for("reason:");
    tui.submit("not in this folder");
    tui.wait_for("Understood, I will not.");
    tui.wait_for("denied: not in this folder");

    let requests = server.requests();
    let results = tool_messages(&requests[1]);
    assert_eq!(results[0]["content"], "Not run: denied: not in this folder");
    assert!(!env.work_dir().join("denied-marker").exists());
    tui.quit_cleanly("\x04");
}

#[test]
fn a_chat_killed_while_a_command_runs_resumes_with_it_interrupted_and_never_runs_it_again() {
    let server = ScriptedServer::start(vec![command_call(
        "call_1",
        "echo started >> runs.txt; sleep 30",
    )]);
    let (env, mut tui) = chat(&server);
    tui.submit("wait a while");
    tui.wait_for("Allow once");
    tui.send("\r");
    tui.wait_for("running ·");
    // The decision is saved before the command runs.
    let runs = env.work_dir().join("runs.txt");
    let started = std::time::Instant::now();
    while !runs.exists() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    tui.kill_9();

    let resumed_server = ScriptedServer::start(vec![Reply::openai_text(&["Noted."])]);
    env.write_config(&resumed_server.openai_config());
    let vars = [("CAIRN_PROVIDER", ""), ("CAIRN_TEST_KEY", "sk-test")];
    let tui = Tui::spawn_with(&env, &env.work_dir(), &["--continue"], &vars);
    tui.wait_for("interrupted, not run");
    tui.quit_cleanly("\x04");
    assert_eq!(std::fs::read_to_string(&runs).unwrap(), "started\n");
    let events = env.newest_session_events();
    let results: Vec<&Value> = events
        .iter()
        .filter(|(kind, _)| kind == "tool_result")
        .map(|(_, data)| data)
        .collect();
    assert_eq!(results.len(), 1, "{events:?}");
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{results:?}"
    );
}
