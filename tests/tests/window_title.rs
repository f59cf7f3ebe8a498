//! The terminal's window title, end to end in a real pseudo-terminal: the chat pushes the
//! old title, names the window `cairn · <session title>` (a hostile title from the model
//! neutralised), follows the title when it changes (the model's replaces the first
//! message's), and pops the old one on exit; with `[ui] window_title = false` it writes none
//! of it.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use cairn_tests::server::{Reply, ScriptedServer};

const PUSH: &str = "\x1b[22;0t";
const POP: &str = "\x1b[23;0t";

fn wait_for_raw(tui: &Tui, text: &str) {
    let started = Instant::now();
    while !tui.raw_output().contains(text) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "timed out waiting for {text:?} in the output"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_window_is_named_after_the_session_neutralised_and_given_back_on_exit() {
    let env = TestEnv::new();
    let server = ScriptedServer::start_with_titles(
        vec![Reply::openai_text(&["Borrow it instead."])],
        vec![Reply::openai_text(&["\x1b]0;pwned\x07Evil \x1b[2J title"])],
    );
    let mut tui = Tui::spawn_chat_on(&env, &server);
    wait_for_raw(&tui, &format!("{PUSH}\x1b]0;cairn\x07"));
    tui.submit("why does my value move?");
    tui.wait_for("Borrow it instead.");
    wait_for_raw(&tui, "\x1b]0;cairn · ]0;pwned Evil [2J title\x07");
    tui.send("\x04");
    assert!(tui.wait_exit().success());

    let raw = tui.raw_output();
    // Nothing the model wrote reached the terminal as a sequence of its own.
    assert!(!raw.contains("\x1b]0;pwned"), "{raw:?}");
    assert_eq!(raw.matches(PUSH).count(), 1, "{raw:?}");
    assert_eq!(raw.matches(POP).count(), 1, "{raw:?}");
    let last_title = raw.rfind("\x1b]0;").unwrap();
    assert!(raw.rfind(POP).unwrap() > last_title, "the pop comes last");
}

#[test]
fn window_title_false_leaves_the_window_title_alone() {
    let env = TestEnv::new();
    env.write_config("[ui]\nwindow_title = false\n");
    let mut tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("hello there");
    tui.wait_for("echo: hello there");
    tui.send("\x04");
    assert!(tui.wait_exit().success());
    let raw = tui.raw_output();
    assert!(
        !raw.contains("\x1b]0;") && !raw.contains(PUSH) && !raw.contains(POP),
        "{raw:?}"
    );
}
