//! `run_command`: a command line run with the user's shell, in its own process group.
//!
//! Invariants:
//! - The command runs as `$SHELL -c command` (else `sh -c`), in the workspace folder, with
//!   standard input closed and standard output and error in one pipe, so their order is
//!   kept.
//! - The child never inherits the API-key variables Cairn uses ([`CommandSpec::hidden`]).
//! - A timeout, a cancellation or dropping the future kills the whole process group, so a
//!   pipeline or a script's children stop too.
//! - Memory is bounded whatever the command prints: the first [`OUTPUT_HEAD_BYTES`] and the
//!   last [`OUTPUT_TAIL_BYTES`] are kept and the cut is marked.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::AsyncReadExt;

use crate::ToolOutput;

/// Kept from the start of the output.
pub const OUTPUT_HEAD_BYTES: usize = 16 * 1024;
/// Kept from the end of the output, where errors and summaries usually are.
pub const OUTPUT_TAIL_BYTES: usize = 16 * 1024;

/// Variables a command never sees, whatever the configuration names: the providers' API
/// keys, and the session store's password and address (a url may hold a password).
pub const ALWAYS_HIDDEN_VARIABLES: &[&str] = &[
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "PGPASSWORD",
    "CAIRN_STORE_URL",
];

/// How long output is still read after the shell exits: a process it left running in the
/// background may hold the pipe open forever.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(300);

/// What to run and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandSpec {
    pub command: String,
    pub directory: PathBuf,
    /// The shell run as `shell -c command`.
    pub shell: PathBuf,
    pub timeout: Duration,
    /// Environment variables removed for the child (API keys).
    pub hidden: Vec<String>,
}

impl CommandSpec {
    /// `$SHELL` when set and not empty, else `sh`.
    pub fn user_shell(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
        env("SHELL")
            .filter(|shell| !shell.trim().is_empty())
            .map_or_else(|| PathBuf::from("sh"), PathBuf::from)
    }
}

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal it did not expect (not our timeout or cancellation).
    Signal(i32),
    TimedOut,
    Cancelled,
}

/// A finished command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandOutcome {
    pub exit: Exit,
    pub duration: Duration,
    /// Standard output and error together, capped (see [`OUTPUT_HEAD_BYTES`]).
    pub output: String,
    /// Bytes left out of the middle of `output`.
    pub cut_bytes: u64,
}

impl CommandOutcome {
    /// The result the model receives: how it ended, then the output.
    pub fn to_tool_output(&self, timeout: Duration) -> ToolOutput {
        let seconds = self.duration.as_secs_f64();
        let status = match self.exit {
            Exit::Code(code) => format!("exit code {code} after {seconds:.1} s"),
            Exit::Signal(signal) => format!("killed by signal {signal} after {seconds:.1} s"),
            Exit::TimedOut => format!(
                "timed out after {} s; the command and its child processes were stopped",
                timeout.as_secs()
            ),
            Exit::Cancelled => format!(
                "stopped by the user after {seconds:.1} s; the command and its child processes \
                 were stopped"
            ),
        };
        let output = if self.output.is_empty() {
            "(no output)"
        } else {
            &self.output
        };
        let text = format!("{status}\n{output}");
        if self.exit == Exit::Code(0) {
            ToolOutput::ok(text)
        } else {
            ToolOutput::error(text)
        }
    }
}

/// Runs the command until it exits, `spec.timeout` passes or `cancel` completes.
pub async fn run_command(
    spec: &CommandSpec,
    cancel: impl Future<Output = ()>,
) -> io::Result<CommandOutcome> {
    let started = Instant::now();
    let (reader, writer) = io::pipe()?;
    // The Command holds the pipe's write end: it is dropped at the end of this block, so
    // the reader sees end-of-file once the command and its children close theirs.
    let mut child = {
        let mut command = tokio::process::Command::new(&spec.shell);
        command
            .arg("-c")
            .arg(&spec.command)
            .current_dir(&spec.directory)
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer)
            .process_group(0)
            .kill_on_drop(true);
        for name in &spec.hidden {
            command.env_remove(name);
        }
        command.spawn()?
    };
    let mut group = GroupGuard(child.id().and_then(|id| Pid::from_raw(id.cast_signed())));
    let mut reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())?;
    let mut capture = Capture::default();
    let mut buffer = vec![0_u8; 8 * 1024];
    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
    tokio::pin!(cancel);
    let mut stopped = None;
    let mut status = None;
    let mut open = true;
    while status.is_none() {
        tokio::select! {
            read = reader.read(&mut buffer), if open => match read? {
                0 => open = false,
                n => capture.push(&buffer[..n]),
            },
            exited = child.wait() => status = Some(exited?),
            () = &mut deadline, if stopped.is_none() => {
                group.kill();
                stopped = Some(Exit::TimedOut);
            }
            () = &mut cancel, if stopped.is_none() => {
                group.kill();
                stopped = Some(Exit::Cancelled);
            }
        }
    }
    // The shell is gone; what it left behind may keep the pipe open, so read on only briefly.
    let drain = tokio::time::sleep(DRAIN_AFTER_EXIT);
    tokio::pin!(drain);
    while open {
        tokio::select! {
            read = reader.read(&mut buffer) => match read? {
                0 => open = false,
                n => capture.push(&buffer[..n]),
            },
            () = &mut drain => break,
        }
    }
    group.disarm();
    let exit = stopped.unwrap_or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        match (
            status.and_then(|s| s.code()),
            status.and_then(|s| s.signal()),
        ) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(signal)) => Exit::Signal(signal),
            (None, None) => Exit::Code(-1),
        }
    });
    let (output, cut_bytes) = capture.finish();
    Ok(CommandOutcome {
        exit,
        duration: started.elapsed(),
        output,
        cut_bytes,
    })
}

/// Kills the command's process group when dropped while armed, so a cancelled or dropped
/// call never leaves its processes running.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&self) {
        if let Some(group) = self.0 {
            // It may have exited already; nothing more to do then.
            let _ = kill_process_group(group, Signal::KILL);
        }
    }

    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The head and tail of a stream, in memory bounded by the two caps.
#[derive(Default)]
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Capture {
    fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let room = OUTPUT_HEAD_BYTES - self.head.len();
        let into_head = room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        if bytes.len() >= OUTPUT_TAIL_BYTES {
            self.tail.clear();
            bytes = &bytes[bytes.len() - OUTPUT_TAIL_BYTES..];
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(OUTPUT_TAIL_BYTES);
        self.tail.drain(..overflow);
        self.tail.extend(bytes);
    }

    /// The text, with the cut marked, and how many bytes were cut.
    fn finish(self) -> (String, u64) {
        let kept = (self.head.len() + self.tail.len()) as u64;
        let cut = self.total - kept;
        let head = String::from_utf8_lossy(&self.head);
        let tail: Vec<u8> = self.tail.into();
        let tail = String::from_utf8_lossy(&tail);
        if cut == 0 {
            return (format!("{head}{tail}"), 0);
        }
        (
            format!("{head}\n[… {cut} bytes of output cut …]\n{tail}"),
            cut,
        )
    }
}

#[cfg(test)]
mod tests;
