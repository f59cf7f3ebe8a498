//! The chat screen and `cairn run` share one turn engine: fed the same recorded stream they
//! store the same events, and the request each builds next has the shape every provider (and
//! the strictest chat templates) accept.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::Value;

/// Recorded by openai/openai-python (Apache-2.0); see crates/cairn-llm/tests/fixtures.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../crates/cairn-llm/tests/fixtures/openai-chat/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|error| panic!("read {path}: {error}"))
}

/// The recorded streams, each with the number of events its first turn stores after the
/// question.
fn scenarios() -> Vec<(&'static str, Reply, usize)> {
    let text = fixture("text.sse");
    let half = text.len() / 2;
    vec![
        ("text", Reply::sse(text.clone()), 1),
        // answer, call, result
        ("one tool call", Reply::sse(fixture("tool-call.sse")), 3),
        // answer, two calls, two results
        (
            "two parallel tool calls",
            Reply::sse(fixture("parallel-tool-calls.sse")),
            5,
        ),
        // partial answer, error
        ("interrupted stream", Reply::cut_sse(text, half), 2),
    ]
}

fn session_events(env: &TestEnv) -> Vec<Value> {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let Some(id) = rows.first().and_then(|row| row["id"].as_str()) else {
        return Vec::new();
    };
    let (stdout, _) = env.run_ok(&["sessions", "show", id, "--json"]);
    let session: Value = serde_json::from_str(&stdout).unwrap();
    session["events"].as_array().cloned().unwrap_or_default()
}

/// What a person would compare: each event's type and content, without ids and times.
fn contents(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            let object = event.as_object_mut().unwrap();
            for key in [
                "id",
                "session_id",
                "parent_id",
                "invocation_id",
                "created_at_ms",
            ] {
                object.remove(key);
            }
            event
        })
        .collect()
}

fn wait_for_events(env: &TestEnv, count: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let events = session_events(env);
        if events.len() >= count {
            return events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "expected {count} events, have {events:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cairn_run(env: &TestEnv, args: &[&str]) -> std::process::Output {
    env.command()
        .arg("run")
        .args(args)
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Checks an OpenAI Chat Completions body the way a strict chat template does: one system
/// message first; then user and assistant turns alternating, where the user's side of a
/// turn may open with the `tool` results of the answer before it; an assistant's tool calls
/// are each answered by exactly one `tool` message right after it; the request ends with the
/// user, or with the results of the calls the turn goes on from.
fn check_openai_shape(body: &str) -> Result<(), String> {
    let request: Value = serde_json::from_str(body).map_err(|error| error.to_string())?;
    let messages = request["messages"].as_array().ok_or("no messages")?;
    let roles: Vec<&str> = messages
        .iter()
        .map(|message| message["role"].as_str().unwrap_or("?"))
        .collect();
    if roles.first() != Some(&"system") || roles[1..].contains(&"system") {
        return Err(format!("one system message, first: {roles:?}"));
    }
    let mut expect_user_side = true;
    let mut open_calls: Vec<String> = Vec::new();
    for (index, message) in messages.iter().enumerate().skip(1) {
        match (roles[index], expect_user_side) {
            ("tool", true) => {
                let id = message["tool_call_id"].as_str().unwrap_or_default();
                let Some(position) = open_calls.iter().position(|call| call == id) else {
                    return Err(format!("message {index}: a result for no call ({id})"));
                };
                open_calls.remove(position);
            }
            ("user", true) => {
                if !open_calls.is_empty() {
                    return Err(format!(
                        "message {index}: calls without results: {open_calls:?}"
                    ));
                }
                expect_user_side = false;
            }
            ("assistant", false) => {
                for call in message["tool_calls"].as_array().into_iter().flatten() {
                    open_calls.push(call["id"].as_str().unwrap_or_default().to_owned());
                }
                let text = message["content"].as_str().unwrap_or_default();
                if text.is_empty() && open_calls.is_empty() {
                    return Err(format!("message {index}: an empty answer"));
                }
                expect_user_side = true;
            }
            (role, _) => return Err(format!("message {index}: {role} out of turn: {roles:?}")),
        }
    }
    // A request may end with the results of the last answer's calls (the turn goes on),
    // else it ends with the user.
    let ends_with_results = roles.last() == Some(&"tool") && open_calls.is_empty();
    if expect_user_side && !ends_with_results {
        return Err(format!("the request does not end with the user: {roles:?}"));
    }
    Ok(())
}

/// Leaves the tools undeclared: both front ends answer every call as unavailable.
const TOOLS_OFF: &str = "\n[tools]\nenabled = false\n";

#[test]
fn the_chat_and_cairn_run_store_the_same_turns_and_build_valid_requests() {
    for (name, first_answer, answer_events) in scenarios() {
        let follow_up = Reply::sse(fixture("text.sse"));

        // `cairn run`, twice: the question, then a follow-up in the same session.
        let run_env = TestEnv::new();
        let run_server = ScriptedServer::start(vec![first_answer.clone(), follow_up.clone()]);
        // Tools off in both: each call gets the same "unavailable" result and the follow-up
        // is the next question. With tools on see the test below.
        run_env.write_config(&format!("{}{TOOLS_OFF}", run_server.openai_config()));
        cairn_run(&run_env, &["what's the weather in SF?"]);
        let run_events = wait_for_events(&run_env, 1 + answer_events);
        let output = cairn_run(&run_env, &["-C", "and tomorrow?"]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );

        // The chat screen: the same question and follow-up, typed.
        let chat_env = TestEnv::new();
        let chat_server = ScriptedServer::start(vec![first_answer, follow_up]);
        chat_env.write_config(&format!("{}{TOOLS_OFF}", chat_server.openai_config()));
        let tui = Tui::spawn_with(
            &chat_env,
            &chat_env.work_dir(),
            &[],
            &[("CAIRN_PROVIDER", ""), ("CAIRN_TEST_KEY", "sk-test")],
        );
        tui.wait_for("gpt-test");
        tui.submit("what's the weather in SF?");
        let chat_events = wait_for_events(&chat_env, 1 + answer_events);
        tui.submit("and tomorrow?");
        wait_for_events(&chat_env, 1 + answer_events + 2);
        tui.quit_cleanly("\x04");

        assert_eq!(
            contents(&chat_events),
            contents(&run_events),
            "{name}: the two front ends stored different turns"
        );
        for (front_end, server) in [("cairn run", &run_server), ("the chat", &chat_server)] {
            let requests = server.requests();
            assert_eq!(requests.len(), 2, "{name}, {front_end}: {requests:?}");
            if let Err(violation) = check_openai_shape(&requests[1]) {
                panic!(
                    "{name}, {front_end}: the follow-up request is malformed: {violation}\n{}",
                    requests[1]
                );
            }
        }
    }
}

#[test]
fn with_tools_on_the_chat_and_cairn_run_answer_the_calls_the_same_and_ask_again() {
    // The recorded calls name a tool Cairn does not have: each gets a result saying so,
    // then the model is called again, in both front ends.
    let replies = || {
        vec![
            Reply::sse(fixture("parallel-tool-calls.sse")),
            Reply::sse(fixture("text.sse")),
        ]
    };
    // The question, the answer, two calls, two results, the next answer.
    let stored = 7;

    let run_env = TestEnv::new();
    let run_server = ScriptedServer::start(replies());
    run_env.write_config(&run_server.openai_config());
    let output = cairn_run(&run_env, &["how are the stocks?"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run_events = wait_for_events(&run_env, stored);

    let chat_env = TestEnv::new();
    let chat_server = ScriptedServer::start(replies());
    chat_env.write_config(&chat_server.openai_config());
    let tui = Tui::spawn_with(
        &chat_env,
        &chat_env.work_dir(),
        &[],
        &[("CAIRN_PROVIDER", ""), ("CAIRN_TEST_KEY", "sk-test")],
    );
    tui.wait_for("gpt-test");
    tui.submit("how are the stocks?");
    let chat_events = wait_for_events(&chat_env, stored);
    tui.quit_cleanly("\x04");

    assert_eq!(contents(&chat_events), contents(&run_events));
    for (front_end, server) in [("cairn run", &run_server), ("the chat", &chat_server)] {
        let requests = server.requests();
        assert_eq!(requests.len(), 2, "{front_end}: {requests:?}");
        if let Err(violation) = check_openai_shape(&requests[1]) {
            panic!(
                "{front_end}: the request after the results is malformed: {violation}\n{}",
                requests[1]
            );
        }
    }
}
