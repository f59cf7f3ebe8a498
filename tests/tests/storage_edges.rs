//! Storage edge cases through the real binary: folders whose names are not UTF-8.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::{Output, Stdio};

use cairn_tests::TestEnv;
use pretty_assertions::assert_eq;

fn run_in(env: &TestEnv, dir: &std::path::Path, args: &[&str]) -> Output {
    env.command_in(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cairn")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `p\xff` and `p\xfe` are two folders on Linux; stored lossily they were one workspace and
/// continued each other's conversation.
#[test]
fn folders_differing_only_in_non_utf8_bytes_are_two_workspaces() {
    let env = TestEnv::new();
    let ff = env.root.path().join(OsStr::from_bytes(b"p\xff"));
    let fe = env.root.path().join(OsStr::from_bytes(b"p\xfe"));
    std::fs::create_dir(&ff).unwrap();
    std::fs::create_dir(&fe).unwrap();

    let first = run_in(&env, &ff, &["run", "in ff"]);
    assert!(first.status.success(), "{}", text(&first.stderr));

    // The other folder has nothing to continue.
    let other = run_in(&env, &fe, &["run", "-C", "in fe"]);
    assert!(!other.status.success());
    assert!(
        text(&other.stderr).contains("no sessions found to continue"),
        "{}",
        text(&other.stderr)
    );
    // The first folder continues its own.
    let again = run_in(&env, &ff, &["run", "-C", "in ff again"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("2 user messages in context"),
        "{}",
        text(&again.stdout)
    );
    let second = run_in(&env, &fe, &["run", "in fe"]);
    assert!(second.status.success(), "{}", text(&second.stderr));

    // Each folder lists only its own session; people see the path with U+FFFD for the
    // bytes, programs get the same in valid JSON.
    let lossy = format!("{}/p\u{fffd}", env.root.path().display());
    let listed = run_in(&env, &ff, &["sessions", "list", "--json"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.iter()
            .map(|row| (
                row["directory"].as_str().unwrap(),
                row["message_count"].as_u64()
            ))
            .collect::<Vec<_>>(),
        vec![(lossy.as_str(), Some(4))]
    );
    let human = run_in(&env, &ff, &["sessions", "list"]);
    assert!(human.status.success(), "{}", text(&human.stderr));
    assert!(
        text(&human.stdout).contains("p\u{fffd}"),
        "{}",
        text(&human.stdout)
    );

    let id = rows[0]["id"].as_str().unwrap();
    let shown = run_in(&env, &ff, &["sessions", "show", id]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(
        text(&shown.stdout).contains("p\u{fffd}"),
        "{}",
        text(&shown.stdout)
    );
    let shown_json = run_in(&env, &ff, &["sessions", "show", "--json", id]);
    assert!(shown_json.status.success(), "{}", text(&shown_json.stderr));
    let shown_json: serde_json::Value = serde_json::from_slice(&shown_json.stdout).unwrap();
    assert_eq!(shown_json["session"]["directory"], lossy.as_str());
}
