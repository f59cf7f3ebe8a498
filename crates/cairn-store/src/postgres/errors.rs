//! PostgreSQL's errors in the store's terms: which [`ServiceError`] a caller can act on, with
//! a message that names the server (`host:port/database`, never the password) and says what
//! happened in words.

use cairn_core::ServiceError;

/// What every message about a failed request adds: a transaction that fails writes nothing.
const NOTHING_WRITTEN: &str = "Nothing was written.";

/// Sorts a sqlx error into the [`ServiceError`] a caller can act on. `location` is the
/// server's `host:port/database`.
///
/// Unavailable (retry later): the server cannot be reached, refuses the login, is shutting
/// down or out of connections, the database does not exist (yet), or the transaction lost a
/// serialization race. Everything else is a storage failure.
pub(crate) fn map_pg_error(location: &str, err: sqlx::Error) -> ServiceError {
    let unavailable = |reason: String, err: sqlx::Error| ServiceError::Unavailable {
        message: format!(
            "the session store postgres {location} is unavailable: {reason}. {NOTHING_WRITTEN}"
        ),
        cause: Some(Box::new(err)),
    };
    match &err {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
            let detail = db.message().to_owned();
            match code.as_str() {
                // Connection exceptions, insufficient resources (disk full, too many
                // connections), operator intervention (shutdown, starting up), login refused.
                code if ["08", "53", "57", "28"]
                    .iter()
                    .any(|class| code.starts_with(class)) =>
                {
                    unavailable(detail, err)
                }
                "3D000" => unavailable(
                    format!("{detail} (create it, or fix the database name in the store url)"),
                    err,
                ),
                // Serialization failure and deadlock: the transaction was rolled back.
                "40001" | "40P01" => unavailable(detail, err),
                "25006" => ServiceError::Storage {
                    message: format!(
                        "the session store postgres {location} is read-only ({detail}): sessions can be read but nothing can be saved. {NOTHING_WRITTEN}"
                    ),
                    cause: Some(Box::new(err)),
                },
                _ => ServiceError::Storage {
                    message: format!("postgres {location}: {detail} (SQLSTATE {code})"),
                    cause: Some(Box::new(err)),
                },
            }
        }
        sqlx::Error::Io(io) => unavailable(io.to_string(), err),
        sqlx::Error::Tls(tls) => unavailable(format!("TLS failed: {tls}"), err),
        sqlx::Error::PoolTimedOut => unavailable("no connection could be made in time".into(), err),
        sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => {
            unavailable("the connection was closed".into(), err)
        }
        sqlx::Error::Protocol(detail) => {
            let detail = detail.clone();
            unavailable(format!("the connection broke ({detail})"), err)
        }
        _ => ServiceError::Storage {
            message: format!("postgres {location}: {err}"),
            cause: Some(Box::new(err)),
        },
    }
}
