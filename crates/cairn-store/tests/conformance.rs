//! The backend conformance suite against [`SqliteSessionService`], each behaviour on its own
//! fresh database file.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use cairn_store::SqliteSessionService;
use cairn_store::conformance::{self, Service};
use tempfile::TempDir;

/// A fresh database in its own temporary directory; keep the directory alive for the test.
async fn fresh() -> (TempDir, Service) {
    let dir = tempfile::tempdir().unwrap();
    let service = SqliteSessionService::open(&dir.path().join("sessions.db"))
        .await
        .unwrap();
    (dir, Arc::new(service))
}

macro_rules! behaviours {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, service) = fresh().await;
                conformance::$name(service).await;
            }
        )*
    };
}

behaviours!(
    create_and_load_round_trip,
    create_refuses_a_taken_id,
    chain_order_follows_links_not_timestamps,
    append_with_current_head_moves_head_and_counts,
    append_with_stale_head_conflicts_and_writes_nothing,
    branch_from_earlier_event_abandons_the_old_tail,
    resume_window_boundary_is_inclusive,
    resume_without_window_finds_old_sessions,
    resume_prefers_exact_directory_over_newer_git_root_sibling,
    resume_falls_back_to_git_root_sibling,
    resume_never_picks_other_workspaces_archived_or_note_only,
    listing_filters_and_orders,
    prefix_lookup_ignores_hyphens_and_case,
    rename_sets_title,
    archive_and_unarchive_keep_updated_at,
    delete_removes_session_and_events,
    unknown_ids_are_not_found,
);

/// `run_all` is what another backend would call; it must work end to end too.
#[tokio::test]
async fn run_all_passes_with_one_database_per_behaviour() {
    let root = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = root.path().join(format!("db-{n}.sqlite"));
        async move {
            let service: Service = Arc::new(SqliteSessionService::open(&path).await.unwrap());
            service
        }
    })
    .await;
    assert_eq!(counter.into_inner(), 17);
}
