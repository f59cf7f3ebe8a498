//! The `[store]` table: where sessions are kept. No `url` means the local SQLite file
//! (`db_path`); a `postgres://` url means a PostgreSQL server that several machines can
//! share. `CAIRN_STORE_URL` in the environment wins over the file.
//!
//! Invariant: the url may hold a password, so it is never part of an error message and its
//! `Debug` form hides the password; what is shown to people is only host, port and database.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, MAX_TIMEOUT_SECS};

/// The environment variable that names the store, winning over `[store] url`.
pub const STORE_URL_VARIABLE: &str = "CAIRN_STORE_URL";

/// The `[store]` table as written in the file, and as resolved with the environment.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StoreConfig {
    /// `postgres://user@host:5432/database?sslmode=require`; `None` for the local SQLite file.
    pub url: Option<String>,
    /// Seconds to wait for the server before giving up (default 5).
    pub connect_timeout_secs: Option<u64>,
}

impl StoreConfig {
    /// How long to wait for the server.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(
            self.connect_timeout_secs
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS),
        )
    }
}

/// What `connect_timeout_secs` is when unset.
pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 5;

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreConfig")
            .field("url", &self.url.as_deref().map(without_password))
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// `url` with any password between `//user:` and `@` replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) if credentials.contains(':') => {
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        _ => url.to_owned(),
    }
}

/// Whether `url` names a PostgreSQL server, the only kind of store url there is.
fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Checks the file's `[store]` table; `invalid(key, message)` makes the error at the key.
pub(super) fn validate(
    store: &StoreConfig,
    invalid: &dyn Fn(&str, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    if store
        .url
        .as_deref()
        .is_some_and(|url| !is_postgres_url(url))
    {
        return Err(invalid(
            "store.url",
            "must start with postgres:// (leave it out to use the local SQLite file)",
        ));
    }
    if store
        .connect_timeout_secs
        .is_some_and(|secs| !(1..=MAX_TIMEOUT_SECS).contains(&secs))
    {
        return Err(invalid(
            "store.connect_timeout_secs",
            &format!("must be from 1 to {MAX_TIMEOUT_SECS} seconds (a day)"),
        ));
    }
    Ok(())
}

/// The file's table with `CAIRN_STORE_URL` applied: set and not empty, it wins.
pub(super) fn resolve(
    file: Option<StoreConfig>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<StoreConfig, ConfigError> {
    let mut store = file.unwrap_or_default();
    if let Some(url) = env(STORE_URL_VARIABLE).filter(|url| !url.trim().is_empty()) {
        if !is_postgres_url(&url) {
            return Err(ConfigError {
                file: None,
                line: None,
                key: Some(STORE_URL_VARIABLE.to_owned()),
                message: "must start with postgres:// (unset it to use the local SQLite file)"
                    .to_owned(),
            });
        }
        store.url = Some(url);
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_file_is_checked_at_the_key() {
        let path = std::path::Path::new("config.toml");
        let err = super::super::parse_file("[store]\nurl = \"sqlite://x\"\n", path).unwrap_err();
        assert_eq!((err.line, err.key.as_deref()), (Some(2), Some("store.url")));
        let err =
            super::super::parse_file("[store]\nconnect_timeout_secs = 0\n", path).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("store.connect_timeout_secs"));
        let (_, warnings) =
            super::super::parse_file("[store]\nurll = \"postgres://h/c\"\n", path).unwrap();
        assert_eq!(warnings[0].key, "store.urll");
        let (file, _) = super::super::parse_file(
            "[store]\nurl = \"postgres://ann@h:5433/c\"\nconnect_timeout_secs = 3\n",
            path,
        )
        .unwrap();
        assert_eq!(
            file.store,
            Some(StoreConfig {
                url: Some("postgres://ann@h:5433/c".into()),
                connect_timeout_secs: Some(3),
            })
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let store = StoreConfig {
            url: Some("postgres://ann:hunter2@db.example:5432/cairn?sslmode=require".into()),
            connect_timeout_secs: None,
        };
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("postgres://ann:***@db.example:5432/cairn?sslmode=require"),
            "{shown}"
        );
        assert_eq!(
            without_password("postgres://ann@db/cairn"),
            "postgres://ann@db/cairn"
        );
    }

    #[test]
    fn the_environment_wins_and_must_be_a_postgres_url() {
        let file = StoreConfig {
            url: Some("postgres://file/cairn".into()),
            connect_timeout_secs: Some(9),
        };
        let env = |key: &str| (key == STORE_URL_VARIABLE).then(|| "postgresql://env/c".to_owned());
        let resolved = resolve(Some(file.clone()), &env).unwrap();
        assert_eq!(resolved.url.as_deref(), Some("postgresql://env/c"));
        assert_eq!(resolved.connect_timeout(), Duration::from_secs(9));

        let env = |key: &str| (key == STORE_URL_VARIABLE).then(|| "mysql://x:pw@h/c".to_owned());
        let err = resolve(Some(file), &env).unwrap_err();
        assert_eq!(err.key.as_deref(), Some(STORE_URL_VARIABLE));
        assert!(!err.to_string().contains("pw@"), "{err}");

        let unset = resolve(None, &|_: &str| None).unwrap();
        assert_eq!(unset, StoreConfig::default());
        assert_eq!(unset.connect_timeout(), Duration::from_secs(5));
    }
}
