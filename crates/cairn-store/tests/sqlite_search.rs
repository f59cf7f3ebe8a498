//! SQLite's search index beyond what the conformance suite asks of every backend: how it is
//! rebuilt when its layout changes (migration 0011), and that it mends a session that has no
//! number in it.

// Tests may unwrap: a failure is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use cairn_core::search::{SearchQuery, SearchRequest};
use cairn_core::{SessionId, SessionService};
use cairn_store::SqliteSessionService;
use cairn_store::conformance::{assistant, chain, session, store, user};
use pretty_assertions::assert_eq;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

async fn raw(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

fn everywhere(query: &str) -> SearchRequest {
    SearchRequest {
        query: SearchQuery::parse(query).unwrap(),
        workspace: None,
        include_archived: true,
        limit: 10,
    }
}

async fn found(service: &Arc<dyn SessionService>, query: &str) -> Vec<SessionId> {
    let mut ids: Vec<SessionId> = service
        .search(&everywhere(query))
        .await
        .unwrap()
        .into_iter()
        .map(|hit| hit.session.id)
        .collect();
    ids.sort();
    ids
}

/// Two sessions: in each, "ferris" and "crab" are said in different messages, so finding
/// them takes the pass that matches words across messages.
async fn two_sessions(service: &Arc<dyn SessionService>) -> Vec<SessionId> {
    let mut ids = Vec::new();
    for (index, directory) in ["/w/one", "/w/two"].into_iter().enumerate() {
        let at_ms = 1_000_000 + index as i64 * 10_000;
        let session = session(directory, None, at_ms);
        let events = chain(
            &session,
            None,
            at_ms,
            vec![user("who is ferris"), assistant("the crab of rust")],
        );
        ids.push(store(service, &session, &events).await.id);
    }
    ids.sort();
    ids
}

/// A database whose index was built before migration 0011 gets it rebuilt: right after the
/// upgrade a search finds only what is indexed again, and once the background indexing is
/// done every message is found, each under its own session.
#[tokio::test]
async fn an_index_built_before_it_named_sessions_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let ids = two_sessions(&service).await;
    assert_eq!(found(&service, "ferris crab").await, ids);
    drop(service);

    // Back to before migration 0011: no session numbers.
    let pool = raw(&path).await;
    for statement in [
        "DROP TRIGGER search_sessions_number_new",
        "DROP TABLE search_sessions",
        "DELETE FROM _sqlx_migrations WHERE version = 11",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    assert!(
        found(&service, "ferris").await.is_empty(),
        "the old index is gone until it is rebuilt"
    );
    let mut progress = service.index_for_search(1).await.unwrap();
    assert!(!progress.is_done(), "{progress:?}");
    while !progress.is_done() {
        progress = service.index_for_search(1).await.unwrap();
    }
    assert_eq!(found(&service, "ferris crab").await, ids);
    assert_eq!(found(&service, "\"crab of rust\"").await, ids);

    // Each search row's id lies in its own session's range.
    let pool = raw(&path).await;
    let misplaced: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM search_entries AS entry JOIN search_sessions AS number \
         ON number.session_id = entry.session_id \
         WHERE entry.id / 2147483648 != number.number",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(misplaced, 0);
}

/// A session that lost its number (a database edited by hand) still gets its new messages
/// indexed: the number is given again, and the append is not refused.
#[tokio::test]
async fn a_session_without_a_number_is_given_one_when_it_is_indexed() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let session = session("/w/lost", None, 5_000);
    let first = chain(&session, None, 5_000, vec![user("hello")]);
    let session = store(&service, &session, &first).await;

    let pool = raw(&path).await;
    sqlx::query("DELETE FROM search_sessions")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let events = chain(
        &session,
        session.head_id,
        6_000,
        vec![user("where is ferris"), assistant("under the crab")],
    );
    service
        .append_events(session.id, session.head_id, &events)
        .await
        .unwrap();
    assert_eq!(found(&service, "ferris crab").await, vec![session.id]);
    assert_eq!(
        found(&service, "\"where is ferris\"").await,
        vec![session.id]
    );
}
