//! The chat screen end to end: the real `cairn` binary in a pseudo-terminal with the offline
//! echo provider, read back through a vt100 parser. Every wait polls the screen with a
//! generous timeout; no fixed sleep is an assertion.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cairn_tests::pty::Tui;
use cairn_tests::{TestEnv, session_id_from};

#[test]
fn a_conversation_is_resumed_in_the_same_folder() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("hello there");
    tui.wait_for("echo: hello there");
    tui.wait_for("(offline echo provider: 1 user message");
    let first_id = tui.quit_cleanly("\x04").expect("cairn -s <id> printed");
    assert!(first_id.len() >= 8, "short id printed: {first_id}");

    let tui = Tui::spawn(&env, &env.work_dir());
    let screen = tui.wait_for("Continuing previous session (last active");
    assert!(screen.contains("/new starts a fresh one"), "{screen}");
    assert!(screen.contains("hello there"), "{screen}");
    assert!(screen.contains("echo: hello there"), "{screen}");
    // The status line shows the shortest unique prefix; the hint printed on exit is longer
    // so that it stays unique.
    let status = tui.status_line();
    let shown = shown_id(&status);
    assert!(
        first_id.len() >= 12 && shown.len() >= 8 && first_id.starts_with(shown),
        "{first_id} / {status}"
    );
    assert!(
        tui.status_line().contains("resumed"),
        "{}",
        tui.status_line()
    );
    tui.submit("and again");
    tui.wait_for("echo: and again");
    tui.wait_for("(offline echo provider: 2 user messages in context)");
    let second_id = tui.quit_cleanly("/quit\r").expect("cairn -s <id> printed");
    assert_eq!(second_id, first_id);
}

#[test]
fn a_model_picked_with_slash_model_is_used_again_when_the_session_is_continued() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("/model tiny-model");
    tui.wait_for("Model set to tiny-model for this session");
    tui.submit("hello");
    tui.wait_for("echo: hello");
    tui.quit_cleanly("/quit\r").expect("cairn -s <id> printed");

    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("Using tiny-model, the model chosen for this session.");
    assert!(
        tui.status_line().contains("echo/tiny-model"),
        "{}",
        tui.status_line()
    );
    tui.quit_cleanly("/quit\r");
}

#[test]
fn an_unknown_config_key_is_a_note_in_the_chat_which_still_starts() {
    let env = TestEnv::new();
    env.write_config("[provider]\nkind = \"echo\"\ncolour = \"green\"\n");
    let tui = Tui::spawn(&env, &env.work_dir());
    let screen = tui.wait_for("Config: unknown key `provider.colour`");
    assert!(screen.contains("config.toml line 3"), "{screen}");
    tui.submit("hello");
    tui.wait_for("echo: hello");
    tui.quit_cleanly("/quit\r");
}

#[test]
fn slash_new_clears_the_screen_and_starts_a_new_session() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("first topic");
    tui.wait_for("(offline echo provider: 1 user message");
    let before = tui.status_line();
    tui.submit("/new");
    let screen = tui.wait_for("Started a new session");
    assert!(!screen.contains("first topic"), "{screen}");
    let after = tui.status_line();
    assert_ne!(shown_id(&before), shown_id(&after));
    assert!(after.contains("new"), "{after}");
    tui.submit("second topic");
    tui.wait_for("echo: second topic");
    tui.wait_for("(offline echo provider: 1 user message");

    // The archived session is one pick away.
    tui.submit("/sessions");
    tui.wait_for("sessions · this workspace");
    tui.send("first");
    tui.wait_for("filter: first");
    tui.send("\r");
    let screen = tui.wait_for("Continuing previous session");
    assert!(screen.contains("echo: first topic"), "{screen}");
    assert!(!screen.contains("second topic"), "{screen}");
    // Two sessions made within a minute: the id shown grows until it tells them apart.
    let reopened = tui.status_line();
    assert!(
        shown_id(&reopened).starts_with(shown_id(&before)) && shown_id(&reopened).len() > 8,
        "{before} / {reopened}"
    );
    assert_ne!(shown_id(&reopened), shown_id(&after));
    assert!(tui.quit_cleanly("\x04").is_some());
}

/// The session id in a status line (`folder · id title · ...`).
fn shown_id(status: &str) -> &str {
    status
        .split(" · ")
        .nth(1)
        .and_then(|part| part.split_whitespace().next())
        .unwrap_or("")
}

#[test]
fn a_different_folder_starts_fresh() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("only here");
    tui.wait_for("echo: only here");
    assert!(tui.quit_cleanly("\x04").is_some());

    let other = env.other_dir("elsewhere");
    let tui = Tui::spawn(&env, &other);
    tui.wait_for("echo/");
    // Typed text on screen means the start-up has been drawn; only then is an absence
    // meaningful.
    tui.send("probe");
    let screen = tui.wait_for("› probe");
    assert!(!screen.contains("only here"), "{screen}");
    assert!(!screen.contains("Continuing previous session"), "{screen}");
    // Ctrl+U empties the input; Ctrl+C twice on an empty line quits too.
    tui.send("\x15");
    tui.send("\x03");
    tui.wait_for("press Ctrl+C again to quit");
    // Nothing was written in this folder, so there is no session to come back to.
    assert_eq!(tui.quit_cleanly("\x03"), None);
}

#[test]
fn a_panic_in_a_background_task_restores_the_terminal_and_keeps_the_message() {
    let env = TestEnv::new();
    let mut tui = Tui::spawn_with(
        &env,
        &env.work_dir(),
        &[],
        &[("CAIRN_TEST_PANIC_IN_STREAM", "1")],
    );
    tui.wait_for("echo/");
    tui.submit("a message worth keeping");
    let status = tui.wait_exit();
    assert!(!status.success(), "a panic is a failure exit");
    assert!(!tui.alternate_screen(), "the alternate screen was left");
    let output = tui.raw_output();
    assert!(output.contains("internal error"), "{output}");
    // Raw mode is off again: the terminal echoes and translates newlines as usual, which
    // vt100 cannot tell us, but the restore sequence ends with showing the cursor.
    assert!(output.contains("\u{1b}[?25h"), "the cursor is shown again");

    let listed = env.command().args(["sessions", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("a message worth keeping"), "{listed}");
}

#[test]
fn earlier_prompts_of_this_workspace_come_back_with_up() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("the first prompt");
    tui.wait_for("1 user message");
    tui.submit("the second prompt");
    tui.wait_for("2 user messages");
    tui.quit_cleanly("\x04");

    let tui = Tui::spawn_with(&env, &env.work_dir(), &["--new"], &[]);
    tui.wait_for("echo/");
    tui.send("\x1b[A");
    tui.wait_for("› the second prompt");
    tui.send("\x1b[A");
    tui.wait_for("› the first prompt");
    // Ctrl+U empties the input, so Ctrl+D quits.
    tui.quit_cleanly("\x15\x04");
    // Another folder has its own history.
    let elsewhere = env.other_dir("elsewhere");
    let tui = Tui::spawn(&env, &elsewhere);
    tui.wait_for("echo/");
    tui.send("\x1b[A");
    // A key typed after Up shows that Up was handled: a recalled prompt would be in front
    // of it.
    tui.send("z");
    let screen = tui.wait_for("› z");
    assert!(!screen.contains("the second prompt"), "{screen}");
    tui.quit_cleanly("\x15\x04");
}

#[test]
fn closing_the_terminal_mid_answer_keeps_the_partial_answer() {
    let env = TestEnv::new();
    let mut tui = Tui::spawn_with(
        &env,
        &env.work_dir(),
        &[],
        &[("CAIRN_ECHO_WORD_DELAY_MS", "300")],
    );
    tui.wait_for("echo/");
    tui.submit("one two three four five six seven eight nine ten eleven twelve");
    tui.wait_for("echo: one");
    tui.close_terminal();
    tui.wait_exit();
    // Writing to the closed terminal fails; none of that may become a panic.
    let log = std::fs::read_to_string(env.home().join(".local/state/cairn/cairn.log")).unwrap();
    assert!(!log.contains("panic"), "{log}");

    let listed = env
        .command()
        .args(["sessions", "list", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&listed.stdout).unwrap();
    let id = rows[0]["id"].as_str().unwrap();
    let shown = env
        .command()
        .args(["sessions", "show", "--json", id])
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let events = value["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{value}");
    let answer = &events[1]["kind"]["event_data"];
    assert_eq!(answer["interrupted"], true, "{value}");
    let text = answer["text"].as_str().unwrap();
    assert!(text.starts_with("echo: one"), "{text}");
    assert!(!text.contains("twelve"), "the answer was cut short: {text}");
}

/// Terminals closed while Cairn is reading them, many at once: each Cairn must end. A reader
/// that loops on a hung-up terminal once starved the loop of the SIGHUP that ends it, about
/// one close in ten under this load.
#[test]
fn closing_many_terminals_at_once_ends_every_cairn() {
    let closers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(|| {
                for _ in 0..4 {
                    let env = TestEnv::new();
                    let mut tui = Tui::spawn_with(
                        &env,
                        &env.work_dir(),
                        &[],
                        &[("CAIRN_ECHO_WORD_DELAY_MS", "300")],
                    );
                    tui.wait_for("echo/");
                    tui.submit("one two three four five six");
                    tui.wait_for("echo: one");
                    tui.close_terminal();
                    tui.wait_exit();
                }
            })
        })
        .collect();
    for closer in closers {
        closer.join().expect("every cairn ended");
    }
}

/// A long session opens on its newest messages at once and the rest loads behind them: the
/// oldest message can be scrolled to, and a message typed the moment the chat appears is
/// sent once, after the load, at the end of the conversation.
#[test]
fn a_long_session_opens_on_its_newest_messages_and_loads_the_rest() {
    let env = TestEnv::new();
    let (stdout, _) = env.run_ok(&["run", "question 0"]);
    assert!(stdout.contains("echo: question 0"), "{stdout}");
    // Three events a run (resume boundary, question, answer): 209 events, more than the chat
    // reads before its first frame (200).
    for n in 1..70 {
        env.run_ok(&["run", "-C", &format!("question {n}")]);
    }

    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo: question 69");
    tui.submit("typed at once");
    tui.wait_for("echo: typed at once");
    for _ in 0..200 {
        tui.send("\x1b[5~"); // Page Up
    }
    let top = tui.wait_for("echo: question 0");
    assert!(top.contains("question 1"), "{top}");
    tui.quit_cleanly("/quit\r").expect("cairn -s <id> printed");

    let users: Vec<String> = env
        .newest_session_events()
        .into_iter()
        .filter(|(kind, _)| kind == "user_message")
        .map(|(_, data)| data["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(users.len(), 71, "{users:?}");
    assert_eq!(users[0], "question 0");
    assert_eq!(users[70], "typed at once");
}

/// `/search` finds an earlier session by what was said in it and opens it scrolled to the
/// message that matched.
#[test]
fn slash_search_opens_another_session_at_the_matching_message() {
    let env = TestEnv::new();
    let (_, stderr) = env.run_ok(&["run", "where do kestrels nest"]);
    let searched = session_id_from(&stderr);
    for n in 0..12 {
        env.run_ok(&["run", "-C", &format!("filler {n}")]);
    }
    env.run_ok(&["run", "a newer conversation"]);

    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo: a newer conversation");
    tui.submit("/search kestrels");
    tui.wait_for("where do kestrels nest");
    tui.send("\r");
    // The opened conversation, scrolled up to the match: its first answer is in view, its
    // last is not.
    let screen = tui.wait_for("• echo: where do kestrels nest");
    assert!(
        !screen.contains("filler 11"),
        "scrolled to the match:\n{screen}"
    );
    assert!(
        tui.status_line().contains(&searched[..8]),
        "{}",
        tui.status_line()
    );
    tui.quit_cleanly("/quit\r");
}

#[test]
fn a_fresh_start_past_the_resume_window_says_where_the_last_conversation_is() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("remember me");
    tui.wait_for("echo: remember me");
    tui.quit_cleanly("/quit\r").expect("cairn -s <id> printed");

    // Automatic resume off: every start is outside the window.
    let tui = Tui::spawn_with(
        &env,
        &env.work_dir(),
        &[],
        &[("CAIRN_SESSION_CONTINUE_MINUTES", "0")],
    );
    let screen = tui.wait_for("Last conversation here just now");
    assert!(
        screen.contains("`cairn -C` or /sessions brings it back."),
        "{screen}"
    );
    assert!(!screen.contains("echo: remember me"), "{screen}");
    tui.quit_cleanly("/quit\r");
}

#[test]
fn a_message_typed_while_the_answer_streams_goes_out_after_it() {
    let env = TestEnv::new();
    let slow = [("CAIRN_ECHO_WORD_DELAY_MS", "60")];
    let tui = Tui::spawn_with(&env, &env.work_dir(), &[], &slow);
    tui.wait_for("echo/");
    tui.submit("one two three four five six seven eight nine ten");
    tui.wait_for("echo: one two");
    tui.submit("the follow-up");
    let screen = tui.wait_for("queued: the follow-up");
    assert!(!screen.contains("echo: the follow-up"), "{screen}");
    tui.wait_for("(offline echo provider: 2 user messages in context)");
    tui.quit_cleanly("\x04");
    // First lines: the echo provider adds a line about its context.
    let said: Vec<String> = env
        .newest_session_events()
        .into_iter()
        .filter(|(kind, _)| kind == "user_message" || kind == "assistant_message")
        .map(|(_, data)| {
            let text = data["text"].as_str().unwrap_or_default();
            text.lines().next().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(
        said,
        [
            "one two three four five six seven eight nine ten",
            "echo: one two three four five six seven eight nine ten",
            "the follow-up",
            "echo: the follow-up",
        ]
    );
}

#[test]
fn ctrl_z_gives_the_terminal_back_to_the_shell_and_fg_brings_the_chat_back() {
    let env = TestEnv::new();
    // A shell with job control, as in a real terminal: Ctrl+Z stops cairn, `fg` resumes it.
    let mut tui = Tui::spawn_program(
        &env,
        &env.work_dir(),
        std::path::Path::new("/bin/bash"),
        &["--norc", "--noprofile", "-i"],
        &[("PS1", "shell$ ")],
    );
    tui.wait_for("shell$");
    tui.send(&format!("{}\r", cairn_tests::cairn_bin().display()));
    tui.wait_for("echo/");
    tui.submit("before suspending");
    tui.wait_for("echo: before suspending");

    tui.send("\x1a");
    let screen = tui.wait_for("Stopped");
    assert!(
        !tui.alternate_screen(),
        "the terminal is the shell's again:\n{screen}"
    );
    // The wheel is the shell's again too: alternate scroll is off while stopped.
    let output = tui.raw_output();
    assert!(output.rfind("\x1b[?1007l") > output.rfind("\x1b[?1007h"));

    tui.send("fg\r");
    let screen = tui.wait_for("echo: before suspending");
    assert!(tui.alternate_screen(), "the chat is back:\n{screen}");
    assert_eq!(tui.raw_output().matches("\x1b[?1007h").count(), 2);
    assert!(
        screen.contains("echo/"),
        "the status line is drawn again:\n{screen}"
    );
    // Ctrl+L redraws and the chat goes on (it used to wait for a cursor report and quit).
    tui.send("\x0c");
    tui.submit("after resuming");
    tui.wait_for("echo: after resuming");

    tui.send("\x04");
    tui.wait_for("shell$");
    assert!(!tui.alternate_screen());
    tui.send("exit\r");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}");
}
