//! The backend conformance suite against [`PostgresSessionService`], each behaviour on a
//! fresh database of a throwaway cluster, and what only the PostgreSQL backend has: the
//! connect timeout and its errors, refusing databases it must not touch, passwords, writers
//! on several connections, rows the trait cannot write.
//!
//! Without PostgreSQL installed, every test here prints that it was skipped and passes;
//! `CAIRN_REQUIRE_POSTGRES=1` makes them fail instead.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "postgres/specific.rs"]
mod specific;

use std::sync::Arc;

use cairn_store::conformance::Service;
use cairn_store::pg_test_cluster::{TestDatabase, fresh_database};
use cairn_store::{DEFAULT_CONNECT_TIMEOUT, PostgresSessionService};

async fn open(database: &TestDatabase) -> PostgresSessionService {
    PostgresSessionService::open(&database.admin_url(), DEFAULT_CONNECT_TIMEOUT)
        .await
        .unwrap()
}

cairn_store::conformance_tests!(async || {
    let database = fresh_database().await?;
    let service = open(&database).await;
    Some(((), Arc::new(service) as Service))
});
