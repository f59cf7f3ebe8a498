//! What the chat asks of the terminal, read from the raw bytes it writes: by default the
//! mouse is left to the terminal (select text without Shift) and alternate scroll is on, so
//! the wheel arrives as arrow keys that scroll the conversation; `[ui] mouse = true` captures
//! the mouse instead. Both are undone on exit.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;

const ALTERNATE_SCROLL_ON: &str = "\x1b[?1007h";
const ALTERNATE_SCROLL_OFF: &str = "\x1b[?1007l";
/// The first of the sequences that turn mouse reporting on (and off).
const MOUSE_ON: &str = "\x1b[?1000h";
const MOUSE_OFF: &str = "\x1b[?1000l";

/// Waits until the screen is no longer `before` (a key changed it).
fn wait_for_change(tui: &Tui, before: &str) -> String {
    let started = Instant::now();
    loop {
        let screen = tui.screen();
        if screen != before || started.elapsed() > Duration::from_secs(10) {
            return screen;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_mouse_is_left_to_the_terminal_and_the_wheel_scrolls_through_alternate_scroll() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    let start = tui.raw_output();
    assert!(start.contains(ALTERNATE_SCROLL_ON), "{start:?}");
    assert!(!start.contains(MOUSE_ON), "{start:?}");

    // A long answer, sent as a paste (collapsed in the input, sent whole).
    let rows: String = (1..=60).map(|n| format!("row {n}\n")).collect();
    tui.send(&format!("\x1b[200~{rows}\x1b[201~"));
    tui.wait_for("[pasted 60 lines");
    tui.send("\r");
    let bottom = tui.wait_for("(offline echo provider: 1 user message");
    // One wheel notch: the terminal sends three arrows at once. They scroll the
    // conversation; they do not recall the message just sent into the input.
    tui.send("\x1b[A\x1b[A\x1b[A");
    let scrolled = wait_for_change(&tui, &bottom);
    assert!(!scrolled.contains("pasted"), "{scrolled}");
    assert!(
        !scrolled.contains("(offline echo provider"),
        "the last rows scrolled out of view:\n{scrolled}"
    );
    tui.send("\x1b[B\x1b[B\x1b[B");
    let back = wait_for_change(&tui, &scrolled);
    assert!(back.contains("(offline echo provider"), "{back}");
    // An arrow pressed on its own still recalls the prompt history.
    tui.send("\x1b[A");
    tui.wait_for("[pasted 60 lines");
    tui.quit_cleanly("\x03\x04");
}

/// Everything the chat wrote to the terminal from its start to a clean exit on Ctrl+D.
fn output_of_a_clean_session(env: &TestEnv) -> String {
    let mut tui = Tui::spawn(env, &env.work_dir());
    tui.wait_for("echo/");
    tui.send("\x04");
    let status = tui.wait_exit();
    assert!(status.success(), "{status:?}");
    tui.raw_output()
}

#[test]
fn leaving_turns_alternate_scroll_off_again() {
    let env = TestEnv::new();
    let output = output_of_a_clean_session(&env);
    let on = output.find(ALTERNATE_SCROLL_ON).expect("turned on");
    let off = output.rfind(ALTERNATE_SCROLL_OFF).expect("turned off");
    assert!(on < off, "{output:?}");
    assert!(!output.contains(MOUSE_ON), "{output:?}");
}

#[test]
fn mouse_true_captures_the_mouse_and_releases_it_on_exit() {
    let env = TestEnv::new();
    env.write_config("[ui]\nmouse = true\n");
    let output = output_of_a_clean_session(&env);
    let on = output.find(MOUSE_ON).expect("mouse captured");
    let off = output.rfind(MOUSE_OFF).expect("mouse released");
    assert!(on < off, "{output:?}");
    assert!(!output.contains(ALTERNATE_SCROLL_ON), "{output:?}");
}
