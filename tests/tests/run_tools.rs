//! `cairn run` with tools, against a loopback server scripted to answer with a tool call and
//! then to answer using the result: what runs, what is denied, what the model receives in
//! the next request and what the session keeps.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Output, Stdio};

use cairn_tests::TestEnv;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

/// An OpenAI stream whose answer is one call of `name` with `arguments`.
fn tool_call(id: &str, name: &str, arguments: Value) -> Reply {
    let call = json!({"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[
        {"index":0,"id":id,"type":"function","function":{"name":name,"arguments":arguments.to_string()}}
    ]}}]});
    let finish = json!({"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]});
    Reply::sse(format!("data: {call}\n\ndata: {finish}\n\ndata: [DONE]\n\n").into_bytes())
}

fn text(answer: &str) -> Reply {
    let delta = json!({"choices":[{"index":0,"delta":{"role":"assistant","content":answer}}]});
    let finish = json!({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]});
    Reply::sse(format!("data: {delta}\n\ndata: {finish}\n\ndata: [DONE]\n\n").into_bytes())
}

fn command(text: &str) -> Value {
    json!({ "command": text })
}

fn run(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let output = env
        .command()
        .arg("run")
        .args(args)
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .envs(vars.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
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

fn env_with(server: &ScriptedServer, tools: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write_config(&format!("{}\n[tools]\n{tools}\n", server.openai_config()));
    env
}

fn of_type<'a>(events: &'a [(String, Value)], kind: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|(event_type, _)| event_type == kind)
        .map(|(_, data)| data)
        .collect()
}

#[test]
fn an_allowed_command_runs_and_its_output_and_exit_code_reach_the_model() {
    let server = ScriptedServer::start(vec![
        tool_call(
            "call_1",
            "run_command",
            command("echo from-the-tool; exit 3"),
        ),
        text("It printed from-the-tool."),
    ]);
    let env = env_with(&server, "");
    let output = run(
        &env,
        &["--allow", "echo", "--allow", "exit", "what does it print?"],
        &[],
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "It printed from-the-tool.\n"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first: Value = serde_json::from_str(&requests[0]).unwrap();
    let declared: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(declared, ["list_dir", "read_file", "run_command"]);
    let results = tool_messages(&requests[1]);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["tool_call_id"], "call_1");
    let content = results[0]["content"].as_str().unwrap();
    assert!(content.starts_with("exit code 3 after "), "{content}");
    assert!(content.ends_with("\nfrom-the-tool\n"), "{content}");

    let events = env.newest_session_events();
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "user_message",
            "assistant_message",
            "tool_call",
            "tool_decision",
            "tool_result",
            "assistant_message"
        ]
    );
    assert_eq!(
        of_type(&events, "tool_decision")[0],
        &json!({"call_id": "call_1", "decision": "allowed_by_rule", "rule": "echo, exit"})
    );
    assert_eq!(of_type(&events, "tool_result")[0]["output"], content);
}

#[test]
fn without_allow_a_command_is_denied_and_never_runs() {
    let server = ScriptedServer::start(vec![
        tool_call("call_1", "run_command", command("touch ran; git status")),
        text("I could not run it."),
    ]);
    let env = env_with(&server, "allow = [\"git status\"]");
    let output = run(&env, &["check it"], &[]);
    assert!(!env.work_dir().join("ran").exists(), "the command ran");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("[run_command]"), "{stderr}");
    assert!(stderr.contains("denied"), "{stderr}");

    let results = tool_messages(&server.requests()[1]);
    let content = results[0]["content"].as_str().unwrap();
    assert!(
        content.starts_with("Not run: denied: commands need approval"),
        "{content}"
    );
    let events = env.newest_session_events();
    assert_eq!(of_type(&events, "tool_decision")[0]["decision"], "denied");
}

#[test]
fn reads_inside_the_workspace_run_without_asking_and_json_shows_every_step() {
    let server = ScriptedServer::start(vec![
        tool_call("call_1", "list_dir", json!({"path": "."})),
        text("There is notes.txt."),
    ]);
    let env = env_with(&server, "");
    std::fs::write(env.work_dir().join("notes.txt"), "hello").unwrap();
    let output = run(&env, &["--json", "what is here?"], &[]);
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let tool_lines: Vec<Value> = lines
        .iter()
        .filter(|line| line["type"].as_str().unwrap().starts_with("tool_"))
        .cloned()
        .collect();
    assert_eq!(
        tool_lines,
        [
            json!({"type": "tool_call", "call_id": "call_1", "name": "list_dir", "arguments": "{\"path\":\".\"}"}),
            json!({"type": "tool_decision", "call_id": "call_1", "decision": "automatic", "rule": null, "reason": null}),
            json!({"type": "tool_result", "call_id": "call_1", "output": "notes.txt", "is_error": false}),
        ]
    );
    assert_eq!(
        tool_messages(&server.requests()[1])[0]["content"],
        "notes.txt"
    );
}

#[test]
fn a_command_never_sees_the_api_keys() {
    let server = ScriptedServer::start(vec![
        tool_call("call_1", "run_command", command("env")),
        text("done"),
    ]);
    let env = env_with(&server, "");
    run(
        &env,
        &["--allow", "env", "show the environment"],
        &[
            ("CAIRN_TEST_KEY", "sk-configured-secret"),
            ("OPENAI_API_KEY", "sk-openai-secret"),
            ("ANTHROPIC_API_KEY", "sk-anthropic-secret"),
            ("PGPASSWORD", "pg-database-secret"),
        ],
    );
    let results = tool_messages(&server.requests()[1]);
    let content = results[0]["content"].as_str().unwrap();
    assert!(content.contains("\nHOME="), "env ran: {content}");
    for secret in [
        "sk-configured-secret",
        "sk-openai-secret",
        "sk-anthropic-secret",
        "pg-database-secret",
    ] {
        assert!(!content.contains(secret), "{secret} leaked: {content}");
    }
}

#[test]
fn the_step_limit_stops_the_turn_with_a_note() {
    // Only two answers are scripted: a third request would fail the run.
    let server = ScriptedServer::start(vec![
        tool_call("call_1", "list_dir", json!({"path": "."})),
        tool_call("call_2", "list_dir", json!({"path": "."})),
    ]);
    let env = env_with(&server, "max_steps = 1");
    let output = run(&env, &["look around"], &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Stopped after 1 round of tool calls"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), 2);
    let events = env.newest_session_events();
    let results = of_type(&events, "tool_result");
    assert_eq!(results.len(), 2);
    assert!(
        results[1]["output"]
            .as_str()
            .unwrap()
            .contains("limit of rounds of tool calls"),
        "{results:?}"
    );
    assert_eq!(events.last().unwrap().0, "note");
}

#[test]
fn a_command_past_its_timeout_is_stopped_and_the_model_told() {
    let server = ScriptedServer::start(vec![
        tool_call("call_1", "run_command", command("sleep 30")),
        text("It took too long."),
    ]);
    let env = env_with(&server, "command_timeout_secs = 1");
    run(&env, &["--allow", "sleep", "wait"], &[]);
    let content = tool_messages(&server.requests()[1])[0]["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(content.starts_with("timed out after 1 s"), "{content}");
}

#[test]
fn a_server_that_refuses_tools_gets_the_turn_again_without_them() {
    let refusal = Reply {
        status: "400 Bad Request",
        content_type: "application/json",
        body: br#"{"error":{"message":"registry.ollama.ai/library/gemma:2b does not support tools","type":"api_error","param":null,"code":null}}"#.to_vec(),
        cut: false,
    };
    let server = ScriptedServer::start(vec![refusal, text("Plain answer.")]);
    let env = env_with(&server, "");
    let output = run(&env, &["hello"], &[]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Plain answer.\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.matches("does not accept tools").count(),
        1,
        "{stderr}"
    );
    let requests = server.requests();
    let retry: Value = serde_json::from_str(&requests[1]).unwrap();
    assert_eq!(retry.get("tools"), None);
}

#[test]
fn a_call_running_when_cairn_is_killed_is_interrupted_on_resume_and_never_rerun() {
    let server = ScriptedServer::start(vec![
        tool_call(
            "call_1",
            "run_command",
            command("touch started && sleep 20"),
        ),
        text("Carrying on."),
    ]);
    let env = env_with(&server, "");
    let mut child = env
        .command()
        .args(["run", "--allow", "touch", "--allow", "sleep", "start it"])
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = env.work_dir().join("started");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the command never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no chance to record anything
    child.wait().unwrap();
    std::fs::remove_file(&started).unwrap();

    let output = run(&env, &["-C", "go on"], &[]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Carrying on.\n");
    assert!(!started.exists(), "the interrupted command ran again");
    let results = tool_messages(&server.requests()[1]);
    let content = results[0]["content"].as_str().unwrap();
    assert!(
        content.contains("interrupted before this call ran"),
        "{content}"
    );
    let events = env.newest_session_events();
    assert_eq!(
        of_type(&events, "tool_decision")
            .iter()
            .map(|decision| decision["decision"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["allowed_by_rule", "interrupted"]
    );
}
