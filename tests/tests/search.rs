//! `cairn sessions search` end to end: the real binary, its own database, the offline echo
//! provider (which answers with the question, so every word is said twice).

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Stdio;

use cairn_tests::TestEnv;
use pretty_assertions::assert_eq;

fn search_json(env: &TestEnv, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["sessions", "search", "--json"];
    all.extend_from_slice(args);
    let (stdout, _) = env.run_ok(&all);
    serde_json::from_str(&stdout).expect("search JSON")
}

#[test]
fn sessions_are_found_by_what_was_said_best_first() {
    let env = TestEnv::new();
    env.run_ok(&["run", "the borrow checker again"]);
    env.run_ok(&["run", "-C", "and now lifetimes"]);
    env.run_ok(&["run", "lifetimes make the borrow checker unhappy"]);
    let other = env.other_dir("elsewhere");
    let output = env
        .command_in(&other)
        .args(["run", "a kestrel borrow lifetimes"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success());

    let hits = search_json(&env, &["borrow", "lifetimes"]);
    assert_eq!(hits.len(), 2, "this workspace only: {hits:#?}");
    let first = hits[0]["snippets"][0]["text"].as_str().unwrap();
    assert!(
        first.contains("lifetimes make the borrow checker unhappy"),
        "one message with both words first: {hits:#?}"
    );
    assert!(hits[0]["score"].as_f64().unwrap() > hits[1]["score"].as_f64().unwrap());
    let highlights = hits[0]["snippets"][0]["highlights"].as_array().unwrap();
    let words: Vec<&str> = highlights
        .iter()
        .map(|range| {
            let start = range[0].as_u64().unwrap() as usize;
            let end = range[1].as_u64().unwrap() as usize;
            &first[start..end]
        })
        .collect();
    assert!(
        words.contains(&"borrow") && words.contains(&"lifetimes"),
        "{words:?}"
    );
    assert!(hits[0]["snippets"][0]["event_id"].as_str().unwrap().len() == 36);

    let everywhere = search_json(&env, &["--all", "kestrel"]);
    assert_eq!(everywhere.len(), 1);
    assert!(
        everywhere[0]["directory"]
            .as_str()
            .unwrap()
            .ends_with("elsewhere")
    );

    let phrase = search_json(&env, &["\"borrow checker unhappy\""]);
    assert_eq!(phrase.len(), 1);
    let limited = search_json(&env, &["--limit", "1", "borrow"]);
    assert_eq!(limited.len(), 1);

    // Human output: the id hint, the title, a passage.
    let (stdout, _) = env.run_ok(&["sessions", "search", "unhappy"]);
    assert!(
        stdout.contains("lifetimes make the borrow checker unhappy"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\x1b'),
        "no highlighting when not a terminal: {stdout:?}"
    );
}

#[test]
fn bad_queries_are_clear_errors_and_hostile_text_is_neutralised() {
    let env = TestEnv::new();
    env.run_ok(&["run", "innocent \x1b]0;owned\x07 text with \x1b[2J escapes"]);
    let (stdout, _) = env.run_ok(&["sessions", "search", "innocent"]);
    assert!(stdout.contains("innocent"), "{stdout}");
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );

    for query in ["\"unbalanced", "*** ---"] {
        let output = env
            .command()
            .args(["sessions", "search", query])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(!output.status.success(), "{query}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("invalid search query"), "{stderr}");
        assert!(!stderr.to_lowercase().contains("sql"), "{stderr}");
    }
    // Search-engine operators are ordinary words, never syntax errors.
    for query in ["NOT AND OR", "a:b", "(x", "^y", "NEAR(a b)"] {
        let output = env
            .command()
            .args(["sessions", "search", "--json", query])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{query}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
