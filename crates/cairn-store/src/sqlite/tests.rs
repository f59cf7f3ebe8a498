//! SQLite-only checks of the store: query plans and error messages on real files.

use super::*;
use pretty_assertions::assert_eq;
use resume::RESUME_QUERY;
use rows::{EVENT_CHUNK_ROWS, PACKED_EVENT_CHUNK};

/// The `detail` column of `EXPLAIN QUERY PLAN` for `sql`, with dummy arguments.
async fn plan(service: &SqliteSessionService, sql: &str, args: usize) -> Vec<String> {
    let explain = format!("EXPLAIN QUERY PLAN {sql}");
    let mut query = sqlx::query_as::<_, (i64, i64, i64, String)>(&explain);
    for _ in 0..args {
        query = query.bind("x");
    }
    query
        .fetch_all(&service.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, _, _, detail)| detail)
        .collect()
}

/// The message of the error `sql` fails with on a real database at `path`, written
/// through a connection set up by `setup`.
async fn mapped_failure(path: &Path, read_only: bool, setup: &str, sql: &str) -> ServiceError {
    use sqlx::{ConnectOptions, Connection};
    let mut connection = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(read_only)
        .connect()
        .await
        .unwrap();
    sqlx::query(setup).execute(&mut connection).await.unwrap();
    let err = sqlx::query(sql).execute(&mut connection).await.unwrap_err();
    connection.close().await.unwrap();
    map_sqlx_error(path, err)
}

/// SQLite reports a full disk and a page limit alike, `(code: 13) database or disk is
/// full`; the page limit makes a real one without filling a disk.
#[tokio::test]
async fn a_full_disk_says_so_where_and_that_nothing_was_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    SqliteSessionService::open(&path)
        .await
        .unwrap()
        .close()
        .await;
    let err = mapped_failure(
        &path,
        false,
        "PRAGMA max_page_count = 12",
        "INSERT INTO sessions (id, directory, created_at, updated_at, preview) \
         VALUES ('s', '/', 0, 0, zeroblob(100000))",
    )
    .await;
    let ServiceError::Unavailable { message, .. } = err else {
        panic!("{err:?}");
    };
    assert_eq!(
        message,
        format!(
            "the disk holding the session database {} is full (database or disk is full). Nothing saved before was lost; the change being saved was not saved. Free some space and try again.",
            path.display()
        )
    );
}

#[tokio::test]
async fn writing_a_read_only_database_says_it_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("read-only.db");
    SqliteSessionService::open(&path)
        .await
        .unwrap()
        .close()
        .await;
    let err = mapped_failure(
        &path,
        /*read_only*/ true,
        "SELECT 1",
        "DELETE FROM sessions",
    )
    .await;
    assert_eq!(
        err.to_string(),
        format!(
            "session storage failed: the session database {} is read-only here (attempt to write a readonly database): sessions can be read but nothing can be saved. Nothing saved before was lost; the change being saved was not saved.",
            path.display()
        )
    );
}

/// Where the database cannot be written (a read-only mount), it is opened read-only:
/// reading works and a write says the database is read-only.
#[tokio::test]
async fn a_read_only_database_reads_and_refuses_writes_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("read-only.db");
    let writer = SqliteSessionService::open(&path).await.unwrap();
    let first = crate::conformance::session("here", None, 1);
    let events = crate::conformance::chain(&first, None, 1, vec![crate::conformance::user("q")]);
    writer.create_session(&first, &events).await.unwrap();
    writer.close().await;

    let pool = open::open_read_only_pool(&path).await.unwrap();
    let reader = SqliteSessionService {
        writer: pool.clone(),
        pool,
        path: path.clone(),
    };
    let listed: Vec<SessionId> = reader
        .list_sessions(&SessionFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|summary| summary.session.id)
        .collect();
    assert_eq!(listed, vec![first.id]);
    assert_eq!(reader.load_session(first.id).await.unwrap().events, events);
    let err = reader
        .set_title(first.id, "renamed", cairn_core::title::TitleSource::User, 2)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "session storage failed: the session database {} is read-only here (attempt to write a readonly database): sessions can be read but nothing can be saved. Nothing saved before was lost; the change being saved was not saved.",
            path.display()
        )
    );
    reader.close().await;
}

/// The hot queries are index seeks in index order: no sort, no scan of the table.
#[tokio::test]
async fn hot_queries_use_their_indexes_without_sorting() {
    let dir = tempfile::tempdir().unwrap();
    let service = SqliteSessionService::open(&dir.path().join("plan.db"))
        .await
        .unwrap();

    let resume_plan = plan(&service, RESUME_QUERY, 6).await;
    let searches: Vec<&String> = resume_plan
        .iter()
        .filter(|detail| {
            detail.starts_with("SEARCH sessions") || detail.starts_with("SCAN sessions")
        })
        .collect();
    assert_eq!(
        searches,
        vec![
            "SEARCH sessions USING INDEX sessions_resumable_by_directory (directory_bytes=? AND host=? AND updated_at>?)",
            "SEARCH sessions USING INDEX sessions_resumable_by_directory (directory_bytes=? AND host=? AND updated_at>?)",
            "SEARCH sessions USING INDEX sessions_resumable_by_repository_folder (repository=? AND repository_folder_bytes=? AND updated_at>?)",
            "SEARCH sessions USING INDEX sessions_resumable_by_git_root (git_root_bytes=? AND host=? AND updated_at>?)",
            "SEARCH sessions USING INDEX sessions_resumable_by_git_root (git_root_bytes=? AND host=? AND updated_at>?)",
            "SEARCH sessions USING INDEX sessions_resumable_by_repository (repository=? AND updated_at>?)",
        ],
        "{resume_plan:#?}"
    );
    // The only sorting is of each arm's single candidate row, by preference: every
    // temporary b-tree follows a scan of a one-row subquery, never of the table.
    for (index, detail) in resume_plan.iter().enumerate() {
        if detail.contains("TEMP B-TREE") {
            assert!(
                resume_plan[index - 1].starts_with("SCAN (subquery"),
                "{resume_plan:#?}"
            );
        }
    }
    let all_workspaces = format!(
        "SELECT {} FROM sessions WHERE archived_at IS NULL ORDER BY updated_at DESC LIMIT ?3",
        session_columns!()
    );
    assert_eq!(
        plan(&service, &all_workspaces, 3).await,
        vec!["SCAN sessions USING INDEX sessions_by_updated_at".to_owned()]
    );
    // Loading: each chunk is a seek into the session's rows, in rowid order.
    for chunk_query in [PACKED_EVENT_CHUNK, EVENT_CHUNK_ROWS] {
        assert_eq!(
            plan(&service, chunk_query, 3)
                .await
                .into_iter()
                .filter(|detail| detail.contains("session_events") || detail.contains("B-TREE"))
                .collect::<Vec<_>>(),
            vec![
                "SEARCH session_events USING INDEX session_events_by_session (session_id=? AND rowid>?)"
                    .to_owned()
            ]
        );
    }
    assert_eq!(
        plan(
            &service,
            "SELECT id FROM session_events WHERE session_id = ?1",
            1
        )
        .await,
        vec![
            "SEARCH session_events USING INDEX session_events_by_session (session_id=?)".to_owned()
        ]
    );
}
