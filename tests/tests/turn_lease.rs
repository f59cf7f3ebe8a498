//! A turn in progress lives in storage: a second Cairn on the same session waits for the
//! turn to end instead of interleaving with it, and an answer streamed by a Cairn that was
//! killed comes back, marked interrupted, on the next start.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use serde_json::Value;

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(kind, _)| kind.as_str()).collect()
}

/// A `cairn run` whose echo answer streams slowly (a word every `delay_ms`).
fn slow_run(env: &TestEnv, args: &[&str], delay_ms: u64) -> Child {
    env.command()
        .arg("run")
        .args(args)
        .env("CAIRN_ECHO_WORD_DELAY_MS", delay_ms.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's standard output until `needle` has appeared.
fn read_until(child: &mut Child, needle: &str) {
    let stdout = child.stdout.as_mut().unwrap();
    let mut seen = Vec::new();
    let mut buffer = [0u8; 64];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let read = stdout.read(&mut buffer).unwrap();
        assert!(read > 0, "output ended before {needle:?}");
        seen.extend_from_slice(&buffer[..read]);
    }
}

const LONG_QUESTION: &str = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu";

#[test]
fn a_second_cairn_waits_for_the_running_turn_instead_of_interleaving() {
    let env = TestEnv::new();
    let mut first = slow_run(&env, &[LONG_QUESTION], 150);
    read_until(&mut first, "echo: alpha");

    let second = env
        .command()
        .args(["run", "-C", "the second question"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{second_err}");
    assert!(
        second_err.contains("is answering in this session; waiting for its turn to end"),
        "{second_err}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success());

    let events = env.newest_session_events();
    assert_eq!(
        types(&events),
        [
            "user_message",
            "assistant_message",
            "system_context",
            "user_message",
            "assistant_message"
        ]
    );
    // Each answer follows its own question.
    let answer = |index: usize| events[index].1["text"].as_str().unwrap().to_owned();
    assert!(
        answer(1).starts_with(&format!("echo: {LONG_QUESTION}")),
        "{}",
        answer(1)
    );
    assert!(
        answer(4).starts_with("echo: the second question"),
        "{}",
        answer(4)
    );
}

#[test]
fn a_killed_cairns_streamed_answer_is_recovered_and_its_lease_expires() {
    let env = TestEnv::new();
    let mut writer = slow_run(&env, &[LONG_QUESTION], 250);
    read_until(&mut writer, "gamma");
    // Past a heartbeat: the words so far are saved.
    std::thread::sleep(Duration::from_millis(1_300));
    writer.kill().unwrap();
    writer.wait().unwrap();

    // The dead writer's lease blocks for a few seconds at most; then the next turn runs,
    // after the recovered answer.
    let started = Instant::now();
    let next = env
        .command()
        .args(["run", "-C", "are you there?"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&next.stderr);
    assert!(next.status.success(), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr.contains("Recovered an answer that was interrupted when Cairn stopped"),
        "{stderr}"
    );

    let events = env.newest_session_events();
    assert_eq!(
        types(&events),
        [
            "user_message",
            "assistant_message",
            "system_context",
            "user_message",
            "assistant_message"
        ]
    );
    let recovered = &events[1].1;
    assert_eq!(recovered["interrupted"], true, "{recovered}");
    let text = recovered["text"].as_str().unwrap();
    assert!(text.starts_with("echo: alpha beta gamma"), "{text}");
}

#[test]
fn the_chat_killed_mid_answer_shows_the_partial_answer_on_relaunch() {
    let env = TestEnv::new();
    let mut tui = Tui::spawn_with(
        &env,
        &env.work_dir(),
        &[],
        &[("CAIRN_ECHO_WORD_DELAY_MS", "250")],
    );
    tui.wait_for("echo/");
    tui.submit(LONG_QUESTION);
    tui.wait_for("echo: alpha beta gamma");
    std::thread::sleep(Duration::from_millis(1_300));
    tui.kill_9();

    let tui = Tui::spawn(&env, &env.work_dir());
    let screen = tui.wait_for("Recovered an answer");
    assert!(screen.contains("echo: alpha beta gamma"), "{screen}");
    assert!(screen.contains("interrupted"), "{screen}");
    tui.quit_cleanly("\x04");
}
