//! The turn in progress, kept in storage so every terminal on a session can see it and a
//! crash loses none of it.
//!
//! - A [`TurnLease`] says which process is answering in a session. Taking it is atomic in
//!   the store, so two terminals never interleave their turns: the question and the answer of
//!   one turn are always contiguous in the chain. The holder renews it while the answer
//!   streams; a holder that dies stops renewing and its lease expires after
//!   [`LEASE_TTL_MS`], so a crash never blocks anyone for longer.
//! - An [`AnswerDraft`] is the answer so far, saved about once a second while it streams.
//!   Appending any event written by the draft's invocation settles (removes) its draft in the
//!   same transaction, so an answer is never both a draft and an event. A draft whose writer
//!   no longer holds a live lease is recovered on the next load as an interrupted answer.

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, InvocationId, SessionId};

/// How long a lease lasts without being renewed. Renewed every [`LEASE_RENEW_MS`] while an
/// answer streams, so a live holder never lets it lapse, and a dead one blocks others for at
/// most this long.
pub const LEASE_TTL_MS: i64 = 5_000;
/// How often a holder renews its lease and saves its draft.
pub const LEASE_RENEW_MS: i64 = 1_000;

/// Who is answering: one invocation of Cairn, on one machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseHolder {
    pub invocation_id: InvocationId,
    pub host: String,
    pub pid: u32,
}

impl LeaseHolder {
    /// This process, as invocation `invocation_id`.
    pub fn this_process(invocation_id: InvocationId) -> Self {
        Self {
            invocation_id,
            host: crate::workspace::host_name(),
            pid: std::process::id(),
        }
    }

    /// "pid 4242 on laptop", for notes such as "another terminal is answering".
    pub fn describe(&self) -> String {
        format!("pid {} on {}", self.pid, self.host)
    }

    /// Whether the holder is known to have stopped: it ran on this machine and its process
    /// is gone. A crashed Cairn relaunched at once then recovers its answer at once instead
    /// of after the lease expires. Elsewhere (another machine, no `/proc`) only expiry tells.
    pub fn is_known_dead(&self) -> bool {
        let proc_root = std::path::Path::new("/proc/self");
        self.host == crate::workspace::host_name()
            && proc_root.exists()
            && self.pid != std::process::id()
            && !process_is_running(self.pid)
    }
}

/// Whether `pid` is a running process on this machine. A zombie (killed, not yet reaped by
/// its parent) is not running.
fn process_is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name, which is in parentheses and may hold spaces.
        Ok(stat) => stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next())
            .is_some_and(|state| !matches!(state, 'Z' | 'X' | 'x')),
        Err(_) => false,
    }
}

/// A session's turn lease as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnLease {
    pub session_id: SessionId,
    pub holder: LeaseHolder,
    pub started_at_ms: i64,
    pub heartbeat_at_ms: i64,
    pub expires_at_ms: i64,
}

impl TurnLease {
    /// Unexpired, by the clock alone.
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
    }

    /// Unexpired and its holder not known to be dead.
    pub fn is_held(&self, now_ms: i64) -> bool {
        self.is_live(now_ms) && !self.holder.is_known_dead()
    }
}

/// What asking for a lease gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// The caller holds the lease now (fresh, renewed, or taken over after expiry).
    Acquired,
    /// Another live holder has it.
    HeldBy(TurnLease),
}

/// The answer so far of a turn in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerDraft {
    pub session_id: SessionId,
    /// The invocation writing the answer.
    pub invocation_id: InvocationId,
    /// The user message being answered.
    pub question_id: Option<EventId>,
    pub model: Option<String>,
    pub text: String,
    pub updated_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_running_and_a_finished_child_is_not() {
        assert!(process_is_running(std::process::id()));
        let mut child = std::process::Command::new("true")
            .spawn()
            .expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        assert!(!process_is_running(pid));
        let holder = LeaseHolder {
            pid,
            ..LeaseHolder::this_process(InvocationId::new())
        };
        assert!(holder.is_known_dead());
        let elsewhere = LeaseHolder {
            host: "another-machine".to_owned(),
            ..holder
        };
        assert!(
            !elsewhere.is_known_dead(),
            "only expiry tells for other machines"
        );
    }
}
