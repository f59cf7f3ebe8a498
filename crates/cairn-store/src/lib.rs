//! Cairn's session storage: [`SqliteSessionService`], the [`SessionService`] kept in one
//! SQLite file per user (the default), and [`PostgresSessionService`], the same on a
//! PostgreSQL server several machines share.
//!
//! Invariants this crate keeps, beyond those of the trait:
//! - The schema comes only from the embedded `migrations/sqlite/` or `migrations/postgres/`
//!   (the same table and column names in both); a store written by a newer build (a migration
//!   version this build does not know), a corrupt file or a database that is not a Cairn
//!   store is refused before anything is written to it.
//! - The database, its `-wal` and `-shm` files are mode 0600 and a directory we create 0700,
//!   whatever the umask.
//! - Listing and the resume lookup read only the `sessions` table (its counters are kept on
//!   every append) through indexes, so their cost does not grow with the number of events.
//!
//! With the `test-support` feature, [`pg_test_cluster`] starts a throwaway PostgreSQL cluster
//! for tests. With the `conformance` feature, [`conformance`] holds the behaviour suite every
//! [`SessionService`] backend must pass, and [`conformance_tests!`] runs all of it against a
//! backend in one line.
//!
//! [`SessionService`]: cairn_core::SessionService

#[cfg(feature = "conformance")]
pub mod conformance;
mod open;
#[cfg(feature = "test-support")]
pub mod pg_test_cluster;
mod postgres;
mod search_results;
mod sqlite;
mod transfer;
mod turn_rows;

pub use open::{Access, describe_store, open_store};
pub use postgres::{DEFAULT_CONNECT_TIMEOUT, PostgresSessionService};
pub use sqlite::SqliteSessionService;
