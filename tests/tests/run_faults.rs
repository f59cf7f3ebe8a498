//! `cairn run` keeps the answer whatever happens around it: the reader of its output goes
//! away or the disk is full, a signal arrives before the first byte, another process holds
//! the session database when the answer is saved.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cairn_tests::TestEnv;
use cairn_tests::server::ScriptedServer;

const QUESTION: &str = "one two three four five six seven eight nine ten";

fn assert_whole_answer_saved(env: &TestEnv) {
    let events = env.newest_session_events();
    assert_eq!(events.len(), 2, "{events:#?}");
    let (kind, answer) = &events[1];
    assert_eq!(kind, "assistant_message");
    assert_eq!(answer["interrupted"], false, "{answer}");
    let text = answer["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("echo: {QUESTION}")), "{text}");
    assert!(text.contains("1 user message in context"), "{text}");
}

#[test]
fn a_reader_that_goes_away_still_gets_the_answer_saved() {
    let env = TestEnv::new();
    let mut child = env
        .command()
        .args(["run", QUESTION])
        .env("CAIRN_ECHO_WORD_DELAY_MS", "20")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // `| head -c 20`: read twenty bytes, then close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 20];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert_whole_answer_saved(&env);
}

#[test]
fn a_full_disk_for_the_output_is_an_error_but_the_answer_is_saved() {
    let env = TestEnv::new();
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: this system has no /dev/full");
        return;
    };
    let output = env
        .command()
        .args(["run", QUESTION])
        .stdin(Stdio::null())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("could not write to standard output; the answer was saved"),
        "{stderr}"
    );
    assert_whole_answer_saved(&env);
}

#[test]
fn sigterm_before_the_first_byte_ends_at_once_and_keeps_the_question() {
    let env = TestEnv::new();
    // A provider that takes the request and never answers.
    let server = ScriptedServer::start_silent();
    env.write_config(&server.openai_config());
    let mut child = env
        .command()
        .args(["run", QUESTION])
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while server.requests().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the request never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Ending is bounded by the test's own timeout; the provider would wait minutes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "cairn run ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    let events = env.newest_session_events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].1["text"], QUESTION);
}

#[test]
fn an_answer_waits_for_a_database_another_process_holds() {
    let env = TestEnv::new();
    // Make the database exist first.
    env.run_ok(&["run", "hello"]);
    let mut child = env
        .command()
        .args(["run", QUESTION])
        .env("CAIRN_ECHO_WORD_DELAY_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 5];
    stdout.read_exact(&mut first).unwrap(); // "echo:": the question is stored

    // Another process takes the write lock and holds it for longer than the store's own
    // busy timeout, then lets go.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = env.db_path();
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", db.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut connection)
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(8)).await;
        sqlx::query("COMMIT")
            .execute(&mut connection)
            .await
            .unwrap();
    });
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("waiting to save the answer"), "{stderr}");
    assert_whole_answer_saved(&env);
}
