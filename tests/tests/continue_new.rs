//! `/new --summary` end to end with the real binary and a loopback OpenAI-compatible server:
//! the session is archived, the model summarises it, and the new session's first request
//! holds the system prompt, that summary and the new question; the database links the new
//! session to the archived one, and the screen says what it continues.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::Value;

/// What only a summary request holds: the start of its instructions.
const SUMMARY_REQUEST_MARK: &str = "You condense conversations";

fn session_json(env: &TestEnv, id: &str) -> Value {
    let (shown, _) = env.run_ok(&["sessions", "show", "--json", id]);
    serde_json::from_str(&shown).unwrap()
}

#[test]
fn new_with_summary_starts_a_linked_session_whose_first_request_holds_the_summary() {
    let env = TestEnv::new();
    let server = ScriptedServer::start(vec![
        Reply::openai_text(&["Use a borrow."]),
        Reply::openai_text(&["- The user learnt to borrow instead of moving."]),
        Reply::openai_text(&["Yes, clone works too."]),
    ]);
    let tui = Tui::spawn_chat_on(&env, &server);
    tui.submit("why does my value move?");
    tui.wait_for("Use a borrow.");
    let (listed, _) = env.run_ok(&["sessions", "list", "--json"]);
    let listed: Vec<Value> = serde_json::from_str(&listed).unwrap();
    let old_id = listed[0]["id"].as_str().unwrap().to_owned();

    tui.submit("/new --summary");
    tui.wait_for(&format!(
        "continued from {} · why does my value move?",
        &old_id.replace('-', "")[..8]
    ));
    tui.wait_for("Started a new session from a summary of the previous one");
    assert!(!tui.screen().contains("Use a borrow."));
    tui.submit("can I clone instead?");
    tui.wait_for("Yes, clone works too.");
    tui.quit_cleanly("\x04");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[1].contains(SUMMARY_REQUEST_MARK));
    assert!(requests[1].contains("why does my value move?"));
    let first: Value = serde_json::from_str(&requests[2]).unwrap();
    let messages = first["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages.len(), 2, "{messages:?}");
    let sent = messages[1]["content"].to_string();
    assert!(
        sent.contains("Summary of the conversation so far")
            && sent.contains("The user learnt to borrow instead of moving.")
            && sent.contains("can I clone instead?")
            && !sent.contains("why does my value move?"),
        "{sent}"
    );

    // The new session's first event is the summary, naming the archived session.
    let events = env.newest_session_events();
    let kinds: Vec<&str> = events.iter().map(|(kind, _)| kind.as_str()).collect();
    assert_eq!(kinds, ["summary", "user_message", "assistant_message"]);
    let link = &events[0].1["continued_from"];
    assert_eq!(link["session_id"], old_id.as_str());
    assert_eq!(link["title"], "why does my value move?");
    let old = session_json(&env, &old_id);
    assert!(
        !old["session"]["archived_at_ms"].is_null(),
        "{}",
        old["session"]
    );
    assert_eq!(old["events"].as_array().unwrap().len(), 2);
}
