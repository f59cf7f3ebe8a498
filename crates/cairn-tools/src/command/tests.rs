use std::future::pending;

use pretty_assertions::assert_eq;

use super::*;

fn spec(dir: &std::path::Path, command: &str) -> CommandSpec {
    CommandSpec {
        command: command.to_owned(),
        directory: dir.to_path_buf(),
        shell: PathBuf::from("sh"),
        timeout: Duration::from_secs(30),
        hidden: Vec::new(),
    }
}

#[tokio::test]
async fn output_and_errors_are_captured_in_order_with_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_command(
        &spec(
            dir.path(),
            "echo one; echo two >&2; echo three; pwd; exit 3",
        ),
        pending(),
    )
    .await
    .unwrap();
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(outcome.exit, Exit::Code(3));
    assert_eq!(
        outcome.output,
        format!("one\ntwo\nthree\n{}\n", canonical.display())
    );
    let result = outcome.to_tool_output(Duration::from_secs(30));
    assert!(result.is_error);
    assert!(
        result.text.starts_with("exit code 3 after "),
        "{}",
        result.text
    );
    assert_eq!(
        result.text.split_once('\n').map(|(_, output)| output),
        Some(outcome.output.as_str())
    );
}

#[tokio::test]
async fn hidden_variables_are_not_inherited() {
    let dir = tempfile::tempdir().unwrap();
    let mut hidden = spec(
        dir.path(),
        "printenv HOME; echo \"rc=$?\"; printenv PATH >/dev/null && echo path",
    );
    hidden.hidden = vec!["HOME".to_owned()];
    let outcome = run_command(&hidden, pending()).await.unwrap();
    assert_eq!(outcome.output, "rc=1\npath\n");
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let mut slow = spec(
        dir.path(),
        "sleep 60 & echo $! > bg.pid; echo started; wait",
    );
    slow.timeout = Duration::from_millis(500);
    let outcome = run_command(&slow, pending()).await.unwrap();
    assert_eq!(outcome.exit, Exit::TimedOut);
    assert_eq!(outcome.output, "started\n");
    let text = outcome.to_tool_output(slow.timeout).text;
    assert!(text.starts_with("timed out after 0 s"), "{text}");
    assert_gone(&dir.path().join("bg.pid")).await;
}

#[tokio::test]
async fn cancelling_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let slow = spec(dir.path(), "sleep 60 & echo $! > bg.pid; sleep 60");
    let cancel = async {
        // Cancel once the background process is known, not at a guessed moment.
        while !dir.path().join("bg.pid").exists() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let outcome = run_command(&slow, cancel).await.unwrap();
    assert_eq!(outcome.exit, Exit::Cancelled);
    assert_gone(&dir.path().join("bg.pid")).await;
}

#[tokio::test]
async fn a_process_left_in_the_background_does_not_hold_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut detached = spec(dir.path(), "sleep 60 & echo done");
    detached.timeout = Duration::from_secs(20);
    let outcome = run_command(&detached, pending()).await.unwrap();
    assert_eq!(
        (outcome.exit, outcome.output.as_str()),
        (Exit::Code(0), "done\n")
    );
}

#[tokio::test]
async fn long_output_keeps_its_head_and_tail() {
    let dir = tempfile::tempdir().unwrap();
    let outcome = run_command(
        &spec(
            dir.path(),
            "echo first; i=0; while [ $i -lt 5000 ]; do echo 'middle line of output'; i=$((i+1)); done; echo last",
        ),
        pending(),
    )
    .await
    .unwrap();
    let total = 6 + 5000 * 22 + 5;
    assert_eq!(
        outcome.cut_bytes,
        (total - OUTPUT_HEAD_BYTES - OUTPUT_TAIL_BYTES) as u64
    );
    assert!(outcome.output.starts_with("first\nmiddle"));
    assert!(outcome.output.ends_with("middle line of output\nlast\n"));
    assert!(outcome.output.contains(&format!(
        "\n[… {} bytes of output cut …]\n",
        outcome.cut_bytes
    )));
    assert!(outcome.output.len() < OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES + 100);
}

#[test]
fn the_capture_is_exact_at_its_edges() {
    let mut capture = Capture::default();
    capture.push(&vec![b'h'; OUTPUT_HEAD_BYTES]);
    capture.push(&vec![b't'; OUTPUT_TAIL_BYTES]);
    assert_eq!(capture.finish().1, 0);
    let mut capture = Capture::default();
    capture.push(&vec![b'h'; OUTPUT_HEAD_BYTES + 10]);
    for _ in 0..OUTPUT_TAIL_BYTES {
        capture.push(b"t");
    }
    let (text, cut) = capture.finish();
    assert_eq!(cut, 10);
    assert!(text.ends_with(&"t".repeat(OUTPUT_TAIL_BYTES)));
}

#[test]
fn the_shell_is_the_users_or_sh() {
    let env = |value: Option<&'static str>| {
        move |key: &str| {
            (key == "SHELL")
                .then_some(value)
                .flatten()
                .map(str::to_owned)
        }
    };
    assert_eq!(
        CommandSpec::user_shell(&env(Some("/bin/zsh"))),
        PathBuf::from("/bin/zsh")
    );
    assert_eq!(
        CommandSpec::user_shell(&env(Some(" "))),
        PathBuf::from("sh")
    );
    assert_eq!(CommandSpec::user_shell(&env(None)), PathBuf::from("sh"));
}

/// Waits until the process whose id is in `pid_file` no longer exists.
async fn assert_gone(pid_file: &std::path::Path) {
    // The child may have created the file and not yet written its id.
    let mut pid: Option<i32> = None;
    for _ in 0..100 {
        pid = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pid = pid.expect("the child wrote its process id");
    let pid = Pid::from_raw(pid).unwrap();
    for _ in 0..100 {
        // A killed child of a killed shell is reaped by init; until then it may linger as a
        // zombie, which still answers signal 0, so look at its state instead.
        let state = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero()))
            .ok()
            .and_then(|stat| {
                stat.rsplit(") ")
                    .next()
                    .and_then(|rest| rest.chars().next())
            });
        if matches!(state, None | Some('Z')) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("process {pid:?} still runs");
}
