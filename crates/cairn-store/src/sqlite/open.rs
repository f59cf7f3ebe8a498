//! Opening the database file: privacy, refusal of files we must not touch, migrations.
//!
//! Order matters. The directory and file are created with private modes before SQLite sees
//! them, so there is no moment when a world-readable database exists. An existing file is
//! checked (SQLite header, then a read-only, immutable look at its schema) before the first
//! read-write connection, because switching a database to WAL or running a migration writes
//! to it: a corrupt file, someone else's database or one written by a newer Cairn stays
//! byte-for-byte as it was.

use std::collections::BTreeSet;
use std::fs::{DirBuilder, OpenOptions, Permissions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use cairn_core::ServiceError;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection};

use super::{map_sqlx_error, unusable};

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Every SQLite 3 database file starts with these bytes.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// The length of a SQLite database file's header.
const DATABASE_HEADER_BYTES: usize = 100;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers run in parallel under WAL; writers queue on SQLite's lock anyway.
const MAX_CONNECTIONS: u32 = 4;
/// The longest absolute database path SQLite opens: its Unix file layer takes paths of up to
/// 512 bytes (`MAX_PATHNAME`), and the database's own path needs room for the longest name
/// SQLite makes from it, `<path>-journal` (measured: 504 opens, 505 does not).
const MAX_PATH_BYTES: usize = 504;
/// How many pages the write-ahead log may hold before a commit copies them into the main
/// file (SQLite's default is 1,000). An append rewrites the same few dozen pages (the
/// session row, the tails of the indexes, the search index's newest segment): copied every
/// thousand pages, each append paid for its own pages again, half its writes, and an
/// `fsync` every thirty appends. At 10,000, a copy covers a few hundred appends and writes
/// each page once. The log (up to 40 MB) is removed when the last connection closes.
const WAL_CHECKPOINT_PAGES: u32 = 10_000;
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

/// The newest schema version this build can read and write.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATOR
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}

/// Databases this process has opened and checked, by canonical path.
///
/// Reading the header opens and closes a file descriptor, and on Unix closing *any*
/// descriptor of a file drops every POSIX lock this process holds on it, those of SQLite's
/// open connections included. Another process could then checkpoint and truncate the WAL
/// under them: the classic way to corrupt a SQLite database. So a file this process may
/// already have open through SQLite is never opened outside SQLite again: its header was
/// checked when first opened. The schema probe goes through SQLite, which shares its
/// descriptors safely, and runs on every open. Entries are never removed: re-reading the
/// header is only a nicety, the lock hazard is not.
static HEADER_CHECKED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// The connections of one open database.
pub(crate) struct Pools {
    /// For reading, and for the few writes that need no transaction of their own.
    pub reader: SqlitePool,
    /// One connection for every write transaction. SQLite lets one writer in at a time
    /// anyway; a connection of its own keeps its page cache, which SQLite throws away
    /// whenever another connection has written since. Taking turns among the reading
    /// connections, each append re-read the pages of every index it touched.
    pub writer: SqlitePool,
}

/// Prepares the file, refuses what must not be touched, connects and migrates.
pub(crate) async fn open_pool(path: &Path) -> Result<Pools, ServiceError> {
    refuse_too_long(path)?;
    // Plain blocking file calls: a handful of syscalls, once per launch.
    let created = create_private_file(path).map_err(|err| io_error(path, "create", err))?;
    let canonical = path
        .canonicalize()
        .map_err(|err| io_error(path, "resolve", err))?;
    if !created {
        let header_checked = HEADER_CHECKED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&canonical);
        if !header_checked {
            refuse_non_sqlite(path)?;
        }
        refuse_foreign_damaged_or_newer(path).await?;
    }

    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        .pragma("wal_autocheckpoint", WAL_CHECKPOINT_PAGES.to_string());
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        // A local file cannot drop a connection the way a network server can; pinging
        // before every checkout would double the cost of the resume lookup.
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(|err| map_sqlx_error(path, err))?;
    // Connected at the first write, so a launch that only reads opens no more files.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .connect_lazy_with(options);

    if let Err(first) = MIGRATOR.run(&pool).await {
        // Two processes opening a new database at once both try the first migration; the
        // loser fails on "table already exists". Running again sees it applied and checks
        // it. Any other failure repeats and is reported.
        tracing::debug!("migration failed, retrying once: {first}");
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|err| map_migrate_error(path, err))?;
    }

    // SQLite gives -wal and -shm the database's mode already; this also tightens a database
    // created by an older build or by hand.
    for file in [
        path.to_path_buf(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ] {
        match std::fs::set_permissions(&file, Permissions::from_mode(FILE_MODE)) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(io_error(&file, "set permissions of", err)),
        }
    }
    HEADER_CHECKED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(canonical);
    Ok(Pools {
        reader: pool,
        writer,
    })
}

/// Refuses, before anything is created, a path longer than SQLite accepts: SQLite would fail
/// to open it after we had made its folders and an empty file.
fn refuse_too_long(path: &Path) -> Result<(), ServiceError> {
    let absolute = std::path::absolute(path).map_err(|err| io_error(path, "resolve", err))?;
    let length = absolute.as_os_str().len();
    if length > MAX_PATH_BYTES {
        return Err(ServiceError::storage(format!(
            "the session database path {} is {length} bytes long, more than the {MAX_PATH_BYTES} SQLite accepts; set a shorter db_path. Nothing was created.",
            path.display()
        )));
    }
    Ok(())
}

/// Creates missing parent directories (0700) and the database file (0600, empty). Returns
/// whether the file was created; an existing file is left alone.
fn create_private_file(path: &Path) -> io::Result<bool> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        let mut missing: Vec<&Path> = parent
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .collect();
        missing.reverse();
        for dir in missing {
            match DirBuilder::new().mode(DIR_MODE).create(dir) {
                // The umask may have taken bits from the mode; say it exactly.
                Ok(()) => std::fs::set_permissions(dir, Permissions::from_mode(DIR_MODE))?,
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(file) => {
            file.set_permissions(Permissions::from_mode(FILE_MODE))?;
            Ok(true)
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Refuses a file that does not start like a SQLite database, or that is shorter than its
/// header says. SQLite itself would take a file shorter than its header for an empty
/// database and write a new one over it.
fn refuse_non_sqlite(path: &Path) -> Result<(), ServiceError> {
    let mut header = Vec::with_capacity(DATABASE_HEADER_BYTES);
    let length = std::fs::File::open(path)
        .and_then(|file| {
            let length = file.metadata()?.len();
            file.take(DATABASE_HEADER_BYTES as u64)
                .read_to_end(&mut header)?;
            Ok(length)
        })
        .map_err(|err| io_error(path, "read", err))?;
    // An empty file is a new database to SQLite (we may have created it and crashed).
    if header.is_empty() {
        return Ok(());
    }
    if !header.starts_with(SQLITE_HEADER) || header.len() < DATABASE_HEADER_BYTES {
        return Err(unusable(path, "it is not a SQLite database", None));
    }
    // With a -wal file a writer may be checkpointing, growing the file behind a header that
    // already counts the new pages; only a file with no -wal must be as long as it says.
    if let Some(expected) = size_in_header(&header)
        && length < expected
        && !sibling(path, "-wal").exists()
    {
        return Err(unusable(
            path,
            &format!("it is truncated: {length} bytes, where its header says {expected}"),
            None,
        ));
    }
    Ok(())
}

/// The database size the 100-byte header states, if it states one: the page size (bytes
/// 16-17, 1 meaning 65536) times the page count (bytes 28-31). SQLite trusts the count only
/// when the change counter (bytes 24-27) equals the "version valid for" number (92-95).
fn size_in_header(header: &[u8]) -> Option<u64> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(header.get(at..at + 4)?.try_into().ok()?))
    };
    let page_size = match u16::from_be_bytes(header.get(16..18)?.try_into().ok()?) {
        1 => 65_536,
        size => u64::from(size),
    };
    let pages = u64::from(word(28)?);
    (pages > 0 && word(24)? == word(92)?).then_some(page_size * pages)
}

/// Refuses, without writing anything, a damaged database, another program's, or one
/// migrated by a newer build.
async fn refuse_foreign_damaged_or_newer(path: &Path) -> Result<(), ServiceError> {
    // With no -wal file beside it the main file holds the whole database, and `immutable`
    // lets SQLite read it taking no locks and creating no -wal/-shm files: a pure reader.
    // With a -wal file (another Cairn is running, or one crashed) the latest pages may be
    // there, so read through SQLite's normal read-only path, which never writes the main
    // file. The immutable read is also repeated that way when it finds damage, in case a
    // writer started in between.
    let live_wal = sibling(path, "-wal").exists();
    let mut result = probe_schema(path, /*immutable*/ !live_wal).await;
    // Only when a -wal file has appeared since: reading through SQLite's normal path creates
    // -wal and -shm files beside a file that had none.
    if !live_wal
        && matches!(result, Err(ServiceError::Incompatible { .. }))
        && sibling(path, "-wal").exists()
    {
        result = probe_schema(path, /*immutable*/ false).await;
    }
    // A -wal file is applied to whatever database it sits beside when its page size fits:
    // another database's (a copy, a restore that missed it) makes this one look damaged or
    // foreign. When the main file alone reads as a Cairn database, the -wal file is to blame.
    if live_wal
        && matches!(result, Err(ServiceError::Incompatible { .. }))
        && matches!(probe_schema(path, /*immutable*/ true).await, Ok(Some(_)))
    {
        return Err(foreign_wal(path));
    }
    match result? {
        Some(found) if found > supported_schema_version() => Err(newer_schema(path, found)),
        Some(_) | None => Ok(()),
    }
}

/// The -wal file beside `path` does not fit the database: it belongs to another one, or is
/// damaged.
fn foreign_wal(path: &Path) -> ServiceError {
    ServiceError::Incompatible {
        location: sibling(path, "-wal").display().to_string(),
        reason: format!(
            "does not belong to the session database {} beside it (it may be another database's, or damaged): the database reads fine without it. Both files were left untouched; if no Cairn is running, move the -wal file aside.",
            path.display()
        ),
        cause: None,
    }
}

/// Whether this process may write the database at `path`, its -wal and -shm files: the file
/// and its folder are writable (`access(2)`, which also sees a read-only mount). A missing
/// file counts as writable: opening creates it, or says why it cannot.
pub(crate) fn can_write(path: &Path) -> bool {
    use rustix::fs::{Access, access};
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        Some(_) | None => Path::new("."),
    };
    match access(path, Access::WRITE_OK) {
        Ok(()) => access(folder, Access::WRITE_OK).is_ok(),
        Err(rustix::io::Errno::NOENT) => true,
        Err(_) => false,
    }
}

/// Opens an existing database that cannot be written, for reading only: checked like any
/// other, never migrated or made private (nothing can be written), and refused when its
/// schema is not the one this build reads.
pub(crate) async fn open_read_only_pool(path: &Path) -> Result<SqlitePool, ServiceError> {
    refuse_too_long(path)?;
    refuse_non_sqlite(path)?;
    refuse_foreign_damaged_or_newer(path).await?;
    let live_wal = sibling(path, "-wal").exists();
    // With no -wal file the main file is the whole database, and reading it `immutable`
    // needs no -shm file, which SQLite could not create where nothing can be written. (A
    // writer elsewhere that starts meanwhile is not seen: these are one-off reads.)
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(!live_wal)
        .create_if_missing(false)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|err| map_sqlx_error(path, err))?;
    let version: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .map_err(|err| map_sqlx_error(path, err))?;
    let supported = supported_schema_version();
    if version != Some(supported) {
        pool.close().await;
        return Err(ServiceError::Storage {
            message: format!(
                "the session database {} is read-only here and was written by an older Cairn (schema version {}, this build reads {supported}); it must be opened once where it can be written, to upgrade it",
                path.display(),
                version.unwrap_or(0)
            ),
            cause: None,
        });
    }
    Ok(pool)
}

/// The newest schema version the database at `path` was migrated to, `None` for an empty
/// database; an error for a damaged database or another program's.
async fn probe_schema(path: &Path, immutable: bool) -> Result<Option<i64>, ServiceError> {
    let mut probe = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .immutable(immutable)
        .create_if_missing(false)
        .connect()
        .await
        .map_err(|err| map_sqlx_error(path, err))?;
    let result = inspect_schema(path, &mut probe).await;
    // Closing a read-only connection writes nothing; its error is not interesting.
    let _ = probe.close().await;
    result
}

async fn inspect_schema(
    path: &Path,
    probe: &mut SqliteConnection,
) -> Result<Option<i64>, ServiceError> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut *probe)
            .await
            .map_err(|err| map_sqlx_error(path, err))?;
    if tables.is_empty() {
        return Ok(None);
    }
    if !tables.iter().any(|table| table == "_sqlx_migrations") {
        return Err(unusable(
            path,
            "it is a SQLite database, but not one of Cairn's",
            None,
        ));
    }
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut *probe)
        .await
        .map_err(|err| map_sqlx_error(path, err))
}

fn map_migrate_error(path: &Path, err: MigrateError) -> ServiceError {
    match err {
        MigrateError::VersionMissing(found) => newer_schema(path, found),
        MigrateError::Execute(err) | MigrateError::ExecuteMigration(err, _) => {
            map_sqlx_error(path, err)
        }
        other => ServiceError::Storage {
            message: format!("migrating {}: {other}", path.display()),
            cause: Some(Box::new(other)),
        },
    }
}

/// The database at `path` was migrated by a newer build, to schema version `found`.
fn newer_schema(path: &Path, found: i64) -> ServiceError {
    let supported = supported_schema_version();
    ServiceError::Incompatible {
        location: path.display().to_string(),
        reason: format!(
            "was written by a newer version of Cairn (schema version {found}, this build knows up to {supported}); upgrade Cairn or point db_path elsewhere. The file was not modified."
        ),
        cause: None,
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_error(path: &Path, doing: &str, err: io::Error) -> ServiceError {
    ServiceError::Storage {
        message: format!("could not {doing} {}: {err}", path.display()),
        cause: Some(Box::new(err)),
    }
}
