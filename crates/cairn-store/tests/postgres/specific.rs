//! Behaviour only the PostgreSQL backend has: the connect timeout and its errors, passwords,
//! refusing databases it must not touch, writers on several pools, rows the trait cannot
//! write.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::{ServiceError, SessionService};
use cairn_store::PostgresSessionService;
use cairn_store::conformance::{assistant, chain, session, store, user};
use cairn_store::pg_test_cluster::{PASSWORD, fresh_database};
use pretty_assertions::assert_eq;
use sqlx::Connection;

use super::open;

/// How long the tests let a connection attempt take; short, so a hang shows quickly.
const TIMEOUT: Duration = Duration::from_secs(2);
/// What a caller may wait beyond the timeout before the error is in its hands.
const SLACK: Duration = Duration::from_secs(3);

async fn open_error(url: &str) -> ServiceError {
    match PostgresSessionService::open(url, TIMEOUT).await {
        Ok(_) => panic!("opening {url} should have failed"),
        Err(err) => err,
    }
}

async fn tables(connection: &mut sqlx::PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(connection)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_schema_from_a_newer_cairn_is_refused_and_untouched() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let service: Arc<dyn SessionService> = Arc::new(open(&database).await);
    let first = session("here", None, 1_000);
    store(
        &service,
        &first,
        &chain(&first, None, 1_000, vec![user("q")]),
    )
    .await;
    let mut admin = database.admin_connection().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (90001, 'from the future', true, '\\x00', 1)",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let before: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, description FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut admin)
            .await
            .unwrap();

    let err = open_error(&database.admin_url()).await;
    let ServiceError::Incompatible {
        location, reason, ..
    } = &err
    else {
        panic!("expected Incompatible, got {err:?}");
    };
    assert_eq!(
        location,
        &format!("postgres 127.0.0.1:{}/{}", database.port, database.name)
    );
    assert!(reason.contains("schema version 90001"), "{reason}");
    assert!(reason.contains("Nothing was changed"), "{reason}");

    let after: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, description FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut admin)
            .await
            .unwrap();
    assert_eq!(after, before);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(sessions, 1);
}

#[tokio::test]
async fn another_programs_database_is_refused_and_untouched() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let mut admin = database.admin_connection().await;
    sqlx::query("CREATE TABLE invoices (id BIGINT PRIMARY KEY)")
        .execute(&mut admin)
        .await
        .unwrap();

    let err = open_error(&database.admin_url()).await;
    assert!(
        matches!(&err, ServiceError::Incompatible { reason, .. }
            if reason.contains("not a Cairn store") && reason.contains("invoices")),
        "{err:?}"
    );
    assert_eq!(tables(&mut admin).await, vec!["invoices".to_owned()]);
}

#[tokio::test]
async fn a_stopped_server_is_unavailable_naming_host_and_reason() {
    if fresh_database().await.is_none() {
        return;
    }
    // A port nobody listens on: what a stopped server looks like.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let err = open_error(&format!("postgres://someone@127.0.0.1:{port}/cairn")).await;
    assert!(started.elapsed() < TIMEOUT + SLACK);
    let ServiceError::Unavailable { message, .. } = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(
        message.starts_with(&format!(
            "the session store postgres 127.0.0.1:{port}/cairn is unavailable: "
        )),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_connect_timeout() {
    if fresh_database().await.is_none() {
        return;
    }
    // Accepts connections (the kernel does, into the backlog) and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let started = Instant::now();
    let err = open_error(&format!("postgres://someone@127.0.0.1:{port}/cairn")).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= TIMEOUT && elapsed < TIMEOUT + SLACK,
        "{elapsed:?}"
    );
    assert!(
        matches!(&err, ServiceError::Unavailable { message, .. }
            if message.contains(&format!("127.0.0.1:{port}/cairn"))
                && message.contains("no answer within 2 s")),
        "{err:?}"
    );
    drop(silent);
}

#[tokio::test]
async fn an_unknown_host_is_unavailable_naming_it() {
    if fresh_database().await.is_none() {
        return;
    }
    let started = Instant::now();
    let err = open_error("postgres://someone@no-such-host.invalid:5432/cairn").await;
    assert!(started.elapsed() < TIMEOUT + SLACK);
    assert!(
        matches!(&err, ServiceError::Unavailable { message, .. }
            if message.contains("no-such-host.invalid:5432/cairn")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_password_in_the_url_logs_in_and_a_wrong_one_is_never_shown() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let service = PostgresSessionService::open(&database.user_url_with_password(), TIMEOUT)
        .await
        .unwrap();
    assert_eq!(
        service.location(),
        format!("127.0.0.1:{}/{}", database.port, database.name)
    );
    assert_eq!(
        PostgresSessionService::location_of_url(&database.user_url_with_password()),
        Some(service.location().to_owned())
    );

    let wrong = database
        .user_url()
        .replace("cairn_user@", "cairn_user:wrong-horse-battery@");
    let err = open_error(&wrong).await;
    let ServiceError::Unavailable { message, .. } = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("wrong-horse-battery"), "{message}");
    assert!(!format!("{err:?}").contains(PASSWORD));
}

#[tokio::test]
async fn concurrent_writers_on_several_pools_lose_nothing() {
    let Some(database) = fresh_database().await else {
        return;
    };
    const WRITERS: usize = 4;
    const APPENDS: usize = 15;
    let first_service: Arc<dyn SessionService> = Arc::new(open(&database).await);
    let first = session("shared", None, 1_000);
    store(
        &first_service,
        &first,
        &chain(&first, None, 1_000, vec![user("start")]),
    )
    .await;

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        // A pool of its own, as another process or machine would have.
        let service = open(&database).await;
        let first = first.clone();
        writers.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for append in 0..APPENDS {
                loop {
                    let head = service
                        .load_session(first.id)
                        .await
                        .unwrap()
                        .session
                        .head_id;
                    let text = format!("writer {writer} answer {append}");
                    let events = chain(&first, head, 2_000, vec![assistant(&text)]);
                    match service.append_events(first.id, head, &events).await {
                        Ok(()) => break,
                        Err(ServiceError::Conflict { .. }) => conflicts += 1,
                        Err(err) => panic!("writer {writer}: {err}"),
                    }
                }
            }
            conflicts
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }

    let loaded = first_service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events.len(), 1 + WRITERS * APPENDS);
    assert_eq!(loaded.off_branch_events, 0);
    let listed = first_service
        .list_sessions(&Default::default())
        .await
        .unwrap();
    assert_eq!(listed[0].message_count, (1 + WRITERS * APPENDS) as u64);
}

#[tokio::test]
async fn unknown_event_type_mid_chain_is_walked_through_and_reported() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let service: Arc<dyn SessionService> = Arc::new(open(&database).await);
    let first = session("here", None, 1_000);
    let events = chain(&first, None, 1_000, vec![user("q"), assistant("a")]);
    store(&service, &first, &events).await;

    // A newer build wrote an event of a type this one does not know, then one it does.
    let mut admin = database.admin_connection().await;
    let hologram_id = cairn_core::EventId::new();
    sqlx::query(
        "INSERT INTO session_events VALUES ($1, $2, $3, $4, 'hologram', '{\"beam\":1}', 2000)",
    )
    .bind(hologram_id.to_string())
    .bind(first.id.to_string())
    .bind(events[1].id.to_string())
    .bind(events[1].invocation_id.to_string())
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("UPDATE sessions SET head_id = $1 WHERE id = $2")
        .bind(hologram_id.to_string())
        .bind(first.id.to_string())
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let after = chain(&first, Some(hologram_id), 3_000, vec![user("still here")]);
    service
        .append_events(first.id, Some(hologram_id), &after)
        .await
        .unwrap();

    let loaded = service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events, [events, after].concat());
    assert_eq!(loaded.off_branch_events, 0);
    assert_eq!(
        loaded.warnings,
        vec!["skipped 1 event of unknown type `hologram` (written by a newer Cairn?)".to_owned()]
    );
}

#[tokio::test]
async fn messages_stored_before_search_existed_are_indexed_in_batches() {
    use cairn_core::search::{SearchQuery, SearchRequest};
    let Some(database) = fresh_database().await else {
        return;
    };
    let service: Arc<dyn SessionService> = Arc::new(open(&database).await);
    let first = session("here", None, 1_000);
    let events = chain(
        &first,
        None,
        1_000,
        vec![
            user("how do I undo a commit"),
            assistant("git reset --soft HEAD~1"),
        ],
    );
    store(&service, &first, &events).await;
    // As a database migrated from before search: no index rows, everything to do.
    let mut admin = database.admin_connection().await;
    sqlx::query("DELETE FROM search_entries")
        .execute(&mut admin)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE search_backfill SET after_id = '', indexed = 0, \
         total = (SELECT count(*) FROM session_events)",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let request = |query: &str| SearchRequest {
        query: SearchQuery::parse(query).unwrap(),
        workspace: None,
        include_archived: true,
        limit: 10,
    };
    assert!(service.search(&request("undo")).await.unwrap().is_empty());

    let first_batch = service.index_for_search(1).await.unwrap();
    assert_eq!((first_batch.indexed, first_batch.total), (1, 2));
    let mut last = first_batch;
    for _ in 0..5 {
        last = service.index_for_search(1).await.unwrap();
        if last.is_done() {
            break;
        }
    }
    assert!(last.is_done(), "{last:?}");
    let hits = service.search(&request("undo commit")).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].snippets[0].text, "how do I undo a commit");
    assert_eq!(
        service
            .search(&request("\"soft HEAD\""))
            .await
            .unwrap()
            .len(),
        1
    );

    // Nothing is indexed twice.
    assert!(service.index_for_search(100).await.unwrap().is_done());
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM search_entries")
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(rows, 2);
    admin.close().await.unwrap();
}

/// The resume lookup stays one seek per step when the workspace holds thousands of sessions,
/// all older than the rest of the window (a big project not touched today). The planner used
/// to walk `sessions_by_updated_at` backwards there, reading every session of the window.
#[tokio::test]
async fn the_resume_lookup_seeks_its_own_indexes_in_a_big_old_workspace() {
    use cairn_core::Location;
    use cairn_core::service::ResumeQuery;

    let Some(database) = fresh_database().await else {
        return;
    };
    let service = open(&database).await;
    let mut admin = database.admin_connection().await;
    // 5,000 sessions in /big (no host: stored before hosts were recorded), then 3,000 newer
    // ones spread over other folders.
    sqlx::query(
        "INSERT INTO sessions (id, directory, directory_bytes, title, created_at, updated_at, \
             message_count, model_event_count, preview) \
         SELECT '00000000-0000-7000-8000-' || lpad(to_hex(s), 12, '0'), d, convert_to(d, 'UTF8'), \
             'session ' || s, 1000 + s, 1000 + s, 2, 2, '' \
         FROM generate_series(0::bigint, 7999) AS s, \
             LATERAL (SELECT CASE WHEN s < 5000 THEN '/big' ELSE '/small-' || (s % 300) END AS d) AS dir",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("ANALYZE sessions")
        .execute(&mut admin)
        .await
        .unwrap();

    let query = ResumeQuery {
        directory: "/big".into(),
        git_root: Some("/big".into()),
        location: Location {
            host: Some("laptop".to_owned()),
            repository: Some("example.com/big".to_owned()),
            repository_folder: Some("".into()),
        },
        updated_since_ms: Some(1000),
    };
    let found = service.find_resumable(&query).await.unwrap().unwrap();
    assert_eq!(found.title, "session 4999");

    let plan = service.resume_lookup_plan(&query).await.unwrap();
    let plan_text = plan.join("\n");
    assert!(
        !plan_text.contains("sessions_by_updated_at") && !plan_text.contains("Seq Scan"),
        "{plan_text}"
    );
    let seeks = plan
        .iter()
        .filter(|line| line.contains("Index Scan using sessions_resume_by_"))
        .count();
    assert_eq!(seeks, 6, "{plan_text}");
}

/// A resumed chat reads the newest events of a long session by walking back from the head;
/// each step must be a primary-key lookup even in the generic plan a connection caches
/// after five loads, never a read of every event of the session through its index.
#[tokio::test]
async fn the_newest_events_are_read_by_primary_key_in_a_long_session() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let service = open(&database).await;
    let session = session("/long", None, 1_000);
    let kinds = (0..3_000)
        .map(|n| {
            if n % 2 == 0 {
                user(&format!("question {n}"))
            } else {
                assistant(&format!("answer {n}"))
            }
        })
        .collect();
    let events = chain(&session, None, 1_000, kinds);
    // Created in one go: `store` sets the head to the last event.
    let service_dyn: Arc<dyn SessionService> = Arc::new(service.clone());
    store(&service_dyn, &session, &events).await;
    let mut admin = database.admin_connection().await;
    sqlx::query("ANALYZE session_events")
        .execute(&mut admin)
        .await
        .unwrap();

    let recent = service.load_recent(session.id, 200).await.unwrap();
    assert_eq!(recent.events[..], events[2_800..]);
    assert!(recent.has_earlier);

    let plan = service.recent_chain_plan(session.id, 201).await.unwrap();
    let plan_text = plan.join("\n");
    assert!(
        !plan_text.contains("session_events_by_session")
            && !plan_text.contains("Seq Scan on session_events"),
        "{plan_text}"
    );
    assert!(plan_text.contains("session_events_pkey"), "{plan_text}");
    // The connection that planned went back to the pool as it was.
    assert_eq!(
        service.load_recent(session.id, 200).await.unwrap().events,
        recent.events
    );
}
