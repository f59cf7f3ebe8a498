//! The chat screen end to end: the real `cairn` binary in a pseudo-terminal with the offline
//! echo provider, read back through a vt100 parser. Every wait polls the screen with a
//! generous timeout; no fixed sleep is an assertion.

// Test-only helpers: a failed set-up step should stop the test loudly.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cairn_tests::{TestEnv, cairn_bin};
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 30;
const COLS: u16 = 100;
const TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// A running `cairn` in a pseudo-terminal.
struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// Set when the pty reports end of output (the process and its children are gone).
    closed: Arc<AtomicBool>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
}

impl Tui {
    fn spawn(env: &TestEnv, dir: &Path) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut command = CommandBuilder::new(cairn_bin());
        command.cwd(dir);
        for name in TestEnv::removed_vars() {
            command.env_remove(name);
        }
        for (name, value) in env.vars() {
            command.env(name, value);
        }
        command.env("TERM", "xterm-256color");
        let child = pair.slave.spawn_command(command).expect("spawn cairn");
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let closed = Arc::new(AtomicBool::new(false));
        {
            let closed = closed.clone();
            let parser = parser.clone();
            let raw = raw.clone();
            let writer = writer.clone();
            thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                loop {
                    match reader.read(&mut buffer) {
                        Ok(0) | Err(_) => {
                            closed.store(true, Ordering::SeqCst);
                            break;
                        }
                        Ok(count) => {
                            let bytes = &buffer[..count];
                            // Answer "primary device attributes" like a real terminal, so the
                            // keyboard-enhancement probe does not wait for its timeout.
                            if bytes.windows(3).any(|window| window == b"\x1b[c") {
                                let _ = writer.lock().unwrap().write_all(b"\x1b[?62;22c");
                            }
                            parser.lock().unwrap().process(bytes);
                            raw.lock().unwrap().extend_from_slice(bytes);
                        }
                    }
                }
            });
        }
        Self {
            parser,
            raw,
            closed,
            writer,
            child,
            _master: pair.master,
        }
    }

    fn send(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(text.as_bytes()).unwrap();
        writer.flush().unwrap();
    }

    /// Types `text` and presses Enter.
    fn submit(&self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    fn raw_output(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// Waits until the screen contains `text`; returns the screen.
    fn wait_for(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < TIMEOUT,
                "timed out waiting for {text:?}; the screen shows:\n{screen}"
            );
            thread::sleep(POLL);
        }
    }

    /// Waits for the process to exit and for its last output to be read.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < TIMEOUT,
                "cairn did not exit; the screen shows:\n{}",
                self.screen()
            );
            thread::sleep(POLL);
        };
        let started = Instant::now();
        while !self.closed.load(Ordering::SeqCst) && started.elapsed() < TIMEOUT {
            thread::sleep(POLL);
        }
        status
    }

    /// Quits with `keys` and checks the exit is clean: status 0, the terminal restored.
    /// Returns the short session id printed as the way back (`cairn -s <id>`), if any: a
    /// session nothing was written to is not stored and has none.
    fn quit_cleanly(mut self, keys: &str) -> Option<String> {
        self.send(keys);
        let status = self.wait_exit();
        assert!(status.success(), "cairn exited with {status:?}");
        assert!(
            !self.alternate_screen(),
            "the alternate screen was not left"
        );
        let output = self.raw_output();
        let (_, after) = output.rsplit_once("cairn -s ")?;
        Some(after.chars().take_while(char::is_ascii_hexdigit).collect())
    }

    /// The short session id in the status line (the bottom row).
    fn status_line(&self) -> String {
        self.screen().lines().last().unwrap_or_default().to_owned()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
    }
}

#[test]
fn a_conversation_is_resumed_in_the_same_folder() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("hello there");
    tui.wait_for("echo: hello there");
    tui.wait_for("(offline echo provider: 1 user message");
    let first_id = tui.quit_cleanly("\x04").expect("cairn -s <id> printed");
    assert!(first_id.len() >= 8, "short id printed: {first_id}");

    let tui = Tui::spawn(&env, &env.work_dir());
    let screen = tui.wait_for("Continuing previous session (last active");
    assert!(screen.contains("/new starts a fresh one"), "{screen}");
    assert!(screen.contains("hello there"), "{screen}");
    assert!(screen.contains("echo: hello there"), "{screen}");
    assert!(
        tui.status_line().contains(&first_id),
        "{}",
        tui.status_line()
    );
    assert!(
        tui.status_line().contains("resumed"),
        "{}",
        tui.status_line()
    );
    tui.submit("and again");
    tui.wait_for("echo: and again");
    tui.wait_for("(offline echo provider: 2 user messages in context)");
    let second_id = tui.quit_cleanly("/quit\r").expect("cairn -s <id> printed");
    assert_eq!(second_id, first_id);
}

#[test]
fn slash_new_clears_the_screen_and_starts_a_new_session() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("first topic");
    tui.wait_for("(offline echo provider: 1 user message");
    let before = tui.status_line();
    tui.submit("/new");
    let screen = tui.wait_for("Started a new session");
    assert!(!screen.contains("first topic"), "{screen}");
    let after = tui.status_line();
    assert_ne!(before.split(" · ").nth(1), after.split(" · ").nth(1));
    assert!(after.contains("new"), "{after}");
    tui.submit("second topic");
    tui.wait_for("echo: second topic");
    tui.wait_for("(offline echo provider: 1 user message");

    // The archived session is one pick away.
    tui.submit("/sessions");
    tui.wait_for("sessions · this workspace");
    tui.send("first");
    tui.wait_for("filter: first");
    tui.send("\r");
    let screen = tui.wait_for("Continuing previous session");
    assert!(screen.contains("echo: first topic"), "{screen}");
    assert!(!screen.contains("second topic"), "{screen}");
    assert_eq!(
        tui.status_line().split(" · ").nth(1),
        before.split(" · ").nth(1)
    );
    assert!(tui.quit_cleanly("\x04").is_some());
}

#[test]
fn a_different_folder_starts_fresh() {
    let env = TestEnv::new();
    let tui = Tui::spawn(&env, &env.work_dir());
    tui.wait_for("echo/");
    tui.submit("only here");
    tui.wait_for("echo: only here");
    assert!(tui.quit_cleanly("\x04").is_some());

    let other = env.other_dir("elsewhere");
    let tui = Tui::spawn(&env, &other);
    tui.wait_for("echo/");
    let screen = tui.screen();
    assert!(!screen.contains("only here"), "{screen}");
    assert!(!screen.contains("Continuing previous session"), "{screen}");
    // Ctrl+C twice on an empty line quits too.
    tui.send("\x03");
    tui.wait_for("press Ctrl+C again to quit");
    // Nothing was written in this folder, so there is no session to come back to.
    assert_eq!(tui.quit_cleanly("\x03"), None);
}
