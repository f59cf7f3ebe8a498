//! Rewinding in the chat, end to end: the real binary in a pseudo-terminal with the echo
//! provider. Three turns, back to the second, edit it, send, quit; relaunching shows the
//! edited branch, and the session still holds the old one, third turn and all.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use serde_json::Value;

#[test]
fn rewinding_to_an_earlier_message_edits_it_on_a_new_branch() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    for (turn, text) in ["first question", "second question", "third question"]
        .iter()
        .enumerate()
    {
        tui.submit(text);
        tui.wait_for(&format!("echo: {text}"));
        tui.wait_for(&format!("offline echo provider: {} user message", turn + 1));
    }

    // Esc twice: the list, newest first; Down to the second question, Enter to edit it.
    tui.send("\x1b");
    tui.wait_for("press Esc again");
    tui.send("\x1b");
    tui.wait_for("rewind · type to filter");
    tui.send("\x1b[B");
    tui.send("\r");
    let screen = tui.wait_for("editing from here");
    assert!(!screen.contains("echo: second question"), "{screen}");
    assert!(screen.contains("echo: first question"), "{screen}");
    tui.send(" (edited)");
    tui.send("\r");
    let screen = tui.wait_for("echo: second question (edited)");
    tui.wait_for("offline echo provider: 2 user messages");
    assert!(!screen.contains("third question"), "{screen}");
    let status = tui.status_line();
    assert!(
        status.contains("⑂2"),
        "the status line shows two branches: {status}"
    );
    let id = tui.quit_cleanly("\x04").expect("cairn -s <id> printed");

    // Relaunched: the edited branch, the branch the user was last on.
    let tui = Tui::spawn(&env, &env.work_dir());
    let screen = tui.wait_for("Continuing previous session");
    assert!(
        screen.contains("echo: second question (edited)"),
        "{screen}"
    );
    assert!(!screen.contains("third question"), "{screen}");
    assert!(tui.quit_cleanly("\x04").is_some());

    // Both branches are stored; the old third turn is intact and not active.
    let (stdout, _) = env.run_ok(&["sessions", "show", &id, "--tree", "--json"]);
    let tree: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(tree["branch_count"], 2);
    let messages: Vec<(String, bool)> = tree["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["type"] != "system_context")
        .map(|event| {
            (
                event["text"]
                    .as_str()
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                event["active"].as_bool().unwrap(),
            )
        })
        .collect();
    let expect = |text: &str, active: bool| (text.to_owned(), active);
    assert_eq!(
        messages,
        vec![
            expect("first question", true),
            expect("echo: first question", true),
            expect("second question", false),
            expect("echo: second question", false),
            expect("third question", false),
            expect("echo: third question", false),
            expect("second question (edited)", true),
            expect("echo: second question (edited)", true),
        ]
    );
}
