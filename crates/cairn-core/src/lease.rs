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
            host: host_name(),
            pid: std::process::id(),
        }
    }

    /// "pid 4242 on laptop", for notes such as "another terminal is answering".
    pub fn describe(&self) -> String {
        format!("pid {} on {}", self.pid, self.host)
    }
}

/// The machine's host name, or "this machine" when it cannot be read.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this machine".to_owned())
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
    pub fn is_live(&self, now_ms: i64) -> bool {
        self.expires_at_ms > now_ms
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
