//! Compaction end to end with the real binary and a loopback OpenAI-compatible server: a
//! "context too long" error is followed by a summary and a successful retry; a history past
//! `[conversation] compact_at` is summarised before the request; `/compact` in the chat stores
//! a summary and the next request holds exactly the system prompt, the summary and the later
//! turns; nothing is removed from the database, the export or search.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Output, Stdio};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::Value;

/// What only a summary request holds: the start of its instructions.
const SUMMARY_REQUEST_MARK: &str = "You condense conversations";

fn cairn_run(env: &TestEnv, args: &[&str]) -> Output {
    env.command()
        .arg("run")
        .args(args)
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn context_too_long() -> Reply {
    Reply {
        status: "400 Bad Request",
        content_type: "application/json",
        body: br#"{"error":{"message":"This model's maximum context length is 8192 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#.to_vec(),
        cut: false,
    }
}

fn newest_id(env: &TestEnv) -> String {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    rows[0]["id"].as_str().unwrap().to_owned()
}

/// The messages of a request body after the system prompt, each as its role and all of its
/// text.
fn conversation(body: &str) -> Vec<(String, String)> {
    let request: Value = serde_json::from_str(body).unwrap();
    let messages = request["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system", "{body}");
    messages[1..]
        .iter()
        .map(|message| {
            let content = match &message["content"] {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            (message["role"].as_str().unwrap().to_owned(), content)
        })
        .collect()
}

/// Every earlier message is still stored, exported and found.
fn nothing_removed(env: &TestEnv, said: &[&str], summary: &str) {
    let id = newest_id(env);
    let (shown, _) = env.run_ok(&["sessions", "show", &id, "--json"]);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    let types: Vec<&str> = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"]["event_type"].as_str().unwrap_or_default())
        .collect();
    assert!(types.contains(&"summary"), "{types:?}");
    let (markdown, _) = env.run_ok(&["sessions", "export", &id]);
    for text in said {
        assert!(markdown.contains(text), "{text} missing from\n{markdown}");
        let (found, _) = env.run_ok(&["sessions", "search", "--json", text]);
        let hits: Vec<Value> = serde_json::from_str(&found).unwrap();
        assert_eq!(hits.len(), 1, "{text}: {hits:?}");
    }
    assert!(markdown.contains(summary), "{markdown}");
}

#[test]
fn a_context_too_long_error_is_followed_by_a_summary_and_a_successful_retry() {
    let env = TestEnv::new();
    let server = ScriptedServer::start(vec![
        Reply::openai_text(&["Run cargo clean."]),
        context_too_long(),
        Reply::openai_text(&["- The user fixed the build with cargo clean."]),
        Reply::openai_text(&["Then rebuild."]),
    ]);
    env.write_config(&server.openai_config());
    let output = cairn_run(&env, &["how do I fix the build?"]);
    assert!(output.status.success(), "{output:?}");

    let output = cairn_run(&env, &["-C", "and after that?"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Then rebuild.\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("too long for the model: summarising")
            && stderr.contains("Summarised 2 earlier messages."),
        "{stderr}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests[2].contains(SUMMARY_REQUEST_MARK),
        "{}",
        requests[2]
    );
    assert!(requests[2].contains("how do I fix the build?"));
    // The retry holds the summary and the question, nothing of what it stands for.
    let retried = conversation(&requests[3]);
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0].0, "user");
    assert!(
        retried[0].1.contains("Summary of the conversation so far")
            && retried[0]
                .1
                .contains("The user fixed the build with cargo clean.")
            && retried[0].1.contains("and after that?")
            && !retried[0].1.contains("how do I fix the build?"),
        "{retried:?}"
    );
    nothing_removed(
        &env,
        &["how do I fix the build?", "Run cargo clean."],
        "The user fixed the build with cargo clean.",
    );
}

#[test]
fn a_history_past_compact_at_is_summarised_before_the_request() {
    let env = TestEnv::new();
    let server = ScriptedServer::start(vec![
        Reply::openai_text(&["A long answer about lifetimes."]),
        Reply::openai_text(&["- Asked about lifetimes at length."]),
        Reply::openai_text(&["Short answer."]),
    ]);
    // A tiny window: the first exchange alone fills more than half of it.
    env.write_config(&format!(
        "{}context_window = 2000\n\n[conversation]\ncompact_at = 0.5\n",
        server.openai_config()
    ));
    let long_question = format!("explain lifetimes {}", "in detail ".repeat(450));
    let output = cairn_run(&env, &[&long_question]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("summarising"),
        "a lone question has nothing to summarise"
    );

    let output = cairn_run(&env, &["-C", "and briefly?"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Short answer.\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nears the model's context window"),
        "{stderr}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[1].contains(SUMMARY_REQUEST_MARK));
    let sent = conversation(&requests[2]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].1.contains("Asked about lifetimes at length.")
            && sent[0].1.contains("and briefly?")
            && !sent[0].1.contains("in detail"),
        "{sent:?}"
    );
    nothing_removed(
        &env,
        &["explain lifetimes", "A long answer about lifetimes."],
        "Asked about lifetimes at length.",
    );
}

#[test]
fn compact_in_the_chat_stores_a_summary_and_the_next_request_holds_only_it_and_later_turns() {
    let env = TestEnv::new();
    let server = ScriptedServer::start(vec![
        Reply::openai_text(&["Use a borrow."]),
        Reply::openai_text(&["- The user learnt to borrow instead of moving."]),
        Reply::openai_text(&["Yes, clone works too."]),
    ]);
    let tui = Tui::spawn_chat_on(&env, &server);
    tui.submit("why does my value move?");
    tui.wait_for("Use a borrow.");
    tui.submit("/compact keep the code");
    tui.wait_for("Summarised 2 earlier messages.");
    tui.wait_for("2 earlier messages summarised · Enter to expand");
    assert!(!tui.screen().contains("why does my value move?"));
    tui.submit("");
    tui.wait_for("why does my value move?");
    tui.submit("can I clone instead?");
    tui.wait_for("Yes, clone works too.");
    tui.quit_cleanly("\x04");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[1].contains(SUMMARY_REQUEST_MARK));
    assert!(requests[1].contains("The user adds: keep the code"));
    let sent = conversation(&requests[2]);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0]
            .1
            .contains("The user learnt to borrow instead of moving.")
            && sent[0].1.contains("can I clone instead?")
            && !sent[0].1.contains("why does my value move?"),
        "{sent:?}"
    );
    nothing_removed(
        &env,
        &["why does my value move?", "Use a borrow."],
        "The user learnt to borrow instead of moving.",
    );
}
