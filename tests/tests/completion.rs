//! Shell completion of session ids, end to end: the script `cairn completions bash` prints is
//! loaded into a real bash, which is asked to complete as if Tab were pressed; the ids come
//! from the test's own database through the real binary.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::process::Command;

use cairn_tests::{TestEnv, cairn_bin, session_id_from};
use pretty_assertions::assert_eq;

/// Writes `title` into the session's row as it is, bypassing Cairn's own cleaning.
fn set_title(env: &TestEnv, id: &str, title: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", env.db_path().display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let done = sqlx::query("UPDATE sessions SET title = ? WHERE replace(id, '-', '') = ?")
            .bind(title)
            .bind(id)
            .execute(&mut connection)
            .await
            .unwrap();
        assert_eq!(done.rows_affected(), 1);
    });
}

/// What bash offers for the command line `words` (the last one is being typed).
fn complete(env: &TestEnv, script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let mut command = Command::new("bash");
    command.current_dir(env.work_dir());
    for name in TestEnv::removed_vars() {
        command.env_remove(name);
    }
    command.envs(env.vars());
    let output = command
        .args([
            "--norc",
            "--noprofile",
            "-c",
            r#"source "$1"; shift
               COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
               COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
               # The function `complete` registered for cairn, called as bash calls it.
               function=$(complete -p cairn | sed -E 's/.*-F ([^ ]+).*/\1/')
               "$function" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
               printf '%s\n' "${COMPREPLY[@]}""#,
            "bash",
        ])
        .arg(script)
        .arg(cairn_bin())
        .args(&words[1..])
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut offered: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    offered.sort();
    offered
}

#[test]
fn bash_completes_session_ids_and_archived_ones_only_when_asked() {
    let env = TestEnv::new();
    let (_, stderr) = env.run_ok(&["run", "first question"]);
    let first = session_id_from(&stderr).replace('-', "");
    // A title with control characters, a tab and a line break, as a store written by some
    // other program could hold (Cairn cleans the titles it writes).
    set_title(
        &env,
        &first,
        "first \x1b]0;owned\x07 question\twith a tab\nand a line",
    );
    let (_, stderr) = env.run_ok(&["run", "second question"]);
    let second = session_id_from(&stderr).replace('-', "");
    let (_, stderr) = env.run_ok(&["run", "put away"]);
    let archived = session_id_from(&stderr).replace('-', "");
    env.run_ok(&["sessions", "archive", &archived]);

    // What the scripts read: ID<TAB>TITLE, ids long enough to stay unambiguous, titles one
    // harmless line.
    let (listed, _) = env.run_ok(&["sessions", "ids"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    for line in &lines {
        let (id, title) = line.split_once('\t').expect("ID<TAB>TITLE");
        assert!(id.len() >= 12, "{line}");
        assert!(!title.contains('\t'), "{line:?}");
        assert!(!title.chars().any(char::is_control), "{line:?}");
    }
    assert!(lines[1].starts_with(&second[..12]) || lines[0].starts_with(&second[..12]));
    assert!(
        listed.contains("first ␛]0;owned␇ question with a tab and a line"),
        "{listed}"
    );
    let (with_archived, _) = env.run_ok(&["sessions", "ids", "--archived"]);
    assert_eq!(with_archived.lines().count(), 3, "{with_archived}");

    let (script, _) = env.run_ok(&["completions", "bash"]);
    let script_path = env.home().join("cairn.bash");
    std::fs::write(&script_path, script).unwrap();
    let id_of = |full: &str| -> String {
        listed
            .lines()
            .chain(with_archived.lines())
            .map(|line| line.split('\t').next().unwrap().to_owned())
            .find(|id| full.starts_with(id.as_str()))
            .unwrap()
    };
    let mut active = vec![id_of(&first), id_of(&second)];
    active.sort();

    assert_eq!(complete(&env, &script_path, &["cairn", "-s", ""]), active);
    assert_eq!(
        complete(&env, &script_path, &["cairn", "run", "--session", ""]),
        active
    );
    assert_eq!(
        complete(&env, &script_path, &["cairn", "sessions", "show", ""]),
        active
    );
    // What was typed narrows it down.
    let typed = &id_of(&second)[..id_of(&second).len() - 1];
    assert_eq!(
        complete(&env, &script_path, &["cairn", "sessions", "delete", typed]),
        vec![id_of(&second)]
    );
    // `unarchive` is where an archived session is wanted.
    let offered = complete(&env, &script_path, &["cairn", "sessions", "unarchive", ""]);
    assert!(offered.contains(&id_of(&archived)), "{offered:?}");
    assert!(!active.contains(&id_of(&archived)));
    // Anywhere else clap's own completion answers: the subcommands here.
    let offered = complete(&env, &script_path, &["cairn", "sessions", "sh"]);
    assert_eq!(offered, vec!["show".to_owned()]);
}

#[test]
fn zsh_and_fish_scripts_complete_session_ids_with_titles() {
    let env = TestEnv::new();
    let (zsh, _) = env.run_ok(&["completions", "zsh"]);
    assert!(zsh.contains(":ID:_cairn_session_ids'"), "-s/--session");
    assert!(
        zsh.contains(":id -- Session id or unique id prefix:_cairn_session_ids'"),
        "sessions show|export|rename|archive|unarchive|delete ID"
    );
    assert!(zsh.contains("_describe -t sessions"));
    let (fish, _) = env.run_ok(&["completions", "fish"]);
    assert!(fish.contains("-s s -l session -x -a \"(cairn sessions ids 2>/dev/null)\""));
    assert!(fish.contains(
        "__fish_seen_subcommand_from unarchive\" -f -a \"(cairn sessions ids --archived"
    ));
}
