//! The command line, end to end: the real `cairn` binary with a private HOME, its own config
//! and database, and the offline echo provider.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use cairn_tests::{TestEnv, session_id_from};
use pretty_assertions::assert_eq;

fn run(mut command: Command, args: &[&str]) -> Output {
    command
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cairn")
}

fn fails(env: &TestEnv, args: &[&str]) -> (i32, String) {
    let output = run(env.command(), args);
    assert!(!output.status.success(), "cairn {args:?} should fail");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn version_and_help_on_every_command() {
    let env = TestEnv::new();
    let (stdout, _) = env.run_ok(&["--version"]);
    assert!(stdout.starts_with("cairn "), "{stdout}");
    for args in [
        vec!["--help"],
        vec!["run", "--help"],
        vec!["sessions", "--help"],
        vec!["sessions", "list", "--help"],
        vec!["sessions", "show", "--help"],
        vec!["sessions", "export", "--help"],
        vec!["sessions", "rename", "--help"],
        vec!["sessions", "archive", "--help"],
        vec!["sessions", "unarchive", "--help"],
        vec!["sessions", "delete", "--help"],
        vec!["config", "--help"],
        vec!["config", "path", "--help"],
        vec!["config", "check", "--help"],
        vec!["completions", "--help"],
    ] {
        let (stdout, _) = env.run_ok(&args);
        assert!(stdout.contains("Usage: cairn"), "{args:?}: {stdout}");

        let mut short = args.clone();
        short.pop();
        short.push("-h");
        let (stdout, _) = env.run_ok(&short);
        // Every argument and option says what it is for.
        for line in stdout.lines().map(str::trim_start) {
            let argument = line.starts_with(['-', '<'])
                || (line.starts_with('[')
                    && line[1..].starts_with(|c: char| c.is_ascii_uppercase()));
            if argument {
                let described = line
                    .split_once("  ")
                    .is_some_and(|(_, about)| !about.trim().is_empty());
                assert!(described, "{short:?}: `{line}` has no description");
            }
        }
        // The provider and model only where a model is talked to.
        let talks_to_a_model = short == ["-h"] || short == ["run", "-h"];
        assert_eq!(
            stdout.contains("--provider") && stdout.contains("--model"),
            talks_to_a_model,
            "{short:?}: {stdout}"
        );
    }
}

#[test]
fn start_flags_are_mutually_exclusive() {
    let env = TestEnv::new();
    for args in [
        ["--new", "--continue"],
        ["--new", "-s"],
        ["-C", "--session"],
    ] {
        let mut args = args.to_vec();
        if args.last() == Some(&"-s") || args.last() == Some(&"--session") {
            args.push("abcd");
        }
        let (code, stderr) = fails(&env, &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }
}

#[test]
fn run_streams_the_echo_and_reports_the_session() {
    let env = TestEnv::new();
    let (stdout, stderr) = env.run_ok(&["run", "hello", "there"]);
    assert_eq!(
        stdout,
        "echo: hello there\n\n(offline echo provider: 1 user message in context)\n"
    );
    assert!(
        stderr.contains("echo"),
        "the provider choice is said: {stderr}"
    );
    let id = session_id_from(&stderr);
    assert_eq!(id.len(), 36);
    // Files are private to the user.
    let mode = std::fs::metadata(env.db_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn run_reads_the_prompt_from_standard_input_after_the_arguments() {
    let env = TestEnv::new();
    let mut child = env
        .command()
        .args(["run", "summarise this:"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\nline two\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("echo: summarise this:\n\nline one\nline two\n"),
        "{stdout}"
    );

    let (code, stderr) = fails(&env, &["run"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no prompt"), "{stderr}");
}

#[test]
fn run_continue_and_session_flags() {
    let env = TestEnv::new();
    let (_, stderr) = fails(&env, &["run", "-C", "anything"]);
    assert!(stderr.contains("no sessions found to continue"), "{stderr}");
    let (_, stderr) = fails(&env, &["run", "-s", "nope", "x"]);
    assert!(stderr.contains("session not found: nope"), "{stderr}");
    let (_, stderr) = fails(&env, &["run", "-s", "0123abcd", "x"]);
    assert!(stderr.contains("session not found: 0123abcd"), "{stderr}");
    let (_, stderr) = fails(&env, &["run", "-s", "01", "x"]);
    assert!(stderr.contains("at least 4"), "{stderr}");

    let (_, stderr) = env.run_ok(&["run", "first question"]);
    let first = session_id_from(&stderr);

    // A new session by default.
    let (stdout, stderr) = env.run_ok(&["run", "unrelated"]);
    assert!(stdout.contains("1 user message in context"), "{stdout}");
    let second = session_id_from(&stderr);
    assert_ne!(first, second);

    // --continue takes the most recent one; --session a given one, by full id or prefix.
    let (stdout, stderr) = env.run_ok(&["run", "-C", "follow up"]);
    assert!(stdout.contains("2 user messages in context"), "{stdout}");
    assert_eq!(session_id_from(&stderr), second);

    let (stdout, stderr) = env.run_ok(&["run", "-s", &first, "back to the first"]);
    assert!(stdout.starts_with("echo: back to the first\n"), "{stdout}");
    assert!(stdout.contains("2 user messages in context"), "{stdout}");
    assert_eq!(session_id_from(&stderr), first);

    // Both sessions were created within the same minute, so their first 8 digits are the
    // same timestamp: that prefix is ambiguous and lists both.
    let prefix = &first.replace('-', "")[..8];
    assert_eq!(
        &second.replace('-', "")[..8],
        prefix,
        "ids created together share a prefix"
    );
    let (_, stderr) = fails(&env, &["run", "-s", prefix, "x"]);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert!(
        stderr.contains(&first) && stderr.contains(&second),
        "{stderr}"
    );

    // The unique prefix printed by run works.
    let (_, stderr) = env.run_ok(&["run", "-s", &first, "third"]);
    let hint = stderr
        .lines()
        .find_map(|line| line.split("cairn run -s ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    assert!(
        hint.len() >= 12 && first.replace('-', "").starts_with(&hint),
        "{hint}"
    );
    let (stdout, _) = env.run_ok(&["run", "-s", &hint, "fourth"]);
    assert!(stdout.contains("4 user messages in context"), "{stdout}");
}

#[test]
fn run_in_another_folder_does_not_continue_this_one() {
    let env = TestEnv::new();
    env.run_ok(&["run", "here"]);
    let other = env.other_dir("elsewhere");
    let output = run(env.command_in(&other), &["run", "-C", "there"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no sessions found to continue"));
}

#[test]
fn run_json_lines_parse_and_match_the_text() {
    let env = TestEnv::new();
    let (stdout, _) = env.run_ok(&["run", "--json", "structured please"]);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("JSON line"))
        .collect();
    assert_eq!(lines[0]["type"], "session");
    let session_id = lines[0]["session_id"].as_str().unwrap().to_owned();
    let deltas: String = lines
        .iter()
        .filter(|line| line["type"] == "delta")
        .map(|line| line["text"].as_str().unwrap())
        .collect();
    let message = lines.last().unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["session_id"], session_id.as_str());
    assert_eq!(message["text"].as_str().unwrap(), deltas);
    assert_eq!(
        deltas,
        "echo: structured please\n\n(offline echo provider: 1 user message in context)"
    );
    assert_eq!(message["interrupted"], false);
    assert!(message["usage"]["output_tokens"].as_u64().unwrap() > 0);
}

#[test]
fn sessions_list_show_and_export() {
    let env = TestEnv::new();
    let (_, stderr) = env.run_ok(&["run", "Why is the build slow?\nsecond line"]);
    let id = session_id_from(&stderr);
    env.run_ok(&["run", "-s", &id, "and the tests?"]);
    env.run_ok(&["run", "another topic"]);

    let (stdout, _) = env.run_ok(&["sessions", "list"]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("TITLE"),
        "{stdout}"
    );
    assert!(
        lines[0].contains("LAST ACTIVE") && lines[0].ends_with("MESSAGES"),
        "{stdout}"
    );
    assert_eq!(lines.len(), 3, "{stdout}");
    // Newest first; titles from the first line of the first message; counts of messages.
    assert!(lines[1].contains("another topic"), "{stdout}");
    assert!(
        lines[2].contains("Why is the build slow?") && lines[2].ends_with(" 4"),
        "{stdout}"
    );
    assert!(lines[2].contains("just now"), "{stdout}");

    let (stdout, stderr) = env.run_ok(&["sessions", "list", "--limit", "1"]);
    assert_eq!(stdout.lines().count(), 2);
    assert_eq!(stderr, "1 more (--limit 2 shows them all)\n");

    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["id"], id.as_str());
    assert_eq!(rows[1]["title"], "Why is the build slow?");
    assert_eq!(rows[1]["message_count"], 4);

    let (stdout, _) = env.run_ok(&["sessions", "show", &id[..13]]);
    assert!(stdout.starts_with("Why is the build slow?\n"), "{stdout}");
    assert!(
        stdout.contains("> Why is the build slow?\n> second line"),
        "{stdout}"
    );
    assert!(stdout.contains("> and the tests?"), "{stdout}");
    assert!(stdout.contains("2 user messages in context"), "{stdout}");

    let (stdout, _) = env.run_ok(&["sessions", "show", &id, "--json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["session"]["id"], id.as_str());
    let kinds: Vec<&str> = value["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"]["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "user_message",
            "assistant_message",
            "system_context",
            "user_message",
            "assistant_message"
        ]
    );

    let file = env.root.path().join("export.md");
    env.run_ok(&["sessions", "export", &id, "-o", file.to_str().unwrap()]);
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(
        markdown.starts_with("# Why is the build slow?\n"),
        "{markdown}"
    );
    assert!(markdown.contains("## You\n\nand the tests?"), "{markdown}");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let (stdout, _) = env.run_ok(&["sessions", "export", &id, "--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(value["events"].as_array().unwrap().len(), 5);

    // Other workspaces see nothing unless --all.
    let other = env.other_dir("other");
    let output = run(env.command_in(&other), &["sessions", "list"]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    let output = run(env.command_in(&other), &["sessions", "list", "--all"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 3);

    let (_, stderr) = fails(&env, &["sessions", "show", "ffffffff"]);
    assert!(stderr.contains("session not found: ffffffff"), "{stderr}");
}

#[test]
fn rename_archive_unarchive_delete() {
    let env = TestEnv::new();
    let (_, stderr) = env.run_ok(&["run", "original title"]);
    let id = session_id_from(&stderr);

    env.run_ok(&["sessions", "rename", &id, "Better title"]);
    let (stdout, _) = env.run_ok(&["sessions", "list"]);
    assert!(stdout.contains("Better title"), "{stdout}");

    let (stdout, _) = env.run_ok(&["sessions", "archive", &id]);
    assert!(stdout.starts_with("archived "), "{stdout}");
    let (stdout, _) = env.run_ok(&["sessions", "archive", &id]);
    assert!(stdout.ends_with(" is already archived\n"), "{stdout}");
    let (stdout, stderr) = env.run_ok(&["sessions", "list"]);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("1 archived session hidden (--archived shows them)"),
        "{stderr}"
    );
    let (stdout, _) = env.run_ok(&["sessions", "list", "--archived"]);
    assert!(stdout.contains("Better title [archived]"), "{stdout}");
    // Archived sessions are not continued by --continue either.
    let (_, stderr) = fails(&env, &["run", "-C", "x"]);
    assert!(stderr.contains("no sessions found to continue"), "{stderr}");

    env.run_ok(&["sessions", "unarchive", &id]);
    let (stdout, _) = env.run_ok(&["sessions", "unarchive", &id]);
    assert!(stdout.ends_with(" is not archived\n"), "{stdout}");
    let (stdout, stderr) = env.run_ok(&["sessions", "list"]);
    assert!(stdout.contains("Better title"), "{stdout}");
    assert_eq!(stderr, "");

    let (_, stderr) = fails(&env, &["sessions", "delete", &id]);
    assert!(stderr.contains("--yes"), "{stderr}");
    env.run_ok(&["sessions", "delete", &id, "--yes"]);
    let (_, stderr) = fails(&env, &["sessions", "show", &id]);
    assert!(
        stderr.contains(&format!("session not found: {id}")),
        "{stderr}"
    );
}

#[test]
fn config_path_check_and_errors() {
    let env = TestEnv::new();
    let (stdout, _) = env.run_ok(&["config", "path"]);
    assert!(
        stdout.contains(&env.config_path().display().to_string()),
        "{stdout}"
    );
    assert!(stdout.contains("sessions.db"), "{stdout}");

    let (stdout, _) = env.run_ok(&["config", "check"]);
    assert!(stdout.contains("not found; using the defaults"), "{stdout}");

    env.write_config("session_continue_minutes = 30\n[provider]\nkind = \"echo\"\n");
    let (stdout, _) = env.run_ok(&["config", "check"]);
    assert!(stdout.ends_with(": ok\n"), "{stdout}");

    // An unknown key: `config check` fails on it, every other command warns and goes on.
    env.write_config("session_continue_minutes = 30\n\n[provider]\nmodle = \"x\"\n");
    let (code, stderr) = fails(&env, &["config", "check"]);
    assert_eq!(code, 1);
    let config_file = env.config_path().display().to_string();
    assert_eq!(
        stderr,
        format!("error: unknown key `provider.modle` in {config_file} line 4 (ignored)\n")
    );
    let (stdout, stderr) = env.run_ok(&["run", "hi"]);
    assert!(stdout.contains("echo: hi"), "{stdout}");
    assert!(
        stderr.starts_with(&format!(
            "warning: unknown key `provider.modle` in {config_file} line 4 (ignored)\n"
        )),
        "{stderr}"
    );
    let (_, stderr) = env.run_ok(&["sessions", "list"]);
    assert!(
        stderr.contains("warning: unknown key `provider.modle`"),
        "{stderr}"
    );

    // A bad value of a known key still stops every command, naming key and line.
    env.write_config("session_continue_minutes = 30\n\n[provider]\nmodel = \"\"\n");
    let (code, stderr) = fails(&env, &["config", "check"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("provider.model"), "{stderr}");
    // The database the environment names is still shown.
    let chosen = env.root.path().join("chosen.db");
    let mut command = env.command_in(&env.work_dir());
    command.env("CAIRN_DB_PATH", &chosen);
    let output = run(command, &["config", "path"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("database: {} (not created yet)", chosen.display()))
            && stdout.contains("from CAIRN_DB_PATH"),
        "{stdout}"
    );
    // Every command refuses a bad config the same way.
    let (_, stderr) = fails(&env, &["run", "hi"]);
    assert!(
        stderr.contains("line 4") && stderr.contains("provider.model"),
        "{stderr}"
    );

    env.write_config("session_continue_minutes = -1\n");
    let (_, stderr) = fails(&env, &["config", "check"]);
    assert!(
        stderr.contains("line 1") && stderr.contains("session_continue_minutes"),
        "{stderr}"
    );

    // --config points elsewhere.
    let custom = env.root.path().join("custom.toml");
    std::fs::write(&custom, "session_continue_minutes = 5\n").unwrap();
    let (stdout, _) = env.run_ok(&["config", "check", "--config", custom.to_str().unwrap()]);
    assert!(stdout.contains("custom.toml: ok"), "{stdout}");
}

#[test]
fn unknown_provider_is_a_clear_error() {
    let env = TestEnv::new();
    let (_, stderr) = fails(&env, &["run", "--provider", "gpt", "hi"]);
    assert!(stderr.contains("unknown provider `gpt`"), "{stderr}");
}

#[test]
fn completions_for_each_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let (stdout, _) = env.run_ok(&["completions", shell]);
        assert!(
            stdout.contains("cairn") && stdout.contains("sessions"),
            "{shell}"
        );
    }
}

#[test]
fn corrupt_database_is_refused_and_left_untouched() {
    let env = TestEnv::new();
    let db = env.db_path();
    std::fs::create_dir_all(db.parent().unwrap()).unwrap();
    let garbage = b"this is not a database, it is someone's notes\n".repeat(100);
    std::fs::write(&db, &garbage).unwrap();
    let (_, stderr) = fails(&env, &["run", "hi"]);
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    assert!(stderr.contains("untouched"), "{stderr}");
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}

#[test]
fn the_tui_refuses_to_start_without_a_terminal() {
    let env = TestEnv::new();
    let (_, stderr) = fails(&env, &[]);
    assert!(stderr.contains("cairn run"), "{stderr}");
}

/// Reads `cairn run`'s standard output until `needle` appears.
fn wait_for_output(stdout: &mut std::process::ChildStdout, needle: &str) -> String {
    use std::io::Read;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let read = stdout.read(&mut buffer).expect("read stdout");
        assert!(
            read > 0,
            "output ended before {needle:?}: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn sigterm_mid_answer_keeps_the_partial_answer() {
    let env = TestEnv::new();
    let mut child = env
        .command()
        .args(["run", "one two three four five six seven eight nine ten"])
        .env("CAIRN_ECHO_WORD_DELAY_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    wait_for_output(&mut stdout, "two");
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));

    let (stdout, _) = env.run_ok(&["sessions", "show", "--json", &list_first_id(&env)]);
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let events = value["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{stdout}");
    let answer = &events[1]["kind"]["event_data"];
    assert_eq!(answer["interrupted"], true);
    let text = answer["text"].as_str().unwrap();
    assert!(text.starts_with("echo: one two"), "{text}");
    assert!(
        !text.contains("in context"),
        "the answer was cut short: {text}"
    );
}

#[test]
fn kill_9_mid_answer_loses_no_user_text_and_the_database_stays_usable() {
    let env = TestEnv::new();
    let mut child = env
        .command()
        .args(["run", "please remember this question"])
        .env("CAIRN_ECHO_WORD_DELAY_MS", "200")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    wait_for_output(&mut stdout, "echo:");
    child.kill().unwrap();
    child.wait().unwrap();

    let (stdout, _) = env.run_ok(&["sessions", "show", &list_first_id(&env)]);
    assert!(
        stdout.contains("> please remember this question"),
        "{stdout}"
    );
    let (stdout, _) = env.run_ok(&["run", "-C", "still there?"]);
    assert!(stdout.contains("2 user messages in context"), "{stdout}");
}

fn list_first_id(env: &TestEnv) -> String {
    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    rows[0]["id"].as_str().unwrap().to_owned()
}

/// A one-shot HTTP server on 127.0.0.1 that answers every request with `status` and `body`,
/// and hands back the requests it saw.
fn serve(
    status: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut requests = Vec::new();
        // One connection is enough: the client sends one request and no retries for these.
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut request_body = vec![0; length];
        reader.read_exact(&mut request_body).unwrap();
        requests.push(format!("{head}{}", String::from_utf8_lossy(&request_body)));
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(&body).unwrap();
        requests
    });
    (base_url, handle)
}

#[test]
fn run_streams_a_real_openai_recording_through_the_whole_stack() {
    let env = TestEnv::new();
    // Recorded by openai/openai-python (Apache-2.0); see crates/cairn-llm/tests/fixtures.
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/cairn-llm/tests/fixtures/openai-chat/text.sse"
    ))
    .unwrap();
    let (base_url, server) = serve("200 OK", "text/event-stream", body);
    env.write_config(&format!(
        "[provider]\nkind = \"openai\"\nmodel = \"gpt-test\"\nbase_url = \"{base_url}\"\napi_key_env = \"CAIRN_TEST_KEY\"\n"
    ));
    let output = env
        .command()
        .args(["run", "--json", "what's the weather in SF?"])
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-very-secret-test-key")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let message = lines.last().unwrap();
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with("I'm unable to provide real-time weather"),
        "{message}"
    );
    assert_eq!(message["finish_reason"], "stop");
    assert!(
        message["usage"]["output_tokens"].as_u64().unwrap() > 0,
        "{message}"
    );

    let request = server.join().unwrap().remove(0);
    assert!(
        request.starts_with("POST /v1/chat/completions HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.contains("authorization: Bearer sk-very-secret-test-key"),
        "{request}"
    );
    assert!(request.contains("\"stream\":true"), "{request}");
    assert!(request.contains("what's the weather in SF?"), "{request}");

    assert_key_is_nowhere(&env, "sk-very-secret-test-key");
}

#[test]
fn a_rejected_key_is_a_clear_error_and_loses_nothing() {
    let env = TestEnv::new();
    let (base_url, server) = serve(
        "401 Unauthorized",
        "application/json",
        br#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}"#.to_vec(),
    );
    env.write_config(&format!(
        "[provider]\nkind = \"openai\"\nbase_url = \"{base_url}\"\napi_key_env = \"CAIRN_TEST_KEY\"\n"
    ));
    let output = env
        .command()
        .args(["run", "an important question"])
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-wrong-but-secret")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("check your API key (env var CAIRN_TEST_KEY)"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-wrong-but-secret"), "{stderr}");
    assert_eq!(server.join().unwrap().len(), 1, "a 401 is not retried");

    let (stdout, _) = env.run_ok(&["sessions", "show", &list_first_id(&env)]);
    assert!(stdout.contains("> an important question"), "{stdout}");
    assert!(
        stdout.contains("[error] authentication failed (401)"),
        "{stdout}"
    );
    assert_key_is_nowhere(&env, "sk-wrong-but-secret");
}

/// The key is in neither the database (with its WAL) nor the log.
fn assert_key_is_nowhere(env: &TestEnv, key: &str) {
    let state = env.home().join(".local/state/cairn/cairn.log");
    let db = env.db_path();
    let wal = db.with_extension("db-wal");
    for file in [db, wal, state] {
        if let Ok(bytes) = std::fs::read(&file) {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(key),
                "the key was written to {}",
                file.display()
            );
        }
    }
}

#[test]
fn escape_sequences_never_reach_the_terminal_through_titles_or_listings() {
    let env = TestEnv::new();
    let hostile = "hi \u{1b}[2J \u{1b}]0;pwned\u{7} there \u{1b}]52;c;cHduZWQ=\u{7} end";
    let (_, stderr) = env.run_ok(&["run", hostile]);
    let id = session_id_from(&stderr);
    let (_, stderr) = env.run_ok(&["run", "a second session for an ambiguous prefix"]);
    let second = session_id_from(&stderr);

    let (stdout, _) = env.run_ok(&["sessions", "list", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let title = rows[1]["title"].as_str().unwrap();
    assert_eq!(title, "hi [2J ]0;pwned there ]52;c;cHduZWQ= end");

    let (stdout, _) = env.run_ok(&["sessions", "list"]);
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout:?}"
    );
    let (stdout, _) = env.run_ok(&["sessions", "show", &id]);
    let title_line = stdout.lines().next().unwrap();
    assert!(!title_line.contains('\u{1b}'), "{title_line:?}");

    // Renaming cleans the title too; the confirmation is as clean as what was stored.
    let (stdout, _) = env.run_ok(&["sessions", "rename", &id, "T \u{1b}]0;renamed\u{7} x"]);
    assert!(stdout.contains("\"T ]0;renamed x\""), "{stdout:?}");
    let (_, stderr) = fails(&env, &["sessions", "rename", &id, " \u{1b} "]);
    assert!(
        stderr.contains("at least one visible character"),
        "{stderr}"
    );

    // What both ids start with: their first eight digits, unless the clock crossed a
    // 65-second step of the uuid v7 time prefix between the two runs.
    let shared: String = id
        .chars()
        .zip(second.chars())
        .take(8)
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    assert!(shared.len() >= 4, "{id} {second}");
    let (_, stderr) = fails(&env, &["sessions", "show", &shared]);
    assert!(stderr.contains("ambiguous"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let env = TestEnv::new();
    env.run_ok(&["run", "something to list"]);
    for args in [
        vec!["completions", "fish"],
        vec!["sessions", "list"],
        vec!["sessions", "list", "--json"],
        vec!["config", "path"],
    ] {
        let mut child = env
            .command()
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before cairn writes anything.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_named_config_file_that_does_not_exist_is_an_error() {
    let env = TestEnv::new();
    let missing = env.root.path().join("nope.toml");
    let (code, stderr) = fails(
        &env,
        &["config", "check", "--config", missing.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("nope.toml") && stderr.contains("does not exist"),
        "{stderr}"
    );
    let output = env
        .command()
        .args(["run", "hi"])
        .env("CAIRN_CONFIG", &missing)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());

    let (code, _) = fails(&env, &["sessions", "list", "--limit", "0"]);
    assert_eq!(code, 2);
}

#[test]
fn export_writes_a_new_private_file_and_replaces_one_only_with_force() {
    let env = TestEnv::new();
    let (_, stderr) = env.run_ok(&["run", "export me"]);
    let id = session_id_from(&stderr);
    let mode = |path: &std::path::Path| {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };

    // An existing file is left alone unless --force, which also makes it private.
    let file = env.root.path().join("existing.md");
    std::fs::write(&file, "keep me").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, stderr) = fails(
        &env,
        &["sessions", "export", &id, "-o", file.to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("existing.md already exists; add --force to replace it"),
        "{stderr}"
    );
    assert_eq!(
        (std::fs::read_to_string(&file).unwrap(), mode(&file)),
        ("keep me".to_owned(), 0o644)
    );
    env.run_ok(&[
        "sessions",
        "export",
        &id,
        "-o",
        file.to_str().unwrap(),
        "--force",
    ]);
    let markdown = std::fs::read_to_string(&file).unwrap();
    assert!(markdown.contains("## You\n\nexport me"), "{markdown}");
    assert_eq!(mode(&file), 0o600);

    // A symbolic link is never written through, forced or not.
    let target = env.root.path().join("target.txt");
    std::fs::write(&target, "precious").unwrap();
    let link = env.root.path().join("link.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for extra in [None, Some("--force")] {
        let mut args = vec!["sessions", "export", &id, "-o", link.to_str().unwrap()];
        args.extend(extra);
        fails(&env, &args);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    }

    // A folder gets a file named after the session inside it.
    let folder = env.other_dir("exports");
    let (_, stderr) = env.run_ok(&["sessions", "export", &id, "-o", folder.to_str().unwrap()]);
    let short = &id[..8];
    let inside = folder.join(format!("cairn-{short}.md"));
    assert!(stderr.contains(inside.to_str().unwrap()), "{stderr}");
    assert_eq!(mode(&inside), 0o600);
    assert!(
        std::fs::read_to_string(&inside)
            .unwrap()
            .contains("export me")
    );
}

#[test]
fn config_values_out_of_range_are_refused_and_a_relative_db_path_is_next_to_the_file() {
    let env = TestEnv::new();
    env.write_config("[provider]\nkind = \"echo\"\nidle_timeout_secs = 0\n");
    for args in [&["config", "check"][..], &["run", "hi"][..]] {
        let (code, stderr) = fails(&env, args);
        assert_eq!(code, 1, "{args:?}");
        assert!(
            stderr.contains(
                "config.toml line 3, key `provider.idle_timeout_secs`: must be from 1 to 86400"
            ),
            "{stderr}"
        );
    }

    env.write_config("db_path = \"chats.db\"\n");
    env.run_ok(&["run", "hi"]);
    let (_, stderr) = env.run_ok(&["run", "again"]);
    assert!(stderr.contains("session: "), "{stderr}");
    let expected = env.config_path().with_file_name("chats.db");
    assert!(expected.exists(), "no database at {}", expected.display());
    assert!(!env.work_dir().join("chats.db").exists());
    // Started from another folder, the same database is used.
    let other = env.other_dir("elsewhere");
    let output = run(env.command_in(&other), &["sessions", "list", "--all"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 3);
}
