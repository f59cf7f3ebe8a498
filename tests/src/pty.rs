//! A real `cairn` in a pseudo-terminal, read back through a vt100 parser. Every wait polls
//! the screen with a generous timeout; no fixed sleep is an assertion.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::server::ScriptedServer;
use crate::{TestEnv, cairn_bin};

pub const ROWS: u16 = 30;
const COLS: u16 = 100;
/// Generous: a loaded 2-core machine can be slow, and only a hang should fail a wait.
const TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// A running `cairn` in a pseudo-terminal.
pub struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    /// Set when the pty reports end of output (the process and its children are gone).
    closed: Arc<AtomicBool>,
    /// `None` once the terminal was closed with [`Tui::close_terminal`].
    writer: Arc<Mutex<Option<Box<dyn Write + Send>>>>,
    /// Set by [`Tui::close_terminal`]: the reader drops its end at its next read.
    closing: Arc<AtomicBool>,
    child: Box<dyn Child + Send + Sync>,
    master: Option<Box<dyn MasterPty + Send>>,
}

impl Tui {
    pub fn spawn(env: &TestEnv, dir: &Path) -> Self {
        Self::spawn_with(env, dir, &[], &[])
    }

    /// Spawns `cairn ARGS...` with extra environment variables; an empty value removes the
    /// variable (the echo provider the test environment sets, say).
    pub fn spawn_with(env: &TestEnv, dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Self {
        Self::spawn_program(env, dir, cairn_bin(), args, vars)
    }

    /// The chat in `env`'s work folder talking to `server` (the OpenAI dialect, model
    /// `gpt-test`, key from `CAIRN_TEST_KEY`), once its status line shows the model.
    pub fn spawn_chat_on(env: &TestEnv, server: &ScriptedServer) -> Self {
        env.write_config(&server.openai_config());
        let vars = [("CAIRN_PROVIDER", ""), ("CAIRN_TEST_KEY", "sk-test")];
        let tui = Self::spawn_with(env, &env.work_dir(), &[], &vars);
        tui.wait_for("gpt-test");
        tui
    }

    /// Spawns `program ARGS...` (a shell that then runs cairn, say) in the test environment.
    pub fn spawn_program(
        env: &TestEnv,
        dir: &Path,
        program: &Path,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut command = CommandBuilder::new(program);
        command.cwd(dir);
        for name in TestEnv::removed_vars() {
            command.env_remove(name);
        }
        for (name, value) in env.vars() {
            command.env(name, value);
        }
        command.env("TERM", "xterm-256color");
        command.args(args);
        for (name, value) in vars {
            if value.is_empty() {
                command.env_remove(name);
            } else {
                command.env(name, value);
            }
        }
        let child = pair
            .slave
            .spawn_command(command)
            .expect("spawn the program");
        drop(pair.slave);

        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::new(Mutex::new(Some(
            pair.master.take_writer().expect("pty writer"),
        )));
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let closed = Arc::new(AtomicBool::new(false));
        let closing = Arc::new(AtomicBool::new(false));
        {
            let closed = closed.clone();
            let closing = closing.clone();
            let parser = parser.clone();
            let raw = raw.clone();
            let writer = writer.clone();
            thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                loop {
                    if closing.load(Ordering::SeqCst) {
                        // Dropping the reader closes the last handle on the pty master.
                        closed.store(true, Ordering::SeqCst);
                        break;
                    }
                    match reader.read(&mut buffer) {
                        Ok(0) | Err(_) => {
                            closed.store(true, Ordering::SeqCst);
                            break;
                        }
                        Ok(count) => {
                            let bytes = &buffer[..count];
                            // Answer "primary device attributes" like a real terminal, so the
                            // keyboard-enhancement probe does not wait for its timeout.
                            if bytes.windows(3).any(|window| window == b"\x1b[c")
                                && let Some(writer) = writer.lock().unwrap().as_mut()
                            {
                                let _ = writer.write_all(b"\x1b[?62;22c");
                            }
                            let mut parser = parser.lock().unwrap();
                            parser.process(bytes);
                            // Answer "where is the cursor" (DSR) as a terminal does: ratatui
                            // asks before clearing the screen (Ctrl+L, back from Ctrl+Z).
                            if bytes.windows(4).any(|window| window == b"\x1b[6n")
                                && let Some(writer) = writer.lock().unwrap().as_mut()
                            {
                                let (row, column) = parser.screen().cursor_position();
                                let _ = write!(writer, "\x1b[{};{}R", row + 1, column + 1);
                            }
                            drop(parser);
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
            closing,
            child,
            master: Some(pair.master),
        }
    }

    pub fn send(&self, text: &str) {
        let mut writer = self.writer.lock().unwrap();
        let writer = writer.as_mut().expect("the terminal is open");
        writer.write_all(text.as_bytes()).unwrap();
        writer.flush().unwrap();
    }

    /// Types `text` and presses Enter.
    pub fn submit(&self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn alternate_screen(&self) -> bool {
        self.parser.lock().unwrap().screen().alternate_screen()
    }

    pub fn raw_output(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    /// Waits until the screen contains `text`; returns the screen.
    pub fn wait_for(&self, text: &str) -> String {
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
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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
    pub fn quit_cleanly(mut self, keys: &str) -> Option<String> {
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

    /// Closes the terminal like a window being closed: every handle on the pty master is
    /// dropped, after which the kernel hangs up cairn (SIGHUP) and its terminal reads and
    /// writes fail with EIO.
    ///
    /// The reader thread holds the last handle and lets go at its next read. Waiting for
    /// cairn to write would not do: cairn may itself be blocked reading its terminal, and
    /// both would wait forever. So one byte is written to the terminal's own end, which wakes
    /// the reader at once.
    pub fn close_terminal(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        self.writer.lock().unwrap().take();
        let tty = self.master.as_ref().and_then(|master| master.tty_name());
        if let Some(mut tty) =
            tty.and_then(|path| std::fs::OpenOptions::new().write(true).open(path).ok())
        {
            let _ = tty.write_all(b"\0");
        }
        self.master.take();
    }

    /// Kills cairn with SIGKILL, as a crash or an out-of-memory kill would: nothing of it
    /// runs afterwards (no exit path, no terminal restore).
    pub fn kill_9(&mut self) {
        let pid = self.child.process_id().expect("cairn's pid");
        let status = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -9 {pid} failed");
        let _ = self.child.wait();
    }

    /// The short session id in the status line (the bottom row).
    pub fn status_line(&self) -> String {
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
