//! The conversation tree on the command line, with the real binary and the echo provider
//! (which says how many user messages it was sent, so what the model saw is checkable):
//! asking from an earlier point, `sessions show --tree [--json]`, `switch`, `fork`, and the
//! errors for event ids that name no event, several, or one of another session.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;

use cairn_tests::{TestEnv, session_id_from};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn fails(env: &TestEnv, args: &[&str]) -> String {
    let output = env
        .command()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success(), "cairn {args:?} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn tree_json(env: &TestEnv, id: &str) -> Value {
    let (stdout, _) = env.run_ok(&["sessions", "show", id, "--tree", "--json"]);
    serde_json::from_str(&stdout).unwrap()
}

/// (text, active) of every user message, oldest first.
fn user_messages(tree: &Value) -> Vec<(String, bool)> {
    tree["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] == "user_message")
        .map(|event| {
            (
                event["text"].as_str().unwrap().to_owned(),
                event["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn event_id(tree: &Value, text: &str) -> String {
    tree["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["text"] == text)
        .and_then(|event| event["id"].as_str())
        .unwrap_or_else(|| panic!("no event {text:?}"))
        .to_owned()
}

fn parent_of(tree: &Value, id: &str) -> String {
    tree["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["id"] == id)
        .and_then(|event| event["parent_id"].as_str())
        .unwrap()
        .to_owned()
}

/// A session of three turns, q1 to q3; returns its id.
fn three_turns(env: &TestEnv) -> String {
    let (_, stderr) = env.run_ok(&["run", "q1"]);
    let id = session_id_from(&stderr);
    env.run_ok(&["run", "-s", &id, "q2"]);
    env.run_ok(&["run", "-s", &id, "q3"]);
    id
}

#[test]
fn asking_from_an_earlier_point_switching_back_and_forking() {
    let env = TestEnv::new();
    let id = three_turns(&env);
    let tree = tree_json(&env, &id);
    let q2 = event_id(&tree, "q2");
    let before_q2 = parent_of(&tree, &q2);

    // Edit q2: ask from the answer before it. The model sees q1 and the new question only.
    let (stdout, _) = env.run_ok(&["run", "-s", &id, "--at", &before_q2, "q2 edited"]);
    assert!(stdout.contains("2 user messages in context"), "{stdout}");
    let tree = tree_json(&env, &id);
    assert_eq!(
        user_messages(&tree),
        vec![
            ("q1".to_owned(), true),
            ("q2".to_owned(), false),
            ("q3".to_owned(), false),
            ("q2 edited".to_owned(), true),
        ],
        "both branches, the old third turn intact"
    );
    assert_eq!(tree["branch_count"], 2);
    // The resume note to the model comes first on the new branch, after the chosen point.
    let boundary = parent_of(&tree, &event_id(&tree, "q2 edited"));
    assert_eq!(parent_of(&tree, &boundary), before_q2);

    // The text tree: the edited branch is active and holds the head; ids are short.
    let (text, _) = env.run_ok(&["sessions", "show", &id, "--tree"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "q1", "the title");
    assert!(
        lines[1].starts_with("* ") && lines[1].ends_with("  q1"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("    0") && lines[2].contains("  q2"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("    0") && lines[3].contains("  q3  (6 messages)"),
        "{text}"
    );
    assert!(
        lines[4].starts_with("  > ") && lines[4].ends_with("  q2 edited  (4 messages, head)"),
        "{text}"
    );
    assert_eq!(lines[5], "2 branches, 4 messages on the active one");
    let short_q3 = lines[3].split_whitespace().next().unwrap();
    assert!(short_q3.len() >= 8 && event_id(&tree, "q3").replace('-', "").starts_with(short_q3));

    // The listing counts the active branch and says there are two.
    let (list, _) = env.run_ok(&["sessions", "list"]);
    assert!(list.contains("4 (2 branches)"), "{list}");
    let (list, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(
        (
            rows[0]["message_count"].clone(),
            rows[0]["branch_count"].clone()
        ),
        (4.into(), 2.into())
    );

    // Back to the old branch by the short id printed for q3: the head is its newest leaf.
    let (stdout, _) = env.run_ok(&["sessions", "switch", &id, short_q3]);
    assert!(stdout.starts_with("switched "), "{stdout}");
    let (stdout, _) = env.run_ok(&["run", "-s", &id, "q4"]);
    assert!(stdout.contains("4 user messages in context"), "{stdout}");

    // Fork from q2's answer: a new session with copies of q1..a2, the original untouched.
    let tree = tree_json(&env, &id);
    let a2 = tree["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["parent_id"] == q2.as_str())
        .and_then(|event| event["id"].as_str())
        .unwrap()
        .to_owned();
    let (stdout, stderr) = env.run_ok(&["sessions", "fork", &id, "--at", &a2, "--title", "side"]);
    let fork = stdout.trim().to_owned();
    assert_eq!(fork.len(), 36, "{stdout}");
    assert!(stderr.contains("cairn -s "), "{stderr}");
    let forked = tree_json(&env, &fork);
    assert_eq!(
        user_messages(&forked),
        vec![("q1".to_owned(), true), ("q2".to_owned(), true)]
    );
    assert_eq!(forked["session"]["title"], "side");
    assert_eq!(forked["forked_from"]["session_id"], id.as_str());
    assert_eq!(forked["forked_from"]["event_id"], a2.as_str());
    assert_ne!(event_id(&forked, "q2"), q2, "copies have new ids");
    let (text, _) = env.run_ok(&["sessions", "show", &fork, "--tree"]);
    assert!(
        text.lines().nth(1).unwrap().starts_with("forked from "),
        "{text}"
    );
    assert_eq!(
        tree_json(&env, &id)["events"],
        tree["events"],
        "the original is untouched"
    );
    let (stdout, _) = env.run_ok(&["run", "-s", &fork, "in the fork"]);
    assert!(stdout.contains("3 user messages in context"), "{stdout}");
    // A title typed for the fork is the user's, which no automatic title replaces.
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Value = serde_json::from_str(&stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["id"] == fork.as_str())
        .unwrap();
    assert_eq!(
        (&row["title"], &row["title_source"]),
        (&Value::from("side"), &Value::from("user"))
    );
}

#[test]
fn event_ids_that_name_no_event_several_or_another_sessions_are_refused() {
    let env = TestEnv::new();
    let id = three_turns(&env);
    let (_, stderr) = env.run_ok(&["run", "elsewhere"]);
    let other = session_id_from(&stderr);
    let other_event = event_id(&tree_json(&env, &other), "elsewhere");
    let before = tree_json(&env, &id);

    let stderr = fails(&env, &["sessions", "switch", &id, "ffffffff"]);
    assert!(
        stderr.contains("no event of session") && stderr.contains("`ffffffff`"),
        "{stderr}"
    );

    // Events written within the same minute share their first eight digits.
    let prefix = &event_id(&before, "q1").replace('-', "")[..8];
    let stderr = fails(&env, &["sessions", "switch", &id, prefix]);
    assert!(stderr.contains("names more than one event"), "{stderr}");
    assert!(
        stderr.contains(&event_id(&before, "q1")),
        "the candidates are named: {stderr}"
    );

    for args in [
        vec!["sessions", "switch", &id, &other_event],
        vec!["sessions", "fork", &id, "--at", &other_event],
        vec!["run", "-s", &id, "--at", &other_event, "x"],
    ] {
        let stderr = fails(&env, &args);
        assert!(stderr.contains("no event of session"), "{args:?}: {stderr}");
    }
    assert_eq!(tree_json(&env, &id), before, "nothing was written");
    let (list, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "no fork was made");

    let stderr = fails(&env, &["run", "--at", "abcd", "x"]);
    assert!(
        stderr.contains("--session"),
        "--at needs a session: {stderr}"
    );
}
