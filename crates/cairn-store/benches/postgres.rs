//! The PostgreSQL store's hot paths on a generated database of 100,000 sessions and
//! 1,000,000 events (each message in the search index too), one workspace holding 50,000 of
//! the sessions and one session holding 10,000 events, the same shape as the SQLite
//! benchmark's, on the throwaway test cluster over loopback TCP.
//!
//! The data is generated with `generate_series` at every run (about a minute): the cluster
//! lives only as long as the benchmark process. Without PostgreSQL
//! installed the benchmark says so and measures nothing.

// Setup failures abort the benchmark run; there is no user to show a message to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_core::Location;
use cairn_core::service::ResumeQuery;
use cairn_core::{Event, EventId, EventKind, InvocationId, SessionId, SessionService};
use cairn_store::pg_test_cluster::{TestDatabase, fresh_database};
use cairn_store::{DEFAULT_CONNECT_TIMEOUT, PostgresSessionService};
use criterion::{Criterion, criterion_group, criterion_main};

const SESSIONS: i64 = 100_000;
const EVENTS: i64 = 1_000_000;
const BIG_WORKSPACE_SESSIONS: i64 = 50_000;
const LONG_SESSION_EVENTS: i64 = 10_000;
const SMALL_WORKSPACES: i64 = 500;
const BASE_MS: i64 = 1_700_000_000_000;
/// The session with 10,000 events: the newest of the big workspace.
const LONG_SESSION: i64 = BIG_WORKSPACE_SESSIONS - 1;

/// The machine the lookups run on. The generated sessions record no host (as if stored
/// before hosts were), which every machine takes as its own.
fn bench_location() -> Location {
    Location {
        host: Some("bench".to_owned()),
        repository: None,
        repository_folder: None,
    }
}

fn uuid_of(n: i64) -> String {
    format!("{:08x}-0000-7000-8000-{n:012x}", n >> 16)
}

/// SQL for [`uuid_of`], `n` being a `bigint` expression.
fn uuid_sql(n: &str) -> String {
    format!(
        "(lpad(to_hex(({n}) >> 16), 8, '0') || '-0000-7000-8000-' || lpad(to_hex({n}), 12, '0'))"
    )
}

/// Fills the database with the same shape of data as the SQLite benchmark, smaller.
async fn generate(database: &TestDatabase) {
    let started = Instant::now();
    let mut conn = database.admin_connection().await;
    let other_sessions = SESSIONS - 1;
    let short_events = EVENTS - LONG_SESSION_EVENTS;
    let slot = format!("(CASE WHEN s < {LONG_SESSION} THEN s ELSE s - 1 END)");
    let last_short =
        format!("({slot} + (({short_events} - 1 - {slot}) / {other_sessions}) * {other_sessions})");
    let head = format!(
        "CASE WHEN s = {LONG_SESSION} THEN {} ELSE {} END",
        uuid_sql(&format!("{SESSIONS} + {EVENTS} - 1")),
        uuid_sql(&format!("{SESSIONS} + {last_short}"))
    );
    let count = format!(
        "CASE WHEN s = {LONG_SESSION} THEN {LONG_SESSION_EVENTS} \
         ELSE ({short_events} - 1 - {slot}) / {other_sessions} + 1 END"
    );
    let directory = format!(
        "CASE WHEN s < {BIG_WORKSPACE_SESSIONS} THEN '/bench/big' ELSE '/bench/small-' || (s % {SMALL_WORKSPACES}) END"
    );
    let git_root = format!("CASE WHEN s < {BIG_WORKSPACE_SESSIONS} THEN '/bench/repo' END");
    let sessions = format!(
        "INSERT INTO sessions (id, directory, git_root, directory_bytes, git_root_bytes, head_id, \
             title, created_at, updated_at, archived_at, message_count, model_event_count, preview) \
         SELECT {id}, {directory}, {git_root}, convert_to({directory}, 'UTF8'), \
             convert_to({git_root}, 'UTF8'), {head}, 'session ' || s, \
             {BASE_MS} + s * 1000, {BASE_MS} + s * 1000 + 500, \
             CASE WHEN s % 10 = 3 THEN {BASE_MS} + s * 1000 + 900 END, \
             {count}, {count}, 'question ' || s \
         FROM generate_series(0::bigint, {SESSIONS} - 1) AS s",
        id = uuid_sql("s"),
    );
    let owner = format!(
        "(CASE WHEN k % {other_sessions} < {LONG_SESSION} THEN k % {other_sessions} ELSE k % {other_sessions} + 1 END)"
    );
    let short = format!(
        "INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) \
         SELECT {id}, {session}, CASE WHEN k >= {other_sessions} THEN {parent} END, {invocation}, \
             CASE WHEN k % 2 = 0 THEN 'user_message' ELSE 'assistant_message' END, \
             '{{\"text\":\"message ' || k || ' with a few words of text in it\"}}', {BASE_MS} + k \
         FROM generate_series(0::bigint, {short_events} - 1) AS k",
        id = uuid_sql(&format!("{SESSIONS} + k")),
        session = uuid_sql(&owner),
        parent = uuid_sql(&format!("{SESSIONS} + k - {other_sessions}")),
        invocation = uuid_sql("7"),
    );
    let long = format!(
        "INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) \
         SELECT {id}, {session}, CASE WHEN k > {short_events} THEN {parent} END, {invocation}, \
             CASE WHEN k % 2 = 0 THEN 'user_message' ELSE 'assistant_message' END, \
             '{{\"text\":\"message ' || k || ' of the long session, a little longer than the others so it looks like a real answer\"}}', \
             {BASE_MS} + k \
         FROM generate_series({short_events}::bigint, {EVENTS} - 1) AS k",
        id = uuid_sql(&format!("{SESSIONS} + k")),
        session = uuid_sql(&LONG_SESSION.to_string()),
        parent = uuid_sql(&format!("{SESSIONS} + k - 1")),
        invocation = uuid_sql("7"),
    );
    // Every message in the search index, so appends update a full-size GIN index.
    let search = "INSERT INTO search_entries (event_id, chunk, session_id, document) \
         SELECT id, 0, session_id, to_tsvector('simple', event_data) FROM session_events";
    for statement in [
        "BEGIN",
        &sessions,
        &short,
        &long,
        search,
        "COMMIT",
        "VACUUM ANALYZE",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    eprintln!(
        "generated {SESSIONS} sessions and {EVENTS} events in {:.1?}",
        started.elapsed()
    );
}

fn bench_postgres(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(fresh_database()) else {
        return;
    };
    let service = runtime
        .block_on(PostgresSessionService::open(
            &database.admin_url(),
            DEFAULT_CONNECT_TIMEOUT,
        ))
        .unwrap();
    runtime.block_on(generate(&database));
    let service: Arc<dyn SessionService> = Arc::new(service);

    // Sanity: the data is what the figures claim.
    let long_id: SessionId = uuid_of(LONG_SESSION).parse().unwrap();
    let long = runtime.block_on(service.load_session(long_id)).unwrap();
    assert_eq!(long.events.len(), LONG_SESSION_EVENTS as usize);
    assert_eq!(long.warnings, Vec::<String>::new());
    let big = ResumeQuery {
        directory: "/bench/big".into(),
        git_root: Some("/bench/repo".into()),
        location: bench_location(),
        updated_since_ms: Some(BASE_MS),
    };
    let found = runtime.block_on(service.find_resumable(&big)).unwrap();
    assert_eq!(found.map(|session| session.id), Some(long_id));

    let mut group = c.benchmark_group("postgres");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    group.bench_function(
        format!("find_resumable/workspace_of_{BIG_WORKSPACE_SESSIONS}"),
        |b| {
            b.to_async(&runtime)
                .iter(|| async { service.find_resumable(&big).await.unwrap() });
        },
    );
    // The same repository on another machine: the big workspace's sessions carry its
    // identity and a laptop with the repository at another path looks them up: step 2 of
    // the policy (the same folder, any machine) answers, and with another folder step 4.
    runtime.block_on(async {
        let mut connection = database.admin_connection().await;
        sqlx::query(
            "UPDATE sessions SET repository = 'example.com/bench/repo', \
             repository_folder_bytes = '' WHERE git_root = '/bench/repo'",
        )
        .execute(&mut connection)
        .await
        .unwrap();
        sqlx::query("ANALYZE sessions")
            .execute(&mut connection)
            .await
            .unwrap();
    });
    let elsewhere = ResumeQuery {
        directory: "/laptop/repo".into(),
        git_root: Some("/laptop/repo".into()),
        location: Location {
            host: Some("laptop".to_owned()),
            repository: Some("example.com/bench/repo".to_owned()),
            repository_folder: Some("".into()),
        },
        updated_since_ms: Some(BASE_MS),
    };
    let other_folder = ResumeQuery {
        directory: "/laptop/repo/docs".into(),
        location: Location {
            repository_folder: Some("docs".into()),
            ..elsewhere.location.clone()
        },
        ..elsewhere.clone()
    };
    for (name, query) in [
        ("find_resumable/same_folder_other_machine", &elsewhere),
        ("find_resumable/repository_other_machine", &other_folder),
    ] {
        let found = runtime.block_on(service.find_resumable(query)).unwrap();
        assert_eq!(found.map(|session| session.id), Some(long_id));
        group.bench_function(name, |b| {
            b.to_async(&runtime)
                .iter(|| async { service.find_resumable(query).await.unwrap() });
        });
    }

    let small = ResumeQuery {
        directory: "/bench/small-7".into(),
        git_root: None,
        location: bench_location(),
        updated_since_ms: Some(BASE_MS),
    };
    group.bench_function("find_resumable/workspace_of_10", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.find_resumable(&small).await.unwrap() });
    });

    group.bench_function(format!("load_session/{LONG_SESSION_EVENTS}_events"), |b| {
        b.to_async(&runtime)
            .iter(|| async { service.load_session(long_id).await.unwrap() });
    });
    // What a resumed chat reads before its first frame; the rest loads behind it.
    let recent = runtime.block_on(service.load_recent(long_id, 200)).unwrap();
    assert_eq!(recent.events[..], long.events[long.events.len() - 200..]);
    group.bench_function(
        format!("load_recent/200_of_{LONG_SESSION_EVENTS}_events"),
        |b| {
            b.to_async(&runtime)
                .iter(|| async { service.load_recent(long_id, 200).await.unwrap() });
        },
    );

    // Appends go to a small session; the head moves with every iteration.
    let target_id: SessionId = uuid_of(SESSIONS - 1).parse().unwrap();
    let head = runtime
        .block_on(service.get_session(target_id))
        .unwrap()
        .unwrap()
        .head_id;
    let head = Arc::new(Mutex::new(head));
    let invocation = InvocationId::new();
    group.bench_function("append_events/one_event", |b| {
        b.to_async(&runtime).iter(|| {
            let service = service.clone();
            let head = head.clone();
            async move {
                let parent = *head.lock().unwrap();
                let event = Event {
                    id: EventId::new(),
                    session_id: target_id,
                    parent_id: parent,
                    invocation_id: invocation,
                    created_at_ms: BASE_MS,
                    kind: EventKind::UserMessage {
                        text: "one more question".to_owned(),
                    },
                };
                service
                    .append_events(target_id, parent, std::slice::from_ref(&event))
                    .await
                    .unwrap();
                *head.lock().unwrap() = Some(event.id);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench_postgres);
criterion_main!(benches);
