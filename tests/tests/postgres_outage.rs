//! A PostgreSQL store that goes away while the chat is open (through a proxy the test cuts,
//! so the shared test server stays up): the conversation goes on, the user is told once,
//! what waited is saved when the server is back, and what could never be saved is kept in a
//! private file whose path the user is given.
//!
//! Without PostgreSQL installed, every test here says it was skipped and passes;
//! `CAIRN_REQUIRE_POSTGRES=1` makes them fail instead.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;

use cairn_store::pg_test_cluster::TestDatabase;
use cairn_tests::TestEnv;
use cairn_tests::proxy::TcpProxy;
use cairn_tests::pty::Tui;
use pretty_assertions::assert_eq;
use serde_json::Value;

fn fresh_database() -> Option<TestDatabase> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(cairn_store::pg_test_cluster::fresh_database())
}

/// The database's url with its port replaced by the proxy's.
fn through(proxy: &TcpProxy, database: &TestDatabase) -> String {
    database.admin_url().replace(
        &format!(":{}/", database.port),
        &format!(":{}/", proxy.port),
    )
}

/// The user and assistant texts of the newest session on the server, in order.
fn said(env: &TestEnv, url: &str) -> Vec<String> {
    let list = env
        .command()
        .args(["sessions", "list", "--json"])
        .env("CAIRN_STORE_URL", url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let sessions: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    let id = sessions[0]["id"].as_str().unwrap();
    let show = env
        .command()
        .args(["sessions", "show", "--json", id])
        .env("CAIRN_STORE_URL", url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let session: Value = serde_json::from_slice(&show.stdout).unwrap();
    session["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["kind"]["event_type"] == "user_message")
        .filter_map(|event| event["kind"]["event_data"]["text"].as_str())
        .map(str::to_owned)
        .collect()
}

#[test]
fn messages_typed_while_the_server_is_away_are_saved_when_it_comes_back() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let proxy = TcpProxy::start(database.port);
    let url = through(&proxy, &database);
    let tui = Tui::spawn_with(&env, &env.work_dir(), &[], &[("CAIRN_STORE_URL", &url)]);
    tui.wait_for(&format!("postgres 127.0.0.1:{}", proxy.port));
    tui.submit("before the outage");
    tui.wait_for("echo: before the outage");

    proxy.cut();
    tui.submit("during the outage");
    tui.wait_for("Could not save to the session store");
    tui.wait_for("echo: during the outage");
    tui.submit("still away");
    tui.wait_for("echo: still away");
    let screen = tui.screen();
    assert_eq!(
        screen.matches("Could not save").count(),
        1,
        "told once per outage:\n{screen}"
    );

    proxy.restore();
    tui.wait_for("The session store answers again");
    tui.quit_cleanly("\x04");
    assert_eq!(
        said(&env, &database.admin_url()),
        ["before the outage", "during the outage", "still away"]
    );
}

#[test]
fn what_cannot_be_saved_before_quitting_is_kept_in_a_private_file() {
    let Some(database) = fresh_database() else {
        return;
    };
    let env = TestEnv::new();
    let proxy = TcpProxy::start(database.port);
    let url = through(&proxy, &database);
    let mut tui = Tui::spawn_with(&env, &env.work_dir(), &[], &[("CAIRN_STORE_URL", &url)]);
    tui.wait_for(&format!("postgres 127.0.0.1:{}", proxy.port));
    tui.submit("saved first");
    tui.wait_for("echo: saved first");
    proxy.cut();
    tui.submit("the words at risk");
    tui.wait_for("Could not save to the session store");
    tui.wait_for("echo: the words at risk");
    tui.send("\x04");
    let status = tui.wait_exit();
    assert!(!status.success(), "an unsaved exit is a failure");
    assert!(!tui.alternate_screen(), "the terminal is restored");
    let output = tui.raw_output();
    let (_, after) = output
        .split_once("could not be saved")
        .unwrap_or_else(|| panic!("the user is told: {output}"));
    let path = after
        .split_once("they are in ")
        .unwrap()
        .1
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let kept = std::fs::read_to_string(&path).unwrap();
    assert!(kept.contains("the words at risk"), "{kept}");
    assert!(kept.contains("echo: the words at risk"), "{kept}");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(path.starts_with(env.home().to_str().unwrap()), "{path}");
    // What was saved before is still there.
    assert_eq!(said(&env, &database.admin_url()), ["saved first"]);
}
