//! `cairn store copy` end to end through the trait: a SQLite file of generated sessions
//! copied to a fresh PostgreSQL database on the throwaway cluster (loopback TCP), copied
//! again (everything skipped), and copied back into a fresh SQLite file. Prints sessions and
//! events per second for each; one run each, since a copy of this size takes seconds.
//!
//! Size: `CAIRN_COPY_BENCH_SESSIONS` sessions (default 20,000) of ten events each. Without
//! PostgreSQL installed only the SQLite-to-SQLite copy is measured.

// Setup failures abort the benchmark run; there is no user to show a message to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Instant;

use cairn_core::transfer::{ExportedEvent, SessionExport, copy_sessions};
use cairn_core::{EventId, EventKind, InvocationId, Location, Session, SessionId, SessionService};
use cairn_store::pg_test_cluster::fresh_database;
use cairn_store::{DEFAULT_CONNECT_TIMEOUT, PostgresSessionService, SqliteSessionService};

const EVENTS_PER_SESSION: usize = 10;
const BASE_MS: i64 = 1_700_000_000_000;

/// One generated session: alternating questions and answers of a realistic length.
fn generated(n: usize) -> SessionExport {
    let at = BASE_MS + n as i64 * 60_000;
    let session_id = SessionId::new();
    let mut events: Vec<ExportedEvent> = Vec::with_capacity(EVENTS_PER_SESSION);
    for k in 0..EVENTS_PER_SESSION {
        let kind = if k % 2 == 0 {
            EventKind::UserMessage {
                text: format!("question {k} of session {n}: why does the build take so long?"),
            }
        } else {
            EventKind::AssistantMessage {
                text: format!(
                    "answer {k} of session {n}: {}",
                    "the linker spends most of its time on debug information. ".repeat(4)
                ),
                usage: None,
                interrupted: false,
                model: Some("bench-model".to_owned()),
            }
        };
        events.push(ExportedEvent {
            id: EventId::new(),
            parent_id: events.last().map(|event| event.id),
            invocation_id: InvocationId::new(),
            event_type: kind.event_type().to_owned(),
            event_data: kind.data_json(),
            created_at_ms: at + k as i64,
        });
    }
    SessionExport {
        session: Session {
            id: session_id,
            directory: format!("/bench/project-{}", n % 50).into(),
            git_root: Some(format!("/bench/project-{}", n % 50).into()),
            head_id: events.last().map(|event| event.id),
            title: format!("session {n}"),
            created_at_ms: at,
            updated_at_ms: at + EVENTS_PER_SESSION as i64,
            archived_at_ms: (n % 10 == 3).then_some(at + 100),
            model: None,
            location: Location {
                host: Some("bench".to_owned()),
                repository: Some(format!("example.com/bench/project-{}", n % 50)),
                repository_folder: Some("".into()),
            },
        },
        forked_from: None,
        events,
    }
}

fn report(what: &str, started: Instant, sessions: u64, events: u64) {
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{what}: {sessions} sessions, {events} events in {seconds:.2} s: \
         {:.0} sessions/s, {:.0} events/s",
        sessions as f64 / seconds,
        events as f64 / seconds
    );
}

async fn copy(what: &str, from: &dyn SessionService, to: &dyn SessionService) {
    let started = Instant::now();
    let written = copy_sessions(from, to, |_| {}).await.unwrap();
    report(
        what,
        started,
        written.sessions + written.skipped_sessions,
        written.events,
    );
}

async fn bench() {
    let sessions: usize = std::env::var("CAIRN_COPY_BENCH_SESSIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let source = SqliteSessionService::open(&dir.path().join("source.db"))
        .await
        .unwrap();
    let started = Instant::now();
    let mut next = 0;
    while next < sessions {
        let page: Vec<SessionExport> = (next..(next + 200).min(sessions)).map(generated).collect();
        next += page.len();
        source.import_sessions(&page).await.unwrap();
    }
    report(
        "generate (import into SQLite)",
        started,
        sessions as u64,
        (sessions * EVENTS_PER_SESSION) as u64,
    );
    let source: Arc<dyn SessionService> = Arc::new(source);

    let back = SqliteSessionService::open(&dir.path().join("copy.db"))
        .await
        .unwrap();
    copy("SQLite -> SQLite", source.as_ref(), &back).await;

    let Some(database) = fresh_database().await else {
        return;
    };
    let server = PostgresSessionService::open(&database.admin_url(), DEFAULT_CONNECT_TIMEOUT)
        .await
        .unwrap();
    copy("SQLite -> PostgreSQL", source.as_ref(), &server).await;
    copy(
        "SQLite -> PostgreSQL again (all skipped)",
        source.as_ref(),
        &server,
    )
    .await;
    let returned = SqliteSessionService::open(&dir.path().join("returned.db"))
        .await
        .unwrap();
    copy("PostgreSQL -> SQLite", &server, &returned).await;
}

fn main() {
    // `cargo test --benches` runs benchmarks with `--bench` absent: nothing to measure then.
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    tokio::runtime::Runtime::new().unwrap().block_on(bench());
}
