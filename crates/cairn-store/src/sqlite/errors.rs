//! SQLite's errors in the store's terms: which [`ServiceError`] a caller can act on, with a
//! message that names the file and says what happened in words.

use std::path::Path;

use cairn_core::ServiceError;
use cairn_core::service::BackendError;

/// SQLite's primary result codes that matter here (the low byte of an extended code).
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_NOTADB: i32 = 26;
/// Extended codes of `SQLITE_IOERR` about the `-shm` file: `SHMOPEN` to `SHMMAP`.
const SQLITE_IOERR_SHM: std::ops::RangeInclusive<i32> =
    (SQLITE_IOERR | (18 << 8))..=(SQLITE_IOERR | (21 << 8));

/// What every message about a failed write adds: a transaction that fails writes nothing,
/// and what was committed before stays.
const NOTHING_LOST: &str = "Nothing saved before was lost; the change being saved was not saved.";

/// Sorts a sqlx error into the [`ServiceError`] a caller can act on, with a message that
/// names the file and says what happened in words: busy (retry later), disk full or failing
/// (retry after freeing space), read-only, damaged (tell the user, touch nothing), anything
/// else.
pub(crate) fn map_sqlx_error(path: &Path, err: sqlx::Error) -> ServiceError {
    let (extended, detail) = match &err {
        sqlx::Error::Database(db) => (
            db.code().and_then(|code| code.parse::<i32>().ok()),
            db.message().to_owned(),
        ),
        _ => (None, err.to_string()),
    };
    let code = extended.map(|code| code & 0xff);
    let shown = path.display();
    let unavailable = |message: String, err| ServiceError::Unavailable {
        message,
        cause: Some(Box::new(err)),
    };
    match (code, &err) {
        (Some(SQLITE_BUSY | SQLITE_LOCKED), _) | (_, sqlx::Error::PoolTimedOut) => {
            unavailable(format!("the session database is busy: {detail}"), err)
        }
        (Some(SQLITE_FULL), _) => unavailable(
            format!(
                "the disk holding the session database {shown} is full ({detail}). {NOTHING_LOST} Free some space and try again."
            ),
            err,
        ),
        (Some(SQLITE_IOERR), _)
            if extended.is_some_and(|code| SQLITE_IOERR_SHM.contains(&code)) =>
        {
            unavailable(
                format!(
                    "could not use {shown}-shm, the session database's shared-memory file ({detail}, code {}): the disk may be full or the file unusable. {NOTHING_LOST} Free some space and try again.",
                    extended.unwrap_or_default()
                ),
                err,
            )
        }
        (Some(SQLITE_IOERR), _) => unavailable(
            format!(
                "could not read or write the session database {shown} ({detail}, code {}): the disk may be full, failing or gone. {NOTHING_LOST}",
                extended.unwrap_or_default()
            ),
            err,
        ),
        (Some(SQLITE_READONLY), _) => ServiceError::Storage {
            message: format!(
                "the session database {shown} is read-only here ({detail}): sessions can be read but nothing can be saved. {NOTHING_LOST}"
            ),
            cause: Some(Box::new(err)),
        },
        (Some(SQLITE_CANTOPEN), _) => ServiceError::Storage {
            message: format!("could not open the session database {shown} ({detail})"),
            cause: Some(Box::new(err)),
        },
        (Some(SQLITE_CORRUPT | SQLITE_NOTADB), _) => unusable(path, &detail, Some(err)),
        _ => ServiceError::Storage {
            message: err.to_string(),
            cause: Some(Box::new(err)),
        },
    }
}

/// The database at `path` is damaged, or not one of Cairn's, for `reason`; it was not touched.
pub(crate) fn unusable(path: &Path, reason: &str, cause: Option<sqlx::Error>) -> ServiceError {
    ServiceError::Incompatible {
        location: path.display().to_string(),
        reason: format!(
            "is not a usable Cairn database ({reason}). The file was left untouched; move it aside to start a new one."
        ),
        cause: cause.map(|err| Box::new(err) as BackendError),
    }
}
