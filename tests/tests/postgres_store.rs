//! The real binary on a PostgreSQL store (`CAIRN_STORE_URL`), against a fresh database of a
//! throwaway cluster: every command uses it, concurrent writers lose nothing, passwords come
//! from the environment or `~/.pgpass` and are never printed, and an unreachable server is a
//! quick, clear error that writes nothing to the local file.
//!
//! Without PostgreSQL installed, every test here says it was skipped and passes;
//! `CAIRN_REQUIRE_POSTGRES=1` makes them fail instead.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use cairn_store::pg_test_cluster::{PASSWORD, PASSWORD_USER, TestDatabase};
use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use pretty_assertions::assert_eq;
use serde_json::Value;

/// A fresh database, or `None` when PostgreSQL tests are skipped on this machine.
fn fresh_database() -> Option<TestDatabase> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(cairn_store::pg_test_cluster::fresh_database())
}

/// `cairn ARGS` in the work folder on the store at `url`.
fn cairn(env: &TestEnv, url: &str, args: &[&str]) -> Output {
    env.command()
        .args(args)
        .env("CAIRN_STORE_URL", url)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn succeeded(output: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn listed(env: &TestEnv, url: &str) -> Vec<Value> {
    let (stdout, _) = succeeded(&cairn(env, url, &["sessions", "list", "--json"]));
    serde_json::from_str(&stdout).unwrap()
}

/// The text of every user and assistant message of a session, in chain order.
fn messages(env: &TestEnv, url: &str, id: &str) -> Vec<String> {
    let (stdout, _) = succeeded(&cairn(env, url, &["sessions", "show", "--json", id]));
    let session: Value = serde_json::from_str(&stdout).unwrap();
    session["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| {
            matches!(
                event["kind"]["event_type"].as_str(),
                Some("user_message" | "assistant_message")
            )
        })
        .filter_map(|event| event["kind"]["event_data"]["text"].as_str())
        // The echo provider's answer, without its note on the context.
        .map(|text| text.split("\n\n").next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn run_and_the_chat_keep_their_sessions_on_the_server() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let url = database.admin_url();
    let shown = format!("postgres 127.0.0.1:{}/{}", database.port, database.name);

    succeeded(&cairn(&env, &url, &["run", "hello from run"]));
    let sessions = listed(&env, &url);
    assert_eq!(sessions.len(), 1);
    let id = sessions[0]["id"].as_str().unwrap().to_owned();

    // The chat in the same folder resumes that session from the server, and says where it is.
    let tui = Tui::spawn_with(&env, &env.work_dir(), &[], &[("CAIRN_STORE_URL", &url)]);
    let screen = tui.wait_for(&shown);
    assert!(screen.contains("hello from run"), "{screen}");
    tui.submit("and from the chat");
    tui.wait_for("echo: and from the chat");
    tui.quit_cleanly("\x04");

    assert_eq!(
        messages(&env, &url, &id),
        vec![
            "hello from run",
            "echo: hello from run",
            "and from the chat",
            "echo: and from the chat",
        ]
    );
    let (stdout, _) = succeeded(&cairn(&env, &url, &["config", "path"]));
    assert!(stdout.contains(&format!("database: {shown}\n")), "{stdout}");
    // Nothing went to the local file.
    assert!(!env.db_path().exists());
}

#[test]
fn four_concurrent_run_writers_lose_nothing() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let url = database.admin_url();
    succeeded(&cairn(&env, &url, &["run", "start"]));
    let id = listed(&env, &url)[0]["id"].as_str().unwrap().to_owned();

    let writers: Vec<_> = (0..4)
        .map(|writer| {
            env.command()
                .args(["run", "-s", &id, &format!("writer {writer}")])
                .env("CAIRN_STORE_URL", &url)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for writer in writers {
        succeeded(&writer.wait_with_output().unwrap());
    }

    let messages = messages(&env, &url, &id);
    assert_eq!(messages.len(), 10, "{messages:#?}");
    // Each question is followed by its own answer: no turn interleaved with another.
    for pair in messages.chunks(2) {
        assert_eq!(pair[1], format!("echo: {}", pair[0]), "{messages:#?}");
    }
    let mut questions: Vec<&str> = messages.iter().step_by(2).map(String::as_str).collect();
    questions.sort_unstable();
    assert_eq!(
        questions,
        vec!["start", "writer 0", "writer 1", "writer 2", "writer 3"]
    );
}

#[test]
fn passwords_come_from_pgpassword_or_pgpass_and_are_never_shown() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let url = database.user_url();

    let output = env
        .command()
        .args(["run", "with PGPASSWORD"])
        .env("CAIRN_STORE_URL", &url)
        .env("PGPASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    succeeded(&output);

    let pgpass = env.home().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!("127.0.0.1:{}:*:{PASSWORD_USER}:{PASSWORD}\n", database.port),
    )
    .unwrap();
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(listed(&env, &url).len(), 1);
    std::fs::remove_file(&pgpass).unwrap();

    // No password at all, then a wrong one in the url: refused, and the message names the
    // server and the reason, never the password.
    let output = cairn(&env, &url, &["sessions", "list"]);
    assert!(!output.status.success());
    let wrong = url.replace("cairn_user@", "cairn_user:not-the-password@");
    let output = cairn(&env, &wrong, &["run", "hi"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("127.0.0.1:{}/{}", database.port, database.name))
            && stderr.contains("password authentication failed"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-password"), "{stderr}");

    let (stdout, _) = succeeded(&cairn(
        &env,
        &database.user_url_with_password(),
        &["config", "path"],
    ));
    assert!(!stdout.contains("s3cret"), "{stdout}");
    let log = std::fs::read_to_string(env.home().join(".local/state/cairn/cairn.log"))
        .unwrap_or_default();
    assert!(!log.contains(PASSWORD) && !log.contains("s3cret"), "{log}");
}

#[test]
fn a_stopped_server_fails_quickly_naming_it_and_writes_nothing_locally() {
    if fresh_database().is_none() {
        return;
    }
    let env = TestEnv::new();
    // Nothing listens there: a stopped server.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://someone@127.0.0.1:{port}/cairn");
    // Built before the clock starts.
    cairn_tests::cairn_bin();
    for args in [&["run", "hello?"][..], &["sessions", "list"][..]] {
        let started = Instant::now();
        let output = cairn(&env, &url, args);
        assert!(started.elapsed() < Duration::from_secs(10), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "the session store postgres 127.0.0.1:{port}/cairn is unavailable"
            )) && stderr.contains("refused"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!env.db_path().exists());
    assert!(!env.home().join(".local/share/cairn").exists());
}

#[test]
fn sessions_on_the_server_are_found_by_what_was_said() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let url = database.admin_url();
    succeeded(&cairn(&env, &url, &["run", "the Café migration plan"]));
    succeeded(&cairn(
        &env,
        &url,
        &["run", "-C", "something else entirely"],
    ));

    let (stdout, _) = succeeded(&cairn(
        &env,
        &url,
        &["sessions", "search", "--json", "cafe", "migrat*"],
    ));
    let hits: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
    let snippet = &hits[0]["snippets"][0];
    let text = snippet["text"].as_str().unwrap();
    assert!(text.contains("the Café migration plan"), "{text}");
    let matched: Vec<&str> = snippet["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|range| {
            &text[range[0].as_u64().unwrap() as usize..range[1].as_u64().unwrap() as usize]
        })
        .collect();
    assert_eq!(matched, ["Café migration"]);
    let (stdout, stderr) = succeeded(&cairn(&env, &url, &["sessions", "search", "kestrel"]));
    assert_eq!(stdout, "");
    assert!(stderr.contains("no sessions match kestrel"), "{stderr}");
    assert!(!env.db_path().exists());
}
