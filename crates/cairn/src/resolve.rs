//! Turning what the user typed into a session: a full id or a unique prefix of at least four
//! hex digits (hyphens optional). The reverse, the shortest unambiguous prefix for a
//! `cairn -s <id>` hint, is `cairn_core::service::unique_short_id`.

use std::fmt::Write as _;

use cairn_core::resume::describe_age;
use cairn_core::{Session, SessionId, SessionService};
use eyre::bail;

/// How many candidates an ambiguous prefix lists.
const MAX_CANDIDATES: u32 = 10;
const MIN_PREFIX: usize = 4;

pub async fn resolve_session(
    service: &dyn SessionService,
    typed: &str,
    now_ms: i64,
) -> eyre::Result<Session> {
    let text = typed.trim().to_ascii_lowercase();
    if let Ok(id) = text.parse::<SessionId>() {
        return match service.get_session(id).await? {
            Some(session) => Ok(session),
            None => bail!("session not found: {typed}"),
        };
    }
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) || hex.len() > 32 {
        bail!("session not found: {typed}");
    }
    if hex.len() < MIN_PREFIX {
        bail!("session id prefix `{typed}` is too short: give at least {MIN_PREFIX} characters");
    }
    let mut found = service.find_by_id_prefix(&hex, MAX_CANDIDATES + 1).await?;
    match found.len() {
        0 => bail!("session not found: {typed}"),
        1 => Ok(found.remove(0)),
        count => {
            let more = if count > MAX_CANDIDATES as usize {
                " (showing the first 10)"
            } else {
                ""
            };
            let mut message =
                format!("session id prefix `{typed}` is ambiguous; it matches{more}:");
            for session in found.iter().take(MAX_CANDIDATES as usize) {
                let title = if session.title.is_empty() {
                    "(untitled)".to_owned()
                } else {
                    crate::output::human(&session.title)
                };
                let _ = write!(
                    message,
                    "\n  {}  {}  {}",
                    session.id,
                    describe_age(now_ms - session.updated_at_ms),
                    title
                );
            }
            bail!(message)
        }
    }
}
