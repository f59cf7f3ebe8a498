//! Connecting to the server: the connect timeout, refusal of databases we must not touch,
//! migrations.
//!
//! Order matters. The first connection is made on its own, under the connect timeout, so an
//! unreachable server fails within it and with the reason (a pool would retry and report
//! only that it timed out). The schema is then looked at before anything is written: a
//! database migrated by a newer Cairn, or one holding other software's tables, is refused
//! exactly as it was. Only an empty database or a Cairn store this build knows is migrated,
//! under sqlx's advisory lock, so two processes opening a new store at once do not collide.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::time::Duration;

use cairn_core::ServiceError;
use cairn_core::service::Result;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::map_pg_error;

static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// One process rarely has more than a couple of requests in flight (the chat's writer and
/// its once-a-second version check); a few connections keep a slow one from blocking them.
const MAX_CONNECTIONS: u32 = 4;

/// How long to wait for the server when the configuration does not say.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The newest schema version this build can read and write.
pub(crate) fn supported_schema_version() -> i64 {
    MIGRATOR
        .iter()
        .map(|migration| migration.version)
        .max()
        .unwrap_or(0)
}

/// Parses a `postgres://` url. Passwords come from the url itself, `PGPASSWORD` or the
/// password file (`~/.pgpass`, or `PGPASSFILE`), which sqlx reads when the url has none.
pub(crate) fn parse_url(url: &str) -> Result<PgConnectOptions> {
    // sqlx's parse errors describe the part that is wrong, never repeat the url (which may
    // hold a password).
    PgConnectOptions::from_str(url).map_err(|err| {
        ServiceError::storage(format!(
            "the store url is not a valid postgres:// url: {err}"
        ))
    })
}

/// Where a store is, for messages and the status line: `host:port/database`, or the socket
/// directory for a local socket. Never the user's password.
pub(crate) fn location_of(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => options.get_host().to_owned(),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!("{host}:{}/{database}", options.get_port())
}

/// Connects, refuses what must not be touched, migrates, and returns a pool.
pub(crate) async fn open_pool(
    options: PgConnectOptions,
    location: &str,
    connect_timeout: Duration,
) -> Result<PgPool> {
    let options = options.application_name("cairn");
    let mut connection = connect(&options, location, connect_timeout).await?;
    let result = prepare_schema(&mut connection, location).await;
    // The check's connection has done its job; a failure to say goodbye is not interesting.
    let _ = connection.close().await;
    result?;
    Ok(PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(connect_timeout)
        .connect_lazy_with(options))
}

async fn connect(
    options: &PgConnectOptions,
    location: &str,
    connect_timeout: Duration,
) -> Result<PgConnection> {
    match tokio::time::timeout(connect_timeout, options.connect()).await {
        Ok(Ok(connection)) => Ok(connection),
        Ok(Err(err)) => Err(map_pg_error(location, err)),
        Err(_) => Err(ServiceError::Unavailable {
            message: format!(
                "the session store postgres {location} is unavailable: no answer within {} s (connect_timeout_secs). Nothing was written.",
                connect_timeout.as_secs_f64()
            ),
            cause: None,
        }),
    }
}

async fn prepare_schema(connection: &mut PgConnection, location: &str) -> Result<()> {
    let has_migrations: bool =
        sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&mut *connection)
            .await
            .map_err(|err| map_pg_error(location, err))?;
    if has_migrations {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations")
            .fetch_all(&mut *connection)
            .await
            .map_err(|err| map_pg_error(location, err))?;
        let known: BTreeSet<i64> = MIGRATOR.iter().map(|migration| migration.version).collect();
        if let Some(unknown) = applied
            .iter()
            .filter(|version| !known.contains(version))
            .max()
        {
            return Err(newer_schema(location, *unknown));
        }
    } else {
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY tablename LIMIT 3",
        )
        .fetch_all(&mut *connection)
        .await
        .map_err(|err| map_pg_error(location, err))?;
        if !tables.is_empty() {
            return Err(ServiceError::Incompatible {
                location: format!("postgres {location}"),
                reason: format!(
                    "is not a Cairn store: it holds other tables ({}, ...) and no Cairn schema. Nothing was changed; point the store url at an empty database of its own.",
                    tables.join(", ")
                ),
                cause: None,
            });
        }
    }
    MIGRATOR
        .run(&mut *connection)
        .await
        .map_err(|err| map_migrate_error(location, err))
}

fn map_migrate_error(location: &str, err: MigrateError) -> ServiceError {
    match err {
        // Applied by a newer build between our check and the migration.
        MigrateError::VersionMissing(found) => newer_schema(location, found),
        MigrateError::Execute(err) | MigrateError::ExecuteMigration(err, _) => {
            map_pg_error(location, err)
        }
        other => ServiceError::Storage {
            message: format!("migrating the session store postgres {location}: {other}"),
            cause: Some(Box::new(other)),
        },
    }
}

/// The database at `location` was migrated by a newer build, to schema version `found`.
fn newer_schema(location: &str, found: i64) -> ServiceError {
    let supported = supported_schema_version();
    ServiceError::Incompatible {
        location: format!("postgres {location}"),
        reason: format!(
            "was written by a newer version of Cairn (schema version {found}, this build knows up to {supported}); upgrade Cairn or point the store url elsewhere. Nothing was changed."
        ),
        cause: None,
    }
}
