//! The resume lookup and where a session was last active, on PostgreSQL.
//!
//! The lookup is the policy of [`SessionService::find_resumable`] in one round trip: each
//! step is an arm seeking its own partial index (migration 0009) and stopping at the first
//! row, `ORDER BY updated_at DESC LIMIT 1`, so no arm reads more than one row whatever the
//! number of sessions; the earliest step with a row wins. "This machine" is two arms per
//! path step, the host and the sessions without one, so each stays a seek.
//!
//! [`SessionService::find_resumable`]: cairn_core::SessionService::find_resumable

use cairn_core::service::{Result, ResumeQuery};
use cairn_core::{ServiceError, Session};

use super::PostgresSessionService;
use crate::sqlite::rows::{SessionRow, path_bytes, path_text, session_columns};

/// One step of the policy: the newest resumable session matching `$condition`.
macro_rules! resume_arm {
    ($preference:literal, $condition:literal) => {
        concat!(
            "(SELECT ",
            session_columns!(),
            ", ",
            $preference,
            " AS preference FROM sessions WHERE ",
            $condition,
            " AND archived_at IS NULL AND model_event_count > 0 AND -updated_at <= $2 \
             ORDER BY -updated_at LIMIT 1)"
        )
    };
}

/// `$1` directory, `$2` the window's start negated (see migration 0009: the indexes order
/// by `-updated_at`, which no other index can give), `$3` git root, `$4` host, `$5` repository, `$6` folder
/// inside it. Outside a repository `$3`, `$5` and `$6` are NULL and their arms are empty.
/// The arms for sessions without a host (stored before hosts were recorded) seek indexes of
/// their own: `host IS NULL` is no equality to PostgreSQL, so the host
/// indexes cannot give those rows in `updated_at` order, and without them the arm walked
/// every session of the window whenever the folder had none.
const RESUME_QUERY: &str = concat!(
    "SELECT * FROM (",
    resume_arm!("0", "directory_bytes = $1 AND host = $4"),
    " UNION ALL ",
    resume_arm!("0", "directory_bytes = $1 AND host IS NULL"),
    " UNION ALL ",
    resume_arm!("1", "repository = $5 AND repository_folder_bytes = $6"),
    " UNION ALL ",
    resume_arm!("2", "git_root_bytes = $3 AND host = $4"),
    " UNION ALL ",
    resume_arm!("2", "git_root_bytes = $3 AND host IS NULL"),
    " UNION ALL ",
    resume_arm!("3", "repository = $5"),
    ") AS steps ORDER BY preference, updated_at DESC LIMIT 1"
);

/// The values of [`RESUME_QUERY`]'s parameters, in order.
struct ResumeBinds<'a> {
    directory: &'a [u8],
    /// `updated_at >= since` as the indexes read it: `-updated_at <= -since`.
    since_negated: i64,
    git_root: Option<&'a [u8]>,
    host: Option<&'a str>,
    repository: Option<&'a str>,
    repository_folder: Option<&'a [u8]>,
}

impl<'a> ResumeBinds<'a> {
    fn of(query: &'a ResumeQuery) -> Self {
        Self {
            directory: path_bytes(&query.directory),
            since_negated: query.updated_since_ms.unwrap_or(i64::MIN).saturating_neg(),
            git_root: query.git_root.as_deref().map(path_bytes),
            host: query.location.host.as_deref(),
            repository: query.location.repository.as_deref(),
            repository_folder: query.location.repository_folder.as_deref().map(path_bytes),
        }
    }
}

impl PostgresSessionService {
    pub(super) async fn find_resumable_row(&self, query: &ResumeQuery) -> Result<Option<Session>> {
        let binds = ResumeBinds::of(query);
        sqlx::query_as::<_, SessionRow>(RESUME_QUERY)
            .bind(binds.directory)
            .bind(binds.since_negated)
            .bind(binds.git_root)
            .bind(binds.host)
            .bind(binds.repository)
            .bind(binds.repository_folder)
            .fetch_optional(self.pool())
            .await
            .map_err(|err| self.map_err(err))?
            .map(SessionRow::into_session)
            .transpose()
    }

    /// PostgreSQL's plan for the resume lookup (`EXPLAIN`), one line per node, for tests
    /// that check each arm stays a seek of its own index.
    #[cfg(feature = "test-support")]
    pub async fn resume_lookup_plan(&self, query: &ResumeQuery) -> Result<Vec<String>> {
        let binds = ResumeBinds::of(query);
        sqlx::query_scalar(&format!("EXPLAIN {RESUME_QUERY}"))
            .bind(binds.directory)
            .bind(binds.since_negated)
            .bind(binds.git_root)
            .bind(binds.host)
            .bind(binds.repository)
            .bind(binds.repository_folder)
            .fetch_all(self.pool())
            .await
            .map_err(|err| self.map_err(err))
    }

    pub(super) async fn record_location_row(&self, session: &Session) -> Result<()> {
        let result = sqlx::query(
            "UPDATE sessions SET directory_bytes = $1, directory = $2, git_root_bytes = $3, \
             git_root = $4, host = $5, repository = $6, repository_folder_bytes = $7 \
             WHERE id = $8",
        )
        .bind(path_bytes(&session.directory))
        .bind(path_text(&session.directory))
        .bind(session.git_root.as_deref().map(path_bytes))
        .bind(session.git_root.as_deref().map(path_text))
        .bind(session.location.host.as_deref())
        .bind(session.location.repository.as_deref())
        .bind(
            session
                .location
                .repository_folder
                .as_deref()
                .map(path_bytes),
        )
        .bind(session.id.to_string())
        .execute(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        if result.rows_affected() == 0 {
            return Err(ServiceError::NotFound(session.id));
        }
        Ok(())
    }
}
