//! The [`SessionManager`] over real SQLite files: deferred creation, exactly-once persistence,
//! the resume rules end to end, and two writers (in one process and in two) on one session.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cairn_core::lease::LeaseOutcome;
use cairn_core::manager::{OtherTurn, ResumeInfo, SessionChanges};
use cairn_core::session::title_from_message;
use cairn_core::{
    Clock, Event, EventId, EventKind, ManualClock, ResumePolicy, SessionId, SessionManager,
    SessionService, StartOutcome, SystemClock, Workspace,
};
use cairn_store::SqliteSessionService;
use pretty_assertions::assert_eq;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use tempfile::TempDir;

const MINUTE: i64 = 60_000;
/// A fixed, arbitrary "now" for the manual clock.
const T0: i64 = 1_700_000_000_000;

struct Fixture {
    _dir: TempDir,
    path: PathBuf,
    service: Arc<dyn SessionService>,
    clock: ManualClock,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sessions.db");
        let service = Arc::new(SqliteSessionService::open(&path).await.unwrap());
        Self {
            _dir: dir,
            path,
            service,
            clock: ManualClock::new(T0),
        }
    }

    fn manager_in(&self, workspace: Workspace, continue_minutes: u32) -> SessionManager {
        SessionManager::new(
            self.service.clone(),
            Arc::new(self.clock.clone()),
            workspace,
            ResumePolicy { continue_minutes },
        )
    }

    fn manager(&self, directory: &str) -> SessionManager {
        self.manager_in(workspace(directory, Some("repo")), 60)
    }

    /// Every stored event row: (id, parent id, type, data), oldest insert first.
    async fn event_rows(&self) -> Vec<(String, Option<String>, String, String)> {
        sqlx::query_as(
            "SELECT id, parent_id, event_type, event_data FROM session_events ORDER BY rowid",
        )
        .fetch_all(&raw(&self.path).await)
        .await
        .unwrap()
    }

    async fn session_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&raw(&self.path).await)
            .await
            .unwrap()
    }

    /// A stored conversation in `directory` whose last event is at the clock's time now.
    async fn conversation(&self, directory: &str) -> SessionId {
        let mut manager = self.manager(directory);
        manager.push(user("hello"));
        manager.push(assistant("hi"));
        manager.persist_pending().await.unwrap();
        manager.session().id
    }
}

async fn raw(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

fn workspace(directory: &str, git_root: Option<&str>) -> Workspace {
    Workspace {
        directory: PathBuf::from("/work").join(directory),
        git_root: git_root.map(|root| PathBuf::from("/work").join(root)),
        git_branch: None,
        repository: None,
        host: "here".to_owned(),
    }
}

fn user(text: &str) -> EventKind {
    EventKind::UserMessage {
        text: text.to_owned(),
    }
}

fn assistant(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.to_owned(),
        usage: None,
        interrupted: false,
        model: None,
    }
}

fn resumed(outcome: StartOutcome) -> ResumeInfo {
    match outcome {
        StartOutcome::Resumed(info) => info,
        StartOutcome::New => panic!("expected a resume, got a new session"),
    }
}

fn texts<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<String> {
    events
        .into_iter()
        .map(|event| match &event.kind {
            EventKind::UserMessage { text }
            | EventKind::AssistantMessage { text, .. }
            | EventKind::Note { text } => text.clone(),
            EventKind::SystemContext { .. } => "<boundary>".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn a_fresh_manager_writes_nothing_until_the_first_persist() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    assert_eq!(manager.start().await.unwrap(), StartOutcome::New);
    manager.persist_pending().await.unwrap();
    assert_eq!(fx.session_count().await, 0);

    manager.push(user("first"));
    assert_eq!(fx.session_count().await, 0);
    let outcome = manager.persist_pending().await.unwrap();
    assert_eq!(outcome.written, 1);
    assert_eq!(fx.session_count().await, 1);
}

#[tokio::test]
async fn persisting_writes_exactly_the_pending_events_chained() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    manager.push(user("q1"));
    manager.push(assistant("a1"));
    assert_eq!(manager.persist_pending().await.unwrap().written, 2);
    assert_eq!(manager.persist_pending().await.unwrap().written, 0);
    fx.clock.advance_ms(1_000);
    manager.push(user("q2"));
    assert_eq!(manager.pending_count(), 1);
    assert_eq!(manager.persist_pending().await.unwrap().written, 1);
    assert_eq!(manager.pending_count(), 0);

    let in_memory: Vec<(String, Option<String>, String, String)> = manager
        .events()
        .map(|event| {
            (
                event.id.to_string(),
                event.parent_id.map(|parent| parent.to_string()),
                event.kind.event_type().to_owned(),
                event.kind.data_json(),
            )
        })
        .collect();
    assert_eq!(fx.event_rows().await, in_memory);
    let parents: Vec<Option<String>> = in_memory.iter().map(|row| row.1.clone()).collect();
    assert_eq!(
        parents,
        vec![
            None,
            Some(in_memory[0].0.clone()),
            Some(in_memory[1].0.clone())
        ]
    );
    let stored = fx.service.get_session(manager.session().id).await.unwrap();
    assert_eq!(stored.as_ref(), Some(manager.session()));
}

#[tokio::test]
async fn a_cancelled_turn_then_new_neither_loses_nor_duplicates() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    manager.push(user("a question whose answer was cancelled"));
    manager.persist_pending().await.unwrap();
    let first_id = manager.session().id;

    let archived = manager.archive_and_reset().await.unwrap();
    assert_eq!(archived, Some(first_id));
    assert!(!manager.is_stored());
    assert_eq!(manager.events().count(), 0);
    manager.push(user("something else"));
    manager.persist_pending().await.unwrap();

    let rows = fx.event_rows().await;
    assert_eq!(
        rows.iter().map(|row| row.3.clone()).collect::<Vec<_>>(),
        vec![
            r#"{"text":"a question whose answer was cancelled"}"#.to_owned(),
            r#"{"text":"something else"}"#.to_owned(),
        ]
    );
    let first = fx.service.get_session(first_id).await.unwrap().unwrap();
    assert_eq!(first.archived_at_ms, Some(T0));
    assert_eq!(fx.session_count().await, 2);
}

#[tokio::test]
async fn start_resumes_inside_the_window_and_not_a_millisecond_after() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;

    fx.clock.advance_ms(60 * MINUTE);
    let info = resumed(fx.manager("app").start().await.unwrap());
    assert_eq!(info.session_id, id);
    assert_eq!(info.last_active_ms_ago, 60 * MINUTE);

    fx.clock.advance_ms(1);
    assert_eq!(fx.manager("app").start().await.unwrap(), StartOutcome::New);
}

#[tokio::test]
async fn zero_minutes_disables_auto_resume() {
    let fx = Fixture::new().await;
    fx.conversation("app").await;
    let mut manager = fx.manager_in(workspace("app", Some("repo")), 0);
    assert_eq!(manager.start().await.unwrap(), StartOutcome::New);
}

#[tokio::test]
async fn the_exact_directory_wins_over_a_newer_sibling() {
    let fx = Fixture::new().await;
    let app = fx.conversation("repo/app").await;
    fx.clock.advance_ms(MINUTE);
    let docs = fx.conversation("repo/docs").await;

    assert_eq!(
        resumed(fx.manager("repo/app").start().await.unwrap()).session_id,
        app
    );
    // A folder of the same repository with no session of its own takes the newest sibling.
    assert_eq!(
        resumed(fx.manager("repo/lib").start().await.unwrap()).session_id,
        docs
    );
}

#[tokio::test]
async fn another_folder_starts_fresh_and_archived_sessions_stay_closed() {
    let fx = Fixture::new().await;
    fx.conversation("app").await;
    let mut elsewhere = fx.manager_in(workspace("elsewhere", None), 60);
    assert_eq!(elsewhere.start().await.unwrap(), StartOutcome::New);

    let mut manager = fx.manager("app");
    resumed(manager.start().await.unwrap());
    manager.archive_and_reset().await.unwrap();
    assert_eq!(fx.manager("app").start().await.unwrap(), StartOutcome::New);
}

#[tokio::test]
async fn the_resume_boundary_is_written_only_with_the_next_message() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    let before = fx.service.get_session(id).await.unwrap();
    fx.clock.advance_ms(12 * MINUTE);

    let mut manager = fx.manager("app");
    let info = resumed(manager.start().await.unwrap());
    assert_eq!(
        info.note(),
        "Continuing previous session (last active 12 minutes ago) - /new starts a fresh one"
    );
    assert_eq!(texts(manager.events()), vec!["hello", "hi", "<boundary>"]);
    // Opening Cairn and leaving again must not keep the session alive.
    assert_eq!(manager.pending_count(), 0);
    assert_eq!(manager.persist_pending().await.unwrap().written, 0);
    assert_eq!(fx.event_rows().await.len(), 2);
    assert_eq!(fx.service.get_session(id).await.unwrap(), before);

    fx.clock.advance_ms(1_000);
    manager.push(user("and now?"));
    assert_eq!(manager.persist_pending().await.unwrap().written, 2);
    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["hello", "hi", "<boundary>", "and now?"]
    );
    assert_eq!(loaded.events, manager.events().cloned().collect::<Vec<_>>());
    assert_eq!(loaded.session.updated_at_ms, T0 + 12 * MINUTE + 1_000);
}

#[tokio::test]
async fn the_model_picked_for_a_session_is_kept_with_it_and_carried_into_new() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    // Picked before anything is written: stored with the first event.
    manager.set_model(Some("small".to_owned())).await.unwrap();
    manager.push(user("hello"));
    manager.persist_pending().await.unwrap();
    let id = manager.session().id;
    let stored = |id| {
        let service = fx.service.clone();
        async move { service.get_session(id).await.unwrap().unwrap().model }
    };
    assert_eq!(stored(id).await, Some("small".to_owned()));

    // Picked on a stored session: written at once.
    manager.set_model(Some("large".to_owned())).await.unwrap();
    assert_eq!(stored(id).await, Some("large".to_owned()));
    let mut later = fx.manager("app");
    let resumed = later.start().await.unwrap();
    assert!(matches!(resumed, StartOutcome::Resumed(_)));
    assert_eq!(later.session().model, Some("large".to_owned()));

    // `/new` keeps using it.
    later.archive_and_reset().await.unwrap();
    assert_eq!(later.session().model, Some("large".to_owned()));
}

#[tokio::test]
async fn the_title_comes_from_the_first_user_message() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    let text = "\n  Why does the build fail on CI but not locally?\nHere is the log";
    manager.push(user(text));
    manager.persist_pending().await.unwrap();
    let stored = fx
        .service
        .get_session(manager.session().id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.title, title_from_message(text));
    assert_eq!(manager.session().title, stored.title);
}

#[tokio::test]
async fn an_unknown_event_type_is_skipped_on_resume_with_a_warning() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    let head = fx.service.get_session(id).await.unwrap().unwrap().head_id;

    // A newer Cairn appended an event of a type this build does not know, then a message.
    let pool = raw(&fx.path).await;
    let hologram = EventId::new();
    let after = EventId::new();
    for (event_id, parent, event_type, data) in [
        (hologram, head, "hologram", "{}".to_owned()),
        (
            after,
            Some(hologram),
            "user_message",
            user("later").data_json(),
        ),
    ] {
        sqlx::query("INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
            .bind(event_id.to_string())
            .bind(id.to_string())
            .bind(parent.map(|parent| parent.to_string()))
            .bind(cairn_core::InvocationId::new().to_string())
            .bind(event_type)
            .bind(data)
            .bind(T0)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query("UPDATE sessions SET head_id = ?1 WHERE id = ?2")
        .bind(after.to_string())
        .bind(id.to_string())
        .execute(&pool)
        .await
        .unwrap();

    let mut manager = fx.manager("app");
    let info = resumed(manager.start().await.unwrap());
    assert_eq!(
        info.warnings,
        vec!["skipped 1 event of unknown type `hologram` (written by a newer Cairn?)".to_owned()]
    );
    assert_eq!(
        texts(manager.events()),
        vec!["hello", "hi", "later", "<boundary>"]
    );
    manager.push(user("more"));
    manager.persist_pending().await.unwrap();
    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["hello", "hi", "later", "<boundary>", "more"]
    );
    assert_eq!(loaded.off_branch_events, 0);
}

#[tokio::test]
async fn new_events_follow_an_unknown_event_at_the_head_instead_of_forking() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    let head = fx.service.get_session(id).await.unwrap().unwrap().head_id;
    let pool = raw(&fx.path).await;
    let hologram = EventId::new();
    sqlx::query("INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) VALUES (?1, ?2, ?3, ?4, 'hologram', '{}', ?5)")
        .bind(hologram.to_string())
        .bind(id.to_string())
        .bind(head.map(|head| head.to_string()))
        .bind(cairn_core::InvocationId::new().to_string())
        .bind(T0)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE sessions SET head_id = ?1 WHERE id = ?2")
        .bind(hologram.to_string())
        .bind(id.to_string())
        .execute(&pool)
        .await
        .unwrap();

    let mut manager = fx.manager("app");
    resumed(manager.start().await.unwrap());
    manager.push(user("more"));
    manager.persist_pending().await.unwrap();

    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["hello", "hi", "<boundary>", "more"]
    );
    assert_eq!(
        loaded.off_branch_events, 0,
        "the newer build's event stays on the branch"
    );
    assert_eq!(loaded.events[2].parent_id, Some(hologram));
}

#[tokio::test]
async fn regenerating_right_after_a_resume_keeps_the_boundary_on_the_new_branch() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    let question = manager.push(user("q")).id;
    manager.push(assistant("first answer"));
    manager.persist_pending().await.unwrap();
    fx.clock.advance_ms(MINUTE);

    let mut manager = fx.manager("app");
    resumed(manager.start().await.unwrap());
    assert!(manager.branch_from(question));
    manager.push(assistant("second answer"));
    manager.persist_pending().await.unwrap();

    let loaded = fx.service.load_session(manager.session().id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["q", "<boundary>", "second answer"]
    );
    assert_eq!(loaded.off_branch_events, 1);
    assert_eq!(loaded.events, manager.events().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn branching_from_an_earlier_event_persists_a_new_branch() {
    let fx = Fixture::new().await;
    let mut manager = fx.manager("app");
    let question = manager.push(user("q")).id;
    manager.push(assistant("first answer"));
    manager.persist_pending().await.unwrap();

    assert!(manager.branch_from(question));
    manager.push(assistant("second answer"));
    assert_eq!(manager.persist_pending().await.unwrap().written, 1);

    let loaded = fx.service.load_session(manager.session().id).await.unwrap();
    assert_eq!(texts(&loaded.events), vec!["q", "second answer"]);
    assert_eq!(loaded.off_branch_events, 1);
    assert_eq!(loaded.events, manager.events().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn two_writers_in_one_process_merge_without_losing_anything() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    fx.clock.advance_ms(MINUTE);
    let mut first = fx.manager("app");
    let mut second = fx.manager("app");
    resumed(first.start().await.unwrap());
    resumed(second.start().await.unwrap());

    first.push(user("from the first"));
    first.push(assistant("answer to the first"));
    let first_outcome = first.persist_pending().await.unwrap();
    assert_eq!(first_outcome.merged_from_elsewhere, vec![]);
    second.push(user("from the second"));
    let second_outcome = second.persist_pending().await.unwrap();

    let first_batch: Vec<Event> = first.events().skip(2).cloned().collect();
    assert_eq!(
        texts(&first_batch),
        vec!["<boundary>", "from the first", "answer to the first"]
    );
    assert_eq!(second_outcome.written, 2);
    assert_eq!(second_outcome.merged_from_elsewhere, first_batch);

    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec![
            "hello",
            "hi",
            "<boundary>",
            "from the first",
            "answer to the first",
            "<boundary>",
            "from the second"
        ]
    );
    assert_eq!(loaded.off_branch_events, 0);
    assert_eq!(loaded.events, second.events().cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn refresh_adopts_what_another_writer_appended_and_shows_its_turn() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    fx.clock.advance_ms(MINUTE);
    let mut writer = fx.manager("app");
    let mut watcher = fx.manager("app");
    resumed(writer.start().await.unwrap());
    resumed(watcher.start().await.unwrap());
    assert_eq!(
        watcher.refresh().await.unwrap(),
        Some(SessionChanges::default()),
        "the first look reads the marker"
    );
    assert_eq!(
        watcher.refresh().await.unwrap(),
        None,
        "nothing changed since"
    );

    assert_eq!(writer.acquire_turn().await.unwrap(), LeaseOutcome::Acquired);
    writer.push(user("from the writer"));
    writer.persist_pending().await.unwrap();
    assert!(writer.heartbeat("half an ans", "m").await.unwrap());
    let changes = watcher.refresh().await.unwrap().unwrap();
    let question: Vec<Event> = writer.events().skip(2).cloned().collect();
    assert_eq!(texts(&question), vec!["<boundary>", "from the writer"]);
    assert_eq!(
        changes,
        SessionChanges {
            appended: question,
            other_turn: Some(OtherTurn {
                holder: writer.lease_holder(),
                answer_so_far: "half an ans".to_owned(),
            }),
            archived_elsewhere: false,
            deleted: false,
        }
    );

    writer.push(assistant("half an answer"));
    writer.persist_pending().await.unwrap();
    writer.release_turn().await.unwrap();
    let changes = watcher.refresh().await.unwrap().unwrap();
    assert_eq!(texts(&changes.appended), vec!["half an answer"]);
    assert_eq!(changes.other_turn, None);

    // The watcher's own resume boundary still goes before its first message.
    watcher.push(user("from the watcher"));
    let outcome = watcher.persist_pending().await.unwrap();
    assert_eq!(outcome.merged_from_elsewhere, vec![]);
    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec![
            "hello",
            "hi",
            "<boundary>",
            "from the writer",
            "half an answer",
            "<boundary>",
            "from the watcher"
        ]
    );
}

#[tokio::test]
async fn a_watcher_recovers_the_answer_of_a_writer_that_stopped_mid_answer() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    fx.clock.advance_ms(MINUTE);
    let mut writer = fx.manager("app");
    let mut watcher = fx.manager("app");
    resumed(writer.start().await.unwrap());
    resumed(watcher.start().await.unwrap());
    watcher.refresh().await.unwrap();

    assert_eq!(writer.acquire_turn().await.unwrap(), LeaseOutcome::Acquired);
    writer.push(user("a long question"));
    writer.persist_pending().await.unwrap();
    assert!(writer.heartbeat("the first half of", "m").await.unwrap());
    // The writer stops without a word: no more heartbeats, no release.
    drop(writer);
    let changes = watcher.refresh().await.unwrap().unwrap();
    assert!(changes.other_turn.is_some(), "still within its lease");

    fx.clock.advance_ms(cairn_core::lease::LEASE_TTL_MS);
    assert!(watcher.seen_lease_lapsed());
    watcher.forget_seen_version();
    let changes = watcher.refresh().await.unwrap().unwrap();
    assert_eq!(texts(&changes.appended), vec!["the first half of"]);
    assert!(matches!(
        changes.appended[0].kind,
        EventKind::AssistantMessage {
            interrupted: true,
            ..
        }
    ));
    assert_eq!(changes.other_turn, None);
    // The stale lease is gone, so an idle watcher has nothing more to look at.
    assert_eq!(fx.service.current_lease(id).await.unwrap(), None);
    assert!(!watcher.seen_lease_lapsed());
    assert_eq!(fx.service.drafts(id).await.unwrap(), vec![]);
    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec![
            "hello",
            "hi",
            "<boundary>",
            "a long question",
            "the first half of"
        ]
    );
}

#[tokio::test]
async fn writing_to_a_session_archived_elsewhere_unarchives_it() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    let mut manager = fx.manager("app");
    resumed(manager.start().await.unwrap());
    manager.refresh().await.unwrap();
    fx.service.set_archived(id, Some(T0 + 1)).await.unwrap();
    let changes = manager.refresh().await.unwrap().unwrap();
    assert!(changes.archived_elsewhere);
    manager.push(user("still here"));
    let outcome = manager.persist_pending().await.unwrap();
    assert!(outcome.unarchived);
    let stored = fx.service.get_session(id).await.unwrap().unwrap();
    assert_eq!(stored.archived_at_ms, None);
}

#[tokio::test]
async fn unsaved_events_of_a_session_deleted_elsewhere_go_to_a_fresh_session() {
    let fx = Fixture::new().await;
    let id = fx.conversation("app").await;
    let mut manager = fx.manager("app");
    resumed(manager.start().await.unwrap());
    manager.push(user("typed before the delete"));
    fx.service.delete_session(id).await.unwrap();
    let outcome = manager.persist_pending().await.unwrap();
    assert!(outcome.moved_after_deletion);
    let fresh = manager.session().id;
    assert_ne!(fresh, id);
    let loaded = fx.service.load_session(fresh).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["<boundary>", "typed before the delete"]
    );

    // Noticed by the watch instead: the same, without a write.
    fx.service.delete_session(fresh).await.unwrap();
    let changes = manager.refresh().await.unwrap().unwrap();
    assert!(changes.deleted);
    assert!(!manager.is_stored());
    assert_eq!(manager.pending_count(), 0);
    assert_ne!(manager.session().id, fresh);
}

const CHILD_DB: &str = "CAIRN_STORE_TEST_CHILD_DB";
const CHILD_SESSION: &str = "CAIRN_STORE_TEST_CHILD_SESSION";
const WRITES_PER_PROCESS: usize = 60;

/// One writer: resumes `session_id` and persists `WRITES_PER_PROCESS` messages one by one.
/// Returns how many events the other writer added meanwhile, as the manager saw them.
async fn write_many(path: &Path, session_id: SessionId, who: &str) -> usize {
    let service = Arc::new(SqliteSessionService::open(path).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mut manager = SessionManager::new(
        service,
        clock,
        workspace("app", Some("repo")),
        ResumePolicy::default(),
    );
    manager.resume(session_id).await.unwrap();
    let mut merged = 0;
    for n in 0..WRITES_PER_PROCESS {
        manager.push(user(&format!("{who} {n}")));
        merged += manager
            .persist_pending()
            .await
            .unwrap()
            .merged_from_elsewhere
            .len();
        // People do not send a message per millisecond. The pause, jittered so the writers
        // do not fall into lockstep, lets one that just lost a race reload and rebase before
        // the other moves the head again: the manager retries a conflict only a few times.
        let pause_ms = 4 + (n as u64 * 7 + u64::from(who.len() as u8)) % 9;
        tokio::time::sleep(Duration::from_millis(pause_ms)).await;
    }
    merged
}

/// The other process of `two_processes_append_to_one_session`; does nothing when run alone.
#[tokio::test]
async fn child_writer() {
    let (Ok(path), Ok(session)) = (std::env::var(CHILD_DB), std::env::var(CHILD_SESSION)) else {
        return;
    };
    write_many(Path::new(&path), session.parse().unwrap(), "child").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_append_to_one_session() {
    let fx = Fixture::new().await;
    let mut creator = SessionManager::new(
        fx.service.clone(),
        Arc::new(SystemClock),
        workspace("app", Some("repo")),
        ResumePolicy::default(),
    );
    creator.push(user("start"));
    creator.persist_pending().await.unwrap();
    let id = creator.session().id;

    // The child's output is kept out of ours (its own "test result" line would confuse
    // whoever reads the run) and shown only if it fails.
    let child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(CHILD_DB, &fx.path)
        .env(CHILD_SESSION, id.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // Start once the child is writing, so the two really overlap.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !fx
        .event_rows()
        .await
        .iter()
        .any(|row| row.3.contains("child 0"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the child never wrote"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let merged = write_many(&fx.path, id, "parent").await;
    assert!(merged > 0, "the writers never overlapped");
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "child writer failed: {}\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let loaded = fx.service.load_session(id).await.unwrap();
    assert_eq!(loaded.warnings, Vec::<String>::new());
    assert_eq!(loaded.off_branch_events, 0);
    assert_eq!(loaded.events.len(), fx.event_rows().await.len());
    let texts = texts(&loaded.events);
    assert_eq!(texts.len(), 1 + 2 * (WRITES_PER_PROCESS + 1));
    for who in ["parent", "child"] {
        let mine: Vec<&String> = texts.iter().filter(|t| t.starts_with(who)).collect();
        let expected: Vec<String> = (0..WRITES_PER_PROCESS)
            .map(|n| format!("{who} {n}"))
            .collect();
        assert_eq!(
            mine,
            expected.iter().collect::<Vec<_>>(),
            "{who}'s messages"
        );
        // The boundary and the first message were one batch: they stay together.
        let first = texts.iter().position(|t| *t == format!("{who} 0")).unwrap();
        assert_eq!(texts[first - 1], "<boundary>");
    }
    let mut ids: Vec<EventId> = loaded.events.iter().map(|event| event.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), loaded.events.len(), "an event appears twice");
}
