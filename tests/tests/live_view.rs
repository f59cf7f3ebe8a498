//! Two chat windows on one workspace see each other live: a message sent while the other
//! window answers is queued and goes out after that answer, both windows show every turn
//! without a relaunch, and the stored chain alternates complete turns.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use serde_json::Value;

/// `(type, text)` of the user and assistant messages of the newest session, in chain order.
fn stored_messages(env: &TestEnv) -> Vec<(String, String)> {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    let (stdout, _) = env.run_ok(&["sessions", "show", "--json", &id]);
    let session: Value = serde_json::from_str(&stdout).unwrap();
    session["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|event| {
            let kind = event["kind"]["event_type"].as_str().unwrap();
            matches!(kind, "user_message" | "assistant_message").then(|| {
                (
                    kind.to_owned(),
                    event["kind"]["event_data"]["text"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
        })
        .collect()
}

#[test]
fn two_windows_alternate_turns_and_each_shows_the_others_live() {
    let env = TestEnv::new();
    let slow = [("CAIRN_ECHO_WORD_DELAY_MS", "40")];
    let a = Tui::spawn_with(&env, &env.work_dir(), &[], &slow);
    a.wait_for("echo/");
    a.submit("opening from a");
    a.wait_for("echo: opening from a");
    let b = Tui::spawn_with(&env, &env.work_dir(), &[], &slow);
    b.wait_for("echo: opening from a");

    let rounds = 2;
    for round in 1..=rounds {
        let from_a = format!("round {round} question from window a with some words");
        let from_b = format!("round {round} question from window b");
        a.submit(&from_a);
        std::thread::sleep(Duration::from_millis(100));
        b.submit(&from_b);
        for window in [&a, &b] {
            window.wait_for(&format!("echo: {from_a}"));
            window.wait_for(&format!("echo: {from_b}"));
        }
    }
    let b_screen = b.screen();
    assert!(
        b_screen.contains("From another terminal:"),
        "the other window's turns are marked: {b_screen}"
    );

    let messages = stored_messages(&env);
    let mut expected = vec![("opening from a".to_owned())];
    for round in 1..=rounds {
        expected.push(format!(
            "round {round} question from window a with some words"
        ));
        expected.push(format!("round {round} question from window b"));
    }
    let questions: Vec<String> = messages
        .iter()
        .step_by(2)
        .map(|(_, text)| text.clone())
        .collect();
    assert_eq!(questions, expected, "{messages:?}");
    for pair in messages.chunks(2) {
        let [(question_kind, question), (answer_kind, answer)] = pair else {
            panic!("a turn without its answer: {messages:?}");
        };
        assert_eq!(
            (question_kind.as_str(), answer_kind.as_str()),
            ("user_message", "assistant_message"),
            "{messages:?}"
        );
        assert!(
            answer.starts_with(&format!("echo: {question}")),
            "an answer follows its own question: {messages:?}"
        );
    }
    a.quit_cleanly("\x04");
    b.quit_cleanly("\x04");
}

#[test]
fn writing_in_a_window_whose_session_another_archived_brings_it_back() {
    let env = TestEnv::new();
    let a = Tui::spawn(&env, &env.work_dir());
    a.wait_for("echo/");
    a.submit("shared work");
    a.wait_for("echo: shared work");
    let b = Tui::spawn(&env, &env.work_dir());
    b.wait_for("echo: shared work");

    a.submit("/new");
    a.wait_for("The previous one was archived");
    b.wait_for("Another terminal archived this session");
    b.submit("more work in b");
    b.wait_for("echo: more work in b");
    b.wait_for("made it active again");
    b.quit_cleanly("\x04");
    a.quit_cleanly("\x04");

    // Not archived: the work of b is what `--continue` picks up.
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["archived"], false, "{rows:?}");
    let (stdout, _) = env.run_ok(&[
        "sessions",
        "show",
        "--json",
        rows[0]["id"].as_str().unwrap(),
    ]);
    assert!(stdout.contains("more work in b"), "{stdout}");
}

#[test]
fn a_session_deleted_under_a_window_is_reported_and_the_window_goes_on_in_a_new_one() {
    let env = TestEnv::new();
    let a = Tui::spawn(&env, &env.work_dir());
    a.wait_for("echo/");
    a.submit("doomed work");
    a.wait_for("echo: doomed work");
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let doomed = rows[0]["id"].as_str().unwrap().to_owned();
    env.run_ok(&["sessions", "delete", "--yes", &doomed]);

    a.wait_for("Another terminal deleted this session");
    a.submit("fresh work");
    a.wait_for("echo: fresh work");
    a.quit_cleanly("\x04");

    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_ne!(rows[0]["id"].as_str().unwrap(), doomed);
    let (stdout, _) = env.run_ok(&[
        "sessions",
        "show",
        "--json",
        rows[0]["id"].as_str().unwrap(),
    ]);
    assert!(stdout.contains("fresh work"), "{stdout}");
    assert!(!stdout.contains("doomed work"), "{stdout}");
}
