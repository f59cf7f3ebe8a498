//! The rows of the turn in progress (`turn_leases`, `answer_drafts` and the version of a
//! session that windows watch), read the same way from both stores: the tables have the same
//! columns, and sqlx decodes these types from either.

use cairn_core::lease::{AnswerDraft, LeaseHolder, TurnLease};
use cairn_core::service::Result;
use cairn_core::{ServiceError, SessionId, SessionVersion};

/// The columns of [`LeaseRow`], in a `SELECT`.
pub(crate) const LEASE_COLUMNS: &str = "session_id, holder_invocation_id, holder_host, \
     holder_pid, started_at, heartbeat_at, expires_at";

#[derive(sqlx::FromRow)]
pub(crate) struct LeaseRow {
    session_id: String,
    holder_invocation_id: String,
    holder_host: String,
    holder_pid: i64,
    started_at: i64,
    heartbeat_at: i64,
    expires_at: i64,
}

impl LeaseRow {
    pub(crate) fn into_lease(self) -> Result<TurnLease> {
        Ok(TurnLease {
            session_id: parse_id(&self.session_id)?,
            holder: LeaseHolder {
                invocation_id: parse_id(&self.holder_invocation_id)?,
                host: self.holder_host,
                pid: u32::try_from(self.holder_pid).unwrap_or(0),
            },
            started_at_ms: self.started_at,
            heartbeat_at_ms: self.heartbeat_at,
            expires_at_ms: self.expires_at,
        })
    }
}

/// `SELECT invocation_id, question_id, model, text, updated_at FROM answer_drafts`.
#[derive(sqlx::FromRow)]
pub(crate) struct DraftRow {
    invocation_id: String,
    question_id: Option<String>,
    model: Option<String>,
    text: String,
    updated_at: i64,
}

impl DraftRow {
    pub(crate) fn into_draft(self, session_id: SessionId) -> Result<AnswerDraft> {
        Ok(AnswerDraft {
            session_id,
            invocation_id: parse_id(&self.invocation_id)?,
            question_id: self.question_id.as_deref().map(parse_id).transpose()?,
            model: self.model,
            text: self.text,
            updated_at_ms: self.updated_at,
        })
    }
}

/// The session row's head and times with its lease holder and newest draft.
#[derive(sqlx::FromRow)]
pub(crate) struct VersionRow {
    head_id: Option<String>,
    updated_at: i64,
    archived_at: Option<i64>,
    lease_holder: Option<String>,
    lease_expires: Option<i64>,
    draft_saved: Option<i64>,
}

impl VersionRow {
    pub(crate) fn into_version(self) -> Result<SessionVersion> {
        let lease = match (self.lease_holder, self.lease_expires) {
            (Some(holder), Some(expires)) => Some((parse_id(&holder)?, expires)),
            _ => None,
        };
        Ok(SessionVersion {
            head_id: self.head_id.as_deref().map(parse_id).transpose()?,
            updated_at_ms: self.updated_at,
            archived_at_ms: self.archived_at,
            lease,
            draft_saved_at_ms: self.draft_saved,
        })
    }
}

/// Parses a stored id of any of the uuid newtypes.
fn parse_id<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| ServiceError::storage(format!("unreadable id {text:?} in a turn record")))
}
