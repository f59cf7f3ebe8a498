//! The backend conformance suite against [`SqliteSessionService`], each behaviour on its own
//! fresh database file.

// A failure to set up a fresh database is the test's failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use cairn_store::SqliteSessionService;
use cairn_store::conformance::Service;

cairn_store::conformance_tests!(async || {
    let directory = tempfile::tempdir().unwrap();
    let service = SqliteSessionService::open(&directory.path().join("sessions.db"))
        .await
        .unwrap();
    (directory, Arc::new(service) as Service)
});
