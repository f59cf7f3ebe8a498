//! Which session plain `cairn` opens: the start flags (`--new`, `--continue`, `--session`)
//! and the resume window, in a real pseudo-terminal; and a TUI session continued by
//! `cairn run -s`.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;

const CONTINUING: &str = "Continuing previous session";

/// Starts a session in the work folder with one exchange; returns its printed short id.
fn first_session(env: &TestEnv) -> String {
    let tui = Tui::spawn(env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("remember the number 42");
    tui.wait_for("in context)");
    tui.quit_cleanly("\x04").expect("a way back is printed")
}

#[test]
fn new_flag_starts_fresh_even_within_the_window() {
    let env = TestEnv::new();
    first_session(&env);
    let tui = Tui::spawn_with(&env, &env.work_dir(), &["--new"], &[]);
    tui.wait_for("echo/");
    assert!(!tui.screen().contains(CONTINUING));
    assert!(!tui.screen().contains("remember the number 42"));
    tui.submit("fresh start");
    tui.wait_for("(offline echo provider: 1 user message");
    tui.quit_cleanly("\x04");
}

#[test]
fn continue_ignores_the_window_and_says_when_there_is_nothing() {
    let env = TestEnv::new();
    // Nothing to continue yet: a fresh session, and a note saying so.
    let tui = Tui::spawn_with(&env, &env.work_dir(), &["-C"], &[]);
    tui.wait_for("No earlier session in this workspace");
    tui.quit_cleanly("\x04");

    first_session(&env);
    // With auto-resume off, plain `cairn` starts fresh...
    let off = [("CAIRN_SESSION_CONTINUE_MINUTES", "0")];
    let tui = Tui::spawn_with(&env, &env.work_dir(), &[], &off);
    tui.wait_for("echo/");
    assert!(!tui.screen().contains(CONTINUING));
    tui.quit_cleanly("\x04");
    // ...but --continue still finds the session.
    let tui = Tui::spawn_with(&env, &env.work_dir(), &["--continue"], &off);
    tui.wait_for(CONTINUING);
    tui.wait_for("remember the number 42");
    tui.quit_cleanly("\x04");
}

#[test]
fn session_flag_opens_any_session_from_anywhere_and_unarchives_it() {
    let env = TestEnv::new();
    let short = first_session(&env);
    let output = env
        .command()
        .args(["sessions", "archive", &short])
        .output()
        .unwrap();
    assert!(output.status.success());

    let elsewhere = env.other_dir("elsewhere");
    let tui = Tui::spawn_with(&env, &elsewhere, &["-s", &short[..6]], &[]);
    tui.wait_for(CONTINUING);
    tui.wait_for("remember the number 42");
    tui.submit("from another folder");
    tui.wait_for("(offline echo provider: 2 user messages");
    let back = tui.quit_cleanly("\x04").unwrap();
    assert_eq!(back, short);

    let (listed, _) = env.run_ok(&["sessions", "list"]);
    assert!(
        listed.contains("remember the number 42"),
        "no longer archived: {listed}"
    );
    assert!(!listed.contains("[archived]"), "{listed}");
}

#[test]
fn unknown_session_id_is_an_error_and_the_terminal_is_left_alone() {
    let env = TestEnv::new();
    let mut tui = Tui::spawn_with(&env, &env.work_dir(), &["-s", "deadbeef"], &[]);
    let status = tui.wait_exit();
    assert!(!status.success());
    assert!(
        tui.raw_output().contains("session not found: deadbeef"),
        "{}",
        tui.raw_output()
    );
    assert!(!tui.alternate_screen());
}

#[test]
fn cairn_run_continues_a_session_started_in_the_tui() {
    let env = TestEnv::new();
    let short = first_session(&env);
    let (stdout, _) = env.run_ok(&["run", "-s", &short, "what was the number?"]);
    assert!(stdout.starts_with("echo: what was the number?"), "{stdout}");
    assert!(stdout.contains("2 user messages in context"), "{stdout}");

    // And the TUI shows the exchange made from the script.
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("what was the number?");
    tui.wait_for(CONTINUING);
    tui.quit_cleanly("\x04");
}
