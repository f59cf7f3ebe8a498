//! Titles the model gives sessions, end to end with the real binary: against a loopback
//! OpenAI-compatible server scripted with an answer and a title, the title is stored and
//! marked automatic, shown, and never replaces one the user set; the offline echo provider
//! never asks for one.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};
use pretty_assertions::assert_eq;
use serde_json::Value;

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

/// `(title, title_source)` of the newest session.
fn newest_title(env: &TestEnv) -> (String, String) {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    (
        rows[0]["title"].as_str().unwrap().to_owned(),
        rows[0]["title_source"].as_str().unwrap().to_owned(),
    )
}

fn newest_id(env: &TestEnv) -> String {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    rows[0]["id"].as_str().unwrap().to_owned()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cairn_run_names_the_session_after_printing_and_a_rename_is_kept() {
    let env = TestEnv::new();
    let server = ScriptedServer::start_with_titles(
        vec![
            Reply::openai_text(&["Run ", "cargo clean."]),
            Reply::openai_text(&["Then ", "rebuild."]),
        ],
        vec![Reply::openai_text(&["Title: \"Fixing ", "the build.\"\n"])],
    );
    env.write_config(&server.openai_config());

    let output = cairn_run(&env, &["how do I fix the build?"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Run cargo clean.\n"
    );
    assert_eq!(
        newest_title(&env),
        ("Fixing the build".to_owned(), "model".to_owned())
    );
    // The title request quotes the exchange and names the configured model.
    let titles = server.title_requests();
    assert_eq!(titles.len(), 1, "{titles:?}");
    let request: Value = serde_json::from_str(&titles[0]).unwrap();
    assert_eq!(request["model"], "gpt-test");
    let asked = request["messages"][1]["content"].to_string();
    assert!(
        asked.contains("how do I fix the build?") && asked.contains("Run cargo clean."),
        "{asked}"
    );
    // `cairn sessions list` shows it.
    let (listed, _) = env.run_ok(&["sessions", "list"]);
    assert!(listed.contains("Fixing the build"), "{listed}");

    let id = newest_id(&env);
    env.run_ok(&["sessions", "rename", &id, "My build notes"]);
    let output = cairn_run(&env, &["-C", "and then?"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        newest_title(&env),
        ("My build notes".to_owned(), "user".to_owned())
    );
    // Only a session's first answer asks for a title.
    assert_eq!(server.title_requests().len(), 1);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn cairn_run_keeps_the_first_line_when_naming_fails() {
    let env = TestEnv::new();
    // The provider refuses the title request.
    let server = ScriptedServer::start_with_titles(
        vec![Reply::openai_text(&["Sure."])],
        vec![Reply::not_found()],
    );
    env.write_config(&server.openai_config());
    let output = cairn_run(&env, &["# Plan the release\nwith notes"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Sure.\n");
    assert_eq!(server.title_requests().len(), 1);
    assert_eq!(
        newest_title(&env),
        ("Plan the release".to_owned(), "first_message".to_owned())
    );
}

#[test]
fn the_chat_shows_the_generated_title_and_never_replaces_a_rename() {
    // Named by the model: shown in the status line, stored as automatic.
    let env = TestEnv::new();
    let server = ScriptedServer::start_with_titles(
        vec![Reply::openai_text(&["Borrow ", "it instead."])],
        vec![Reply::openai_text(&["Ownership in Rust"])],
    );
    let tui = Tui::spawn_chat_on(&env, &server);
    tui.submit("why does my value move?");
    tui.wait_for("Borrow it instead.");
    wait_until("the status line shows the title", || {
        tui.status_line().contains("Ownership in Rust")
    });
    tui.quit_cleanly("\x04");
    assert_eq!(
        newest_title(&env),
        ("Ownership in Rust".to_owned(), "model".to_owned())
    );

    // Renamed before the first answer: the title the model makes afterwards is refused.
    let env = TestEnv::new();
    let server = ScriptedServer::start_with_titles(
        vec![Reply::openai_text(&["Borrow ", "it instead."])],
        vec![Reply::openai_text(&["Ownership in Rust"])],
    );
    let tui = Tui::spawn_chat_on(&env, &server);
    tui.submit("/rename My own name");
    tui.wait_for("Renamed this session");
    tui.submit("why does my value move?");
    tui.wait_for("Borrow it instead.");
    wait_until("the title was asked for", || {
        server.title_requests().len() == 1
    });
    // Give the refused title time to have landed, had it been taken.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        tui.status_line().contains("My own name"),
        "{}",
        tui.status_line()
    );
    tui.quit_cleanly("\x04");
    assert_eq!(
        newest_title(&env),
        ("My own name".to_owned(), "user".to_owned())
    );
}

/// Four exchanges after the model named the session, the model is asked once whether the
/// title still fits the latest exchange; its new title is stored as checked, and later
/// answers ask nothing more.
#[test]
fn the_chat_checks_the_model_s_title_once_after_a_few_turns() {
    let env = TestEnv::new();
    let server = ScriptedServer::start_with_titles(
        vec![
            Reply::openai_text(&["Borrow ", "it instead."]),
            Reply::openai_text(&["They copy."]),
            Reply::openai_text(&["It counts."]),
            Reply::openai_text(&["Run git tag v1."]),
            Reply::openai_text(&["Then git push --tags."]),
        ],
        vec![
            Reply::openai_text(&["Ownership in Rust"]),
            Reply::openai_text(&["Tagging a release"]),
            // Served only if a third title request were made.
            Reply::openai_text(&["Asked too often"]),
        ],
    );
    let tui = Tui::spawn_chat_on(&env, &server);
    tui.submit("why does my value move?");
    tui.wait_for("Borrow it instead.");
    wait_until("the status line shows the title", || {
        tui.status_line().contains("Ownership in Rust")
    });
    for (question, answer) in [
        ("and clones?", "They copy."),
        ("and Rc?", "It counts."),
        ("how do I tag a release?", "Run git tag v1."),
    ] {
        tui.submit(question);
        tui.wait_for(answer);
    }
    wait_until("the status line shows the checked title", || {
        tui.status_line().contains("Tagging a release")
    });
    let requests = server.title_requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].contains("SAME") && requests[1].contains("Ownership in Rust"),
        "the check names the title and the way to keep it: {}",
        requests[1]
    );
    assert!(requests[1].contains("how do I tag a release?"));

    tui.submit("and push it?");
    tui.wait_for("Then git push --tags.");
    // Give a third request time to have been made, had it been.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.title_requests().len(), 2);
    tui.quit_cleanly("\x04");
    assert_eq!(
        newest_title(&env),
        ("Tagging a release".to_owned(), "model_refreshed".to_owned())
    );
}

#[test]
fn the_echo_provider_never_asks_for_a_title() {
    let env = TestEnv::new();
    let output = env
        .command()
        .args(["run", "hello there\nsecond line"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        newest_title(&env),
        ("hello there".to_owned(), "first_message".to_owned())
    );

    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("first question");
    tui.wait_for("(offline echo provider: 1 user message in context)");
    tui.submit("second question");
    tui.wait_for("echo: second question");
    tui.quit_cleanly("\x04");
    assert_eq!(
        newest_title(&env),
        ("first question".to_owned(), "first_message".to_owned())
    );
}
