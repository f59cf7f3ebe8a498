//! Choosing the store from the configuration: one function every command uses, so that the
//! chat, `cairn run` and `cairn sessions` always talk to the same sessions.
//!
//! Invariant: with a store url configured, only that server is used. When it cannot be
//! reached the error says so and nothing falls back to the local SQLite file, which would
//! split a user's sessions between two stores without telling them.

use std::sync::Arc;

use cairn_core::SessionService;
use cairn_core::config::Config;
use cairn_core::service::Result;

use crate::{PostgresSessionService, SqliteSessionService};

/// What a command will do with the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    /// Listing and showing only: a local file that cannot be written is opened read-only.
    ReadOnly,
}

/// Opens the store the configuration names: the PostgreSQL server of `[store] url` (or
/// `CAIRN_STORE_URL`), else the local SQLite file at `db_path`.
pub async fn open_store(config: &Config, access: Access) -> Result<Arc<dyn SessionService>> {
    if let Some(url) = &config.store.url {
        let service = PostgresSessionService::open(url, config.store.connect_timeout()).await?;
        return Ok(Arc::new(service));
    }
    let service = match access {
        Access::ReadWrite => SqliteSessionService::open(&config.db_path).await?,
        Access::ReadOnly => SqliteSessionService::open_for_reading(&config.db_path).await?,
    };
    Ok(Arc::new(service))
}

/// The store in words for people: `postgres host:port/database` (never the password) or
/// the SQLite file's path.
pub fn describe_store(config: &Config) -> String {
    match &config.store.url {
        Some(url) => match PostgresSessionService::location_of_url(url) {
            Some(location) => format!("postgres {location}"),
            None => "postgres (the store url does not parse)".to_owned(),
        },
        None => config.db_path.display().to_string(),
    }
}
