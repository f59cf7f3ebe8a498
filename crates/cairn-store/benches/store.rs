//! The store's hot paths on a large database: 100,000 sessions and 1,000,000 events, one
//! workspace holding 50,000 of the sessions and one session holding 10,000 events.
//!
//! What must stay fast whatever the history: the resume lookup at every launch (flat, not
//! growing with the workspace), loading a long session, appending one event.
//!
//! The database is generated once with SQL (recursive CTEs in one transaction) and cached
//! under `target/`; delete `target/cairn-store-bench/` to regenerate.

// Setup failures abort the benchmark run; there is no user to show a message to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_core::Location;
use cairn_core::lease::{AnswerDraft, LEASE_TTL_MS, LeaseHolder};
use cairn_core::search::{SearchQuery, SearchRequest};
use cairn_core::service::ResumeQuery;
use cairn_core::{Event, EventId, EventKind, InvocationId, SessionId, SessionService};
use cairn_store::SqliteSessionService;
use criterion::{Criterion, criterion_group, criterion_main};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

const SESSIONS: i64 = 100_000;
const EVENTS: i64 = 1_000_000;
const BIG_WORKSPACE_SESSIONS: i64 = 50_000;
const LONG_SESSION_EVENTS: i64 = 10_000;
/// Every other session is spread over this many small workspaces.
const SMALL_WORKSPACES: i64 = 5_000;
const BASE_MS: i64 = 1_700_000_000_000;
/// Bump when the generated data changes, so a stale cache is not reused.
const DATA_VERSION: u32 = 3;

/// The session with 10,000 events: the newest of the big workspace.
const LONG_SESSION: i64 = BIG_WORKSPACE_SESSIONS - 1;

/// The canonical uuid text of generated row `n` (sessions and events use distinct ranges).
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

/// SQL for the same text, `n` being an SQL expression.
fn uuid_sql(n: &str) -> String {
    format!("printf('%08x-0000-7000-8000-%012x', ({n}) >> 16, {n})")
}

fn bench_db_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target
        .join("cairn-store-bench")
        .join(format!("sessions-v{DATA_VERSION}.db"))
}

async fn generate(path: &Path) {
    let started = Instant::now();
    let partial = path.with_extension("partial");
    for stale in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", partial.display()));
    }
    // The schema comes from the real migrations.
    SqliteSessionService::open(&partial)
        .await
        .unwrap()
        .close()
        .await;

    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&partial))
        .await
        .unwrap();
    // A throwaway file: no journal, no syncing while it is filled.
    for pragma in [
        "PRAGMA journal_mode = OFF",
        "PRAGMA synchronous = OFF",
        "PRAGMA cache_size = -262144",
    ] {
        sqlx::query(pragma).execute(&mut conn).await.unwrap();
    }

    let other_sessions = SESSIONS - 1;
    let short_events = EVENTS - LONG_SESSION_EVENTS;
    // Session `s`: the first BIG_WORKSPACE_SESSIONS are in /bench/big (git root /bench/repo),
    // the rest in small workspaces. Every session but the long one owns the short events
    // `k` with `k % other_sessions == slot(s)`, chained in `k` order; the long session owns
    // event ids after those. Updated times follow `s`, so the long session is the big
    // workspace's newest.
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
    let sessions = format!(
        "WITH RECURSIVE seq(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM seq WHERE s < {SESSIONS} - 1) \
         INSERT INTO sessions (id, directory, git_root, head_id, title, created_at, updated_at, \
             archived_at, message_count, model_event_count, preview) \
         SELECT {id}, \
             CASE WHEN s < {BIG_WORKSPACE_SESSIONS} THEN '/bench/big' ELSE '/bench/small-' || (s % {SMALL_WORKSPACES}) END, \
             CASE WHEN s < {BIG_WORKSPACE_SESSIONS} THEN '/bench/repo' END, \
             {head}, 'session ' || s, {BASE_MS} + s * 1000, {BASE_MS} + s * 1000 + 500, \
             CASE WHEN s % 10 = 3 THEN {BASE_MS} + s * 1000 + 900 END, \
             {count}, {count}, 'question ' || s \
         FROM seq",
        id = uuid_sql("s"),
    );
    sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
    sqlx::query(&sessions).execute(&mut conn).await.unwrap();
    // Workspaces are matched on the paths' bytes; the generated paths are ASCII.
    sqlx::query(
        "UPDATE sessions SET directory_bytes = CAST(directory AS BLOB), \
         git_root_bytes = CAST(git_root AS BLOB)",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let owner = format!(
        "(CASE WHEN k % {other_sessions} < {LONG_SESSION} THEN k % {other_sessions} ELSE k % {other_sessions} + 1 END)"
    );
    let short = format!(
        "WITH RECURSIVE seq(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM seq WHERE k < {short_events} - 1) \
         INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) \
         SELECT {id}, {session}, CASE WHEN k >= {other_sessions} THEN {parent} END, {invocation}, \
             CASE WHEN k % 2 = 0 THEN 'user_message' ELSE 'assistant_message' END, \
             '{{\"text\":\"message ' || k || ' about topic' || (k % 997) || ' and idea' || (k * 31 % 1009) || ' with a few words of text in it\"}}', {BASE_MS} + k \
         FROM seq",
        id = uuid_sql(&format!("{SESSIONS} + k")),
        session = uuid_sql(&owner),
        parent = uuid_sql(&format!("{SESSIONS} + k - {other_sessions}")),
        invocation = uuid_sql("7"),
    );
    sqlx::query(&short).execute(&mut conn).await.unwrap();

    let long = format!(
        "WITH RECURSIVE seq(k) AS (SELECT {short_events} UNION ALL SELECT k + 1 FROM seq WHERE k < {EVENTS} - 1) \
         INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) \
         SELECT {id}, {session}, CASE WHEN k > {short_events} THEN {parent} END, {invocation}, \
             CASE WHEN k % 2 = 0 THEN 'user_message' ELSE 'assistant_message' END, \
             '{{\"text\":\"message ' || k || ' of the long session about topic' || (k % 997) || ', a little longer than the others so it looks like a real answer\"}}', \
             {BASE_MS} + k \
         FROM seq",
        id = uuid_sql(&format!("{SESSIONS} + k")),
        session = uuid_sql(&LONG_SESSION.to_string()),
        parent = uuid_sql(&format!("{SESSIONS} + k - 1")),
        invocation = uuid_sql("7"),
    );
    sqlx::query(&long).execute(&mut conn).await.unwrap();
    // Written behind the store's back, like a database from before search: indexed below
    // the way such a database is, which is what the build time measures.
    sqlx::query("UPDATE search_backfill SET after_rowid = 0, upto_rowid = (SELECT max(rowid) FROM session_events)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    eprintln!(
        "generated {SESSIONS} sessions and {EVENTS} events in {:.1?}",
        started.elapsed()
    );

    let unindexed = file_size(&partial);
    let indexing = Instant::now();
    let service = SqliteSessionService::open(&partial).await.unwrap();
    while !service.index_for_search(5_000).await.unwrap().is_done() {}
    service.close().await;
    let indexed = file_size(&partial);
    // Everything into the main file, so it can be renamed on its own.
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&partial))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("PRAGMA journal_mode = DELETE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    eprintln!(
        "indexed {EVENTS} events for search in {:.1?}; the index is {:.0} % of the database \
         ({} MB of {} MB)",
        indexing.elapsed(),
        (indexed - unindexed) as f64 * 100.0 / indexed as f64,
        (indexed - unindexed) / 1_000_000,
        indexed / 1_000_000,
    );
    std::fs::rename(&partial, path).unwrap();
}

/// The database's size with its write-ahead log, in bytes.
fn file_size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|metadata| metadata.len())
        .sum()
}

fn bench_store(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let path = bench_db_path();
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        runtime.block_on(generate(&path));
    }
    let service = runtime.block_on(SqliteSessionService::open(&path)).unwrap();
    let service: Arc<dyn SessionService> = Arc::new(service);

    // Sanity: the data is what the figures claim.
    let long_id: SessionId = uuid_of(LONG_SESSION).parse().unwrap();
    let long = runtime.block_on(service.load_session(long_id)).unwrap();
    assert!(
        long.events.len() >= LONG_SESSION_EVENTS as usize,
        "{}",
        long.events.len()
    );
    assert_eq!(long.warnings, Vec::<String>::new());

    let mut group = c.benchmark_group("store");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));

    let big = ResumeQuery {
        directory: "/bench/big".into(),
        git_root: Some("/bench/repo".into()),
        location: bench_location(),
        updated_since_ms: Some(BASE_MS),
    };
    let found = runtime.block_on(service.find_resumable(&big)).unwrap();
    assert_eq!(found.map(|session| session.id), Some(long_id));

    // The floor under every query: one round trip to sqlx's SQLite worker thread for a
    // statement that does no work. The resume lookup's own cost is what it adds to this.
    let baseline = runtime
        .block_on(SqliteConnection::connect_with(
            &SqliteConnectOptions::new().filename(&path),
        ))
        .unwrap();
    let baseline = tokio::sync::Mutex::new(baseline);
    group.bench_function("baseline/sqlx_round_trip_select_1", |b| {
        b.to_async(&runtime).iter(|| async {
            let mut connection = baseline.lock().await;
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut *connection)
                .await
                .unwrap();
            one
        });
    });

    group.bench_function("find_resumable/workspace_of_50000", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.find_resumable(&big).await.unwrap() });
    });

    // A subfolder of the big repository with no session of its own: the exact-directory
    // query finds nothing and the git-root query answers.
    let sibling = ResumeQuery {
        directory: "/bench/repo/docs".into(),
        ..big.clone()
    };
    group.bench_function("find_resumable/git_root_fallback_50000", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.find_resumable(&sibling).await.unwrap() });
    });

    // The same repository on another machine: the big workspace's sessions carry its
    // identity (an idempotent update of the cached file) and a laptop with the repository
    // at another path looks them up: step 2 of the policy (the same folder, any machine)
    // answers, and with another folder step 4 (the repository, any machine).
    runtime.block_on(async {
        let mut connection = baseline.lock().await;
        sqlx::query(
            "UPDATE sessions SET repository = 'example.com/bench/repo', \
             repository_folder_bytes = x'' WHERE git_root_bytes = CAST('/bench/repo' AS BLOB) \
             AND repository IS NULL",
        )
        .execute(&mut *connection)
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
        ("find_resumable/same_folder_other_machine_50000", &elsewhere),
        (
            "find_resumable/repository_other_machine_50000",
            &other_folder,
        ),
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
    assert!(
        runtime
            .block_on(service.find_resumable(&small))
            .unwrap()
            .is_some()
    );
    group.bench_function("find_resumable/workspace_of_10", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.find_resumable(&small).await.unwrap() });
    });

    // Search across every workspace, top 20 with passages: a word said in about a thousand
    // messages, two such words, and a word said once.
    for (name, query) in [
        ("search/one_word_1000_matches", "topic12"),
        ("search/two_words", "topic12 idea40"),
        ("search/rare_word", "123457"),
        ("search/prefix", "topic99*"),
    ] {
        let request = SearchRequest {
            query: SearchQuery::parse(query).unwrap(),
            workspace: None,
            include_archived: false,
            limit: 20,
        };
        let hits = runtime.block_on(service.search(&request)).unwrap();
        assert!(!hits.is_empty(), "{query} finds something");
        group.bench_function(name, |b| {
            b.to_async(&runtime)
                .iter(|| async { service.search(&request).await.unwrap() });
        });
    }

    group.bench_function("load_session/10000_events", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.load_session(long_id).await.unwrap() });
    });

    // What a resumed chat reads before its first frame.
    group.bench_function("load_recent/200_of_10000_events", |b| {
        b.to_async(&runtime)
            .iter(|| async { service.load_recent(long_id, 200).await.unwrap() });
    });

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

    // What a streaming answer costs the store each second: renewing its turn lease and
    // saving its draft (80 KB: about four seconds of a 5,000 tokens/s answer).
    let holder = LeaseHolder::this_process(InvocationId::new());
    // The cached database keeps an earlier run's lease, which would refuse this holder.
    runtime.block_on(async {
        let mut connection = baseline.lock().await;
        sqlx::query("DELETE FROM turn_leases")
            .execute(&mut *connection)
            .await
            .unwrap();
    });
    assert_eq!(
        runtime
            .block_on(service.acquire_lease(target_id, &holder, BASE_MS, LEASE_TTL_MS))
            .unwrap(),
        cairn_core::lease::LeaseOutcome::Acquired
    );
    let draft = AnswerDraft {
        session_id: target_id,
        invocation_id: holder.invocation_id,
        question_id: None,
        model: Some("bench".to_owned()),
        text: "token ".repeat(80_000 / 6),
        updated_at_ms: BASE_MS,
    };
    group.bench_function("heartbeat/renew_lease_and_save_80kb_draft", |b| {
        b.to_async(&runtime).iter(|| async {
            assert!(
                service
                    .renew_lease(target_id, holder.invocation_id, BASE_MS, LEASE_TTL_MS)
                    .await
                    .unwrap()
            );
            service.save_draft(&draft).await.unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, bench_store);
criterion_main!(benches);
