//! Sessions across machines with the real binary and a throwaway PostgreSQL cluster:
//! `cairn store copy` of a local database with 1,000 sessions copies all and then none, and
//! back; a conversation started on one "machine" (its own HOME and host name, the repository
//! cloned at its own path with the same `origin`) resumes by itself on the other.
//!
//! Without PostgreSQL installed, every test here says it was skipped and passes;
//! `CAIRN_REQUIRE_POSTGRES=1` makes them fail instead.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cairn_core::SessionService;
use cairn_core::{Event, EventId, EventKind, InvocationId, Location, Session, SessionId};
use cairn_store::SqliteSessionService;
use cairn_store::pg_test_cluster::TestDatabase;
use cairn_tests::TestEnv;
use cairn_tests::pty::Tui;
use pretty_assertions::assert_eq;
use serde_json::Value;

fn fresh_database() -> Option<TestDatabase> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(cairn_store::pg_test_cluster::fresh_database())
}

fn run(command: &mut Command) -> (String, String) {
    let output: Output = command.stdin(Stdio::null()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    (stdout, stderr)
}

fn listed(env: &TestEnv, url: Option<&str>) -> Vec<Value> {
    let mut command = env.command();
    command.args([
        "sessions",
        "list",
        "--all",
        "--archived",
        "--json",
        "--limit",
        "5000",
    ]);
    if let Some(url) = url {
        command.env("CAIRN_STORE_URL", url);
    }
    serde_json::from_str(&run(&mut command).0).unwrap()
}

/// 1,000 sessions written straight into the local database, as many `cairn run`s over
/// months would have: one to three exchanges each, every tenth archived, some in a
/// repository.
async fn write_many_sessions(path: &Path) {
    let service = SqliteSessionService::open(path).await.unwrap();
    for n in 0..1_000_i64 {
        let at = 1_700_000_000_000 + n * 60_000;
        let session = Session {
            id: SessionId::new(),
            directory: format!("/home/ada/project-{}", n % 7).into(),
            git_root: (n % 2 == 0).then(|| format!("/home/ada/project-{}", n % 7).into()),
            head_id: None,
            title: format!("question {n}"),
            created_at_ms: at,
            updated_at_ms: at,
            archived_at_ms: None,
            model: None,
            location: Location::default(),
        };
        let mut events: Vec<Event> = Vec::new();
        for turn in 0..=(n % 3) {
            for (offset, kind) in [
                EventKind::UserMessage {
                    text: format!("question {n}.{turn}"),
                },
                EventKind::AssistantMessage {
                    text: format!("answer {n}.{turn}"),
                    usage: None,
                    interrupted: false,
                    model: Some("echo".to_owned()),
                },
            ]
            .into_iter()
            .enumerate()
            {
                events.push(Event {
                    id: EventId::new(),
                    session_id: session.id,
                    parent_id: events.last().map(|event| event.id),
                    invocation_id: InvocationId::new(),
                    created_at_ms: at + turn * 2 + offset as i64,
                    kind,
                });
            }
        }
        let row = Session {
            head_id: events.last().map(|event| event.id),
            updated_at_ms: events.last().unwrap().created_at_ms,
            ..session
        };
        service.create_session(&row, &events).await.unwrap();
        if n % 10 == 3 {
            service.set_archived(row.id, Some(at + 10)).await.unwrap();
        }
    }
    service.close().await;
}

#[test]
fn a_thousand_local_sessions_copy_to_postgres_once_and_back() {
    let Some(database) = fresh_database() else {
        return;
    };
    let url = database.admin_url();
    let env = TestEnv::new();
    // One real conversation, then 1,000 more written directly.
    run(env.command().args(["run", "the real one"]));
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(write_many_sessions(&env.db_path()));
    let local = listed(&env, None);
    assert_eq!(local.len(), 1_001);

    let (stdout, stderr) = run(env.command().args(["store", "copy", "--to", &url]));
    let server = format!("postgres 127.0.0.1:{}/{}", database.port, database.name);
    assert_eq!(
        stdout,
        format!(
            "copied 1001 sessions (4000 events) from {} to {server}; 0 were there already\n",
            env.db_path().display()
        )
    );
    // Not a terminal: plain progress lines, the last at 100%.
    assert!(stderr.contains("  0%  0/1001 sessions\n"), "{stderr}");
    assert!(stderr.ends_with("100%  1001/1001 sessions\n"), "{stderr}");
    assert_eq!(listed(&env, Some(&url)), local);

    let (stdout, _) = run(env.command().args(["store", "copy", "--to", &url]));
    assert!(
        stdout.starts_with("copied 0 sessions (0 events)")
            && stdout.ends_with("1001 were there already\n"),
        "{stdout}"
    );

    // Back to another machine's empty local database.
    let elsewhere = TestEnv::new();
    let (stdout, _) = run(elsewhere.command().args(["store", "copy", "--from", &url]));
    assert!(
        stdout.starts_with("copied 1001 sessions (4000 events)"),
        "{stdout}"
    );
    assert_eq!(listed(&elsewhere, None), local);
    let (stdout, _) =
        run(elsewhere
            .command()
            .args(["sessions", "search", "--all", "the real one"]));
    assert!(stdout.contains("the real one"), "{stdout}");
}

#[test]
fn copying_to_an_unreachable_server_names_it_and_writes_nothing() {
    if fresh_database().is_none() {
        return;
    }
    let env = TestEnv::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://someone:secret@127.0.0.1:{port}/cairn");
    cairn_tests::cairn_bin();
    let started = Instant::now();
    let output = env
        .command()
        .args(["store", "copy", "--to", &url])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("postgres 127.0.0.1:{port}/cairn is unavailable")),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
    assert!(!env.db_path().exists());
}

/// A clone of the repository whose `origin` is `example.com/team/app`, at `path`, with a
/// `src` folder.
fn clone_at(path: &Path) {
    std::fs::create_dir_all(path.join("src")).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["remote", "add", "origin", "git@example.com:team/app.git"][..],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(path)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[test]
fn a_conversation_started_on_one_machine_resumes_by_itself_on_another() {
    let Some(database) = fresh_database() else {
        return;
    };
    let url = database.admin_url();
    let desktop = TestEnv::new();
    let laptop = TestEnv::new();
    let desktop_src = desktop.other_dir("code/app").join("src");
    let laptop_src = laptop.other_dir("Users/ada/work/app").join("src");
    clone_at(desktop_src.parent().unwrap());
    clone_at(laptop_src.parent().unwrap());

    run(desktop
        .command_in(&desktop_src)
        .args(["run", "remember the kestrel"])
        .env("CAIRN_STORE_URL", &url)
        .env("CAIRN_HOST", "desktop"));

    // The laptop's chat, in the same folder of its own clone, continues it.
    let tui = Tui::spawn_with(
        &laptop,
        &laptop_src,
        &[],
        &[("CAIRN_STORE_URL", &url), ("CAIRN_HOST", "laptop")],
    );
    let screen = tui.wait_for("Continuing previous session");
    assert!(screen.contains("remember the kestrel"), "{screen}");
    tui.submit("and the heron");
    tui.wait_for("echo: and the heron");
    tui.quit_cleanly("\x04");

    // One session, now the laptop's; the desktop's list says where it went.
    let mut command = desktop.command_in(&desktop_src);
    command
        .args(["sessions", "list"])
        .env("CAIRN_STORE_URL", &url)
        .env("CAIRN_HOST", "desktop");
    let (stdout, _) = run(&mut command);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{stdout}");
    assert!(rows[0].contains("src @laptop"), "{stdout}");
    let sessions = listed(&laptop, Some(&url));
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0]["host"], "laptop");
    assert_eq!(sessions[0]["repository"], "example.com/team/app");
}
