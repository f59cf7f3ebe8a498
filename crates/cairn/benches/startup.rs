//! What the user waits for when Cairn starts: the real binary in a 120x40 pseudo-terminal,
//! from process start until the screen shows the last message, for an empty launch and for
//! a resumed 10,000-message session. Prints the median, minimum and maximum of several runs.
//!
//! Not a criterion benchmark: one sample is a whole process, and what matters is the
//! distribution the user sees, not a statistical estimate of a microsecond loop. Run with
//! `cargo bench -p cairn --bench startup`; `cargo test` does not run it.

// Benchmarks are test code: a failed set-up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use cairn_core::{
    Event, EventId, EventKind, InvocationId, Session, SessionId, SessionService, TokenUsage,
};
use cairn_store::SqliteSessionService;
use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const ROWS: u16 = 40;
const COLS: u16 = 120;
const RUNS: usize = 7;
const MESSAGES: usize = 10_000;
const TIMEOUT: Duration = Duration::from_secs(30);
/// How the status line, the bottom row of every frame, ends.
const STATUS_LINE_END: &str = "out tokens";

/// The folders one run of Cairn sees: a private HOME, its XDG folders and a workspace.
struct Sandbox {
    /// Removed at the end, unless the folder was given in `CAIRN_STARTUP_BENCH_DIR`.
    _temporary: Option<tempfile::TempDir>,
    home: PathBuf,
    workspace: PathBuf,
    database: PathBuf,
}

impl Sandbox {
    /// In a temporary folder, or in `CAIRN_STARTUP_BENCH_DIR` (kept, for profiling the same
    /// launches by hand).
    fn new() -> Self {
        let (temporary, root) = match std::env::var_os("CAIRN_STARTUP_BENCH_DIR") {
            Some(dir) => (None, PathBuf::from(dir)),
            None => {
                let temporary = tempfile::tempdir().expect("temporary folder");
                let root = temporary.path().to_path_buf();
                (Some(temporary), root)
            }
        };
        let home = root.join("home");
        let workspace = root.join("workspace");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&workspace).expect("workspace");
        let workspace = workspace.canonicalize().expect("canonical workspace");
        let database = home.join("cairn.db");
        Self {
            _temporary: temporary,
            home,
            workspace,
            database,
        }
    }
}

/// The answer's last line, the last thing drawn when the session opens at its end.
fn last_line(index: usize) -> String {
    format!("That was answer {index}.")
}

/// A session of `messages` alternating questions and Markdown answers, written through the
/// store as Cairn would have written it.
async fn write_session(sandbox: &Sandbox, messages: usize) -> SessionId {
    let service = SqliteSessionService::open(&sandbox.database)
        .await
        .expect("open the database");
    let session_id = SessionId::new();
    let invocation_id = InvocationId::new();
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("time");
    let mut parent = None;
    let events: Vec<Event> = (0..messages)
        .map(|index| {
            let kind = if index % 2 == 0 {
                EventKind::UserMessage {
                    text: format!("Question {index}: how do I make this faster without breaking it?"),
                }
            } else {
                EventKind::AssistantMessage {
                    text: format!(
                        "## Answer {index}\n\nMeasure first, then change **one** thing at a time. \
                         Keep `criterion` baselines and compare.\n\n- profile\n- fix the hot path\n\
                         - measure again\n\n```rust\nfn main() {{ println!(\"{index}\"); }}\n```\n\n{}",
                        last_line(index)
                    ),
                    usage: Some(TokenUsage {
                        input_tokens: 1000,
                        output_tokens: 80,
                    }),
                    interrupted: false,
                    model: Some("bench".into()),
                }
            };
            let id = EventId::new();
            let event = Event {
                id,
                session_id,
                parent_id: parent,
                invocation_id,
                created_at_ms: now_ms - 60_000,
                kind,
            };
            parent = Some(id);
            event
        })
        .collect();
    let session = Session {
        id: session_id,
        directory: sandbox.workspace.clone(),
        git_root: None,
        head_id: events.last().map(|event| event.id),
        title: "startup bench".into(),
        created_at_ms: now_ms - 60_000,
        updated_at_ms: now_ms - 60_000,
        archived_at_ms: None,
        model: None,
        location: cairn_core::Location::default(),
    };
    service
        .create_session(&session, &events)
        .await
        .expect("write the session");
    service.close().await;
    session_id
}

/// Starts `cairn ARGS` in a pseudo-terminal and returns how long it took until the screen
/// shows `wanted` and the status line; then hangs up, as closing the window would, and waits for the exit.
fn time_until_drawn(binary: &Path, sandbox: &Sandbox, args: &[&str], wanted: &str) -> Duration {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("open a pty");
    let mut command = CommandBuilder::new(binary);
    command.cwd(&sandbox.workspace);
    command.env_clear();
    command.env("PATH", std::env::var("PATH").unwrap_or_default());
    command.env("HOME", &sandbox.home);
    command.env("XDG_CONFIG_HOME", sandbox.home.join(".config"));
    command.env("XDG_DATA_HOME", sandbox.home.join(".local/share"));
    command.env("XDG_STATE_HOME", sandbox.home.join(".local/state"));
    command.env("XDG_CACHE_HOME", sandbox.home.join(".cache"));
    command.env("CAIRN_DB_PATH", &sandbox.database);
    command.env("CAIRN_PROVIDER", "echo");
    command.env("TERM", "xterm-256color");
    command.args(args);

    let mut writer = pair.master.take_writer().expect("pty writer");
    let mut reader = pair.master.try_clone_reader().expect("pty reader");
    let (chunks, received) = mpsc::channel::<Vec<u8>>();
    let started = Instant::now();
    let mut child = pair.slave.spawn_command(command).expect("spawn cairn");
    drop(pair.slave);
    thread::spawn(move || {
        let mut buffer = [0_u8; 65_536];
        while let Ok(count @ 1..) = reader.read(&mut buffer) {
            if chunks.send(buffer[..count].to_vec()).is_err() {
                break;
            }
        }
    });

    let mut screen = vt100::Parser::new(ROWS, COLS, 0);
    let elapsed = loop {
        let remaining = TIMEOUT.saturating_sub(started.elapsed());
        let bytes = received
            .recv_timeout(remaining)
            .unwrap_or_else(|_| panic!("`{wanted}` was not drawn within {TIMEOUT:?}"));
        // Answer "primary device attributes" like a real terminal, so the keyboard
        // enhancement probe does not wait for its timeout.
        if bytes.windows(3).any(|window| window == b"\x1b[c") {
            writer
                .write_all(b"\x1b[?62;22c")
                .expect("answer the terminal query");
        }
        screen.process(&bytes);
        let contents = screen.screen().contents();
        // The status line is the bottom row, the last one a frame draws.
        if contents.contains(wanted) && contents.contains(STATUS_LINE_END) {
            break started.elapsed();
        }
    };
    child.kill().expect("hang up");
    child.wait().expect("wait for cairn");
    elapsed
}

fn report(name: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    let median = samples[samples.len() / 2];
    println!(
        "{name:<40} median {:7.1} ms   min {:7.1} ms   max {:7.1} ms   ({} runs)",
        ms(median),
        ms(samples[0]),
        ms(samples[samples.len() - 1]),
        samples.len()
    );
    median
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument, if any, is ignored.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let sandbox = Sandbox::new();
    let session_id = runtime.block_on(write_session(&sandbox, MESSAGES));
    let session_text = session_id.to_string();
    if sandbox._temporary.is_none() {
        println!(
            "database {} (kept), session {session_text}, workspace {}",
            sandbox.database.display(),
            sandbox.workspace.display()
        );
    }
    let last = last_line(MESSAGES - 1);

    // One unmeasured run of each warms the page cache, as on a machine in daily use.
    let empty_args = ["--new"];
    let resume_args = ["-s", session_text.as_str()];
    let empty_marker = "Ask anything";
    time_until_drawn(&binary, &sandbox, &empty_args, empty_marker);
    time_until_drawn(&binary, &sandbox, &resume_args, &last);

    let empty: Vec<Duration> = (0..RUNS)
        .map(|_| time_until_drawn(&binary, &sandbox, &empty_args, empty_marker))
        .collect();
    let resumed: Vec<Duration> = (0..RUNS)
        .map(|_| time_until_drawn(&binary, &sandbox, &resume_args, &last))
        .collect();
    let empty = report("empty launch (--new) to first frame", empty);
    let resumed = report("10,000-message session to last message", resumed);
    println!(
        "resumed / empty: {:.1}x",
        resumed.as_secs_f64() / empty.as_secs_f64()
    );
}
