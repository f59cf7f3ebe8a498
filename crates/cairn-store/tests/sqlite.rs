//! Behaviour only the SQLite backend has: files and their modes, refusing files it must not
//! touch, rows the trait cannot write (unknown event types, broken links), cascades.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_core::{EventKind, ServiceError, SessionService};
use cairn_store::SqliteSessionService;
use cairn_store::conformance::{assistant, chain, session, store, user};
use pretty_assertions::assert_eq;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

/// A connection of our own to the file, for what the service cannot do.
async fn raw(path: &Path) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

#[tokio::test]
async fn new_directory_and_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("state/cairn/sessions.db");
    let service = SqliteSessionService::open(&path).await.unwrap();
    let first = session("here", None, 1);
    store(
        &(Arc::new(service.clone()) as Arc<dyn SessionService>),
        &first,
        &chain(&first, None, 1, vec![user("q")]),
    )
    .await;

    let modes = [
        mode(&tmp.path().join("state")),
        mode(&tmp.path().join("state/cairn")),
        mode(&path),
        mode(&sibling(&path, "-wal")),
        mode(&sibling(&path, "-shm")),
    ];
    assert_eq!(modes, [0o700, 0o700, 0o600, 0o600, 0o600]);
    service.close().await;
}

#[tokio::test]
async fn an_existing_database_is_made_private_and_reopens_with_its_data() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1);
    let stored = store(&service, &first, &chain(&first, None, 1, vec![user("q")])).await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    // The first service is still open, its writes still in the -wal file, as when a second
    // Cairn starts beside a running one.
    assert!(sibling(&path, "-wal").metadata().unwrap().len() > 0);
    let second = SqliteSessionService::open(&path).await.unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        second.get_session(first.id).await.unwrap(),
        Some(stored.clone())
    );
    drop(service);
    second.close().await;

    let reopened = SqliteSessionService::open(&path).await.unwrap();
    assert_eq!(reopened.get_session(first.id).await.unwrap(), Some(stored));
}

/// Whether `err` refuses a damaged database, or a file that is not a database.
fn is_unusable(err: &ServiceError) -> bool {
    matches!(err, ServiceError::Incompatible { reason, .. } if reason.starts_with("is not a usable Cairn database"))
}

/// Asserts `open` fails as `expected` says and leaves the file byte for byte as it was.
async fn assert_refused_untouched(path: &Path, expected: impl Fn(&ServiceError) -> bool) {
    let before = std::fs::read(path).unwrap();
    let mode_before = mode(path);
    let err = SqliteSessionService::open(path).await.unwrap_err();
    assert!(expected(&err), "unexpected error: {err:?}");
    assert!(err.to_string().contains("The file was"), "{err}");
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "the file was modified"
    );
    assert_eq!(mode(path), mode_before);
    assert!(!sibling(path, "-wal").exists(), "a -wal file appeared");
    assert!(!sibling(path, "-shm").exists(), "a -shm file appeared");
    assert!(!sibling(path, "-journal").exists(), "a journal appeared");
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(100)).unwrap();
    assert_refused_untouched(&path, |err| {
        matches!(err, ServiceError::Incompatible { reason, .. }
            if reason.starts_with("is not a usable Cairn database (it is not a SQLite database)."))
    })
    .await;

    // A few bytes only: shorter than the header.
    std::fs::write(&path, "SQLite").unwrap();
    assert_refused_untouched(&path, is_unusable).await;
}

/// A database cut short (a copy interrupted, a full disk): refused, and neither it nor its
/// folder changes.
#[tokio::test]
async fn a_truncated_database_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    for n in 0..20 {
        let conversation = session(&format!("folder {n}"), None, 1_000);
        let long_answer = assistant(&"words ".repeat(2_000));
        store(
            &service,
            &conversation,
            &chain(&conversation, None, 1_000, vec![user("q"), long_answer]),
        )
        .await;
    }
    drop(service);
    // Dropping the last handle closes the pool in the background; reopening and closing
    // checkpoints everything into the main file.
    SqliteSessionService::open(&path)
        .await
        .unwrap()
        .close()
        .await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 64 * 1024, "{}", bytes.len());
    // A new file, as another process would first meet it: this one checks a file's header
    // once, when it first opens it.
    let cut = tmp.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 100]).unwrap();

    assert_refused_untouched(&cut, |err| {
        matches!(err, ServiceError::Incompatible { reason, .. }
            if reason.starts_with("is not a usable Cairn database (it is truncated:"))
    })
    .await;
}

#[tokio::test]
async fn a_damaged_database_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service = SqliteSessionService::open(&path).await.unwrap();
    service.close().await;
    // Keep the header, garble everything after it (the schema page included).
    let mut bytes = std::fs::read(&path).unwrap();
    for (offset, byte) in bytes.iter_mut().enumerate().skip(16) {
        *byte = (offset % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    assert_refused_untouched(&path, is_unusable).await;
}

#[tokio::test]
async fn another_programs_database_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let other = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    sqlx::query("CREATE TABLE recipes (name TEXT)")
        .execute(&other)
        .await
        .unwrap();
    other.close().await;
    assert_refused_untouched(&path, |err| {
        matches!(err, ServiceError::Incompatible { reason, .. } if reason.contains("not one of Cairn's"))
    })
    .await;
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    SqliteSessionService::open(&path)
        .await
        .unwrap()
        .close()
        .await;
    let pool = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999999999999, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let supported = SqliteSessionService::supported_schema_version();
    let expected_reason = format!(
        "was written by a newer version of Cairn (schema version 99999999999999, this build knows up to {supported}); upgrade Cairn or point db_path elsewhere. The file was not modified."
    );
    assert_refused_untouched(&path, |err| {
        matches!(
            err,
            ServiceError::Incompatible { location, reason, .. }
                if *location == path.display().to_string() && *reason == expected_reason
        )
    })
    .await;
}

/// A -wal file copied beside the database from another one (a restore that missed it):
/// SQLite would apply its pages to this database. The message names the -wal file, and the
/// database stays as it was.
#[tokio::test]
async fn another_databases_wal_file_is_named_and_the_database_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    SqliteSessionService::open(&path)
        .await
        .unwrap()
        .close()
        .await;
    let before = std::fs::read(&path).unwrap();

    // Another program's database, its writes still in its -wal file while it runs.
    let other_path = tmp.path().join("recipes.db");
    let other = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&other_path)
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .pragma("wal_autocheckpoint", "0"),
        )
        .await
        .unwrap();
    sqlx::query("CREATE TABLE recipes (name TEXT)")
        .execute(&other)
        .await
        .unwrap();
    std::fs::copy(sibling(&other_path, "-wal"), sibling(&path, "-wal")).unwrap();
    let wal_before = std::fs::read(sibling(&path, "-wal")).unwrap();

    let err = SqliteSessionService::open(&path).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}-wal does not belong to the session database {} beside it (it may be another database's, or damaged): the database reads fine without it. Both files were left untouched; if no Cairn is running, move the -wal file aside.",
            path.display(),
            path.display()
        )
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the database was modified"
    );
    assert_eq!(
        std::fs::read(sibling(&path, "-wal")).unwrap(),
        wal_before,
        "the -wal file was modified"
    );
    other.close().await;
}

#[tokio::test]
async fn an_empty_file_becomes_a_database() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    std::fs::write(&path, "").unwrap();
    let service = SqliteSessionService::open(&path).await.unwrap();
    assert_eq!(
        service.list_sessions(&Default::default()).await.unwrap(),
        vec![]
    );
}

#[tokio::test]
async fn unknown_event_type_mid_chain_is_walked_through_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1_000);
    let events = chain(&first, None, 1_000, vec![user("q"), assistant("a")]);
    store(&service, &first, &events).await;

    // A newer build wrote an event of a type this one does not know, then one it does.
    let pool = raw(&path).await;
    let hologram_id = cairn_core::EventId::new();
    sqlx::query(
        "INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, event_data, created_at) VALUES (?1, ?2, ?3, ?4, 'hologram', '{\"beam\":1}', 2000)",
    )
    .bind(hologram_id.to_string())
    .bind(first.id.to_string())
    .bind(events[1].id.to_string())
    .bind(events[1].invocation_id.to_string())
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE sessions SET head_id = ?1 WHERE id = ?2")
        .bind(hologram_id.to_string())
        .bind(first.id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let after = chain(&first, Some(hologram_id), 3_000, vec![user("still here")]);
    service
        .append_events(first.id, Some(hologram_id), &after)
        .await
        .unwrap();

    let loaded = service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events, [events.clone(), after.clone()].concat());
    assert_eq!(loaded.off_branch_events, 0);
    assert_eq!(
        loaded.warnings,
        vec!["skipped 1 event of unknown type `hologram` (written by a newer Cairn?)".to_owned()]
    );

    // The newest events are walked back from the head the same way: through the unknown one.
    let recent = service.load_recent(first.id, 3).await.unwrap();
    assert_eq!(recent.events, vec![events[1].clone(), after[0].clone()]);
    assert!(recent.has_earlier);
    let everything = service.load_recent(first.id, 10).await.unwrap();
    assert_eq!(everything.events, loaded.events);
    assert!(!everything.has_earlier);
}

#[tokio::test]
async fn the_newest_events_of_a_damaged_chain_stop_at_a_cycle() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1_000);
    let events = chain(&first, None, 1_000, vec![user("one"), assistant("two")]);
    store(&service, &first, &events).await;
    // Damage: the first event's parent is the second, a loop.
    let pool = raw(&path).await;
    sqlx::query("UPDATE session_events SET parent_id = ?1 WHERE id = ?2")
        .bind(events[1].id.to_string())
        .bind(events[0].id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let recent = service.load_recent(first.id, 50).await.unwrap();
    assert_eq!(recent.events.len(), 50, "bounded by the limit, not endless");
    assert!(recent.has_earlier);
}

#[tokio::test]
async fn malformed_data_and_broken_links_are_warnings_not_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1_000);
    let events = chain(
        &first,
        None,
        1_000,
        vec![user("one"), assistant("two"), user("three")],
    );
    store(&service, &first, &events).await;

    let pool = raw(&path).await;
    sqlx::query("UPDATE session_events SET event_data = '{\"text\": 5}' WHERE id = ?1")
        .bind(events[2].id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    // The first event vanishes: the second's parent is now missing.
    sqlx::query("DELETE FROM session_events WHERE id = ?1")
        .bind(events[0].id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let loaded = service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events, vec![events[1].clone()]);
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].contains("points at a missing parent"),
        "{:?}",
        loaded.warnings
    );
    assert!(
        loaded.warnings[1].starts_with(&format!("skipped unreadable event {}", events[2].id)),
        "{:?}",
        loaded.warnings
    );
    // The newest events stop at the missing parent too, and nothing claims to be older.
    let recent = service.load_recent(first.id, 10).await.unwrap();
    assert_eq!(recent.events, loaded.events);
    assert!(!recent.has_earlier);
}

#[tokio::test]
async fn deleting_a_session_deletes_its_event_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let doomed = session("here", None, 1_000);
    store(
        &service,
        &doomed,
        &chain(&doomed, None, 1_000, vec![user("q"), assistant("a")]),
    )
    .await;
    let kept = session("here", None, 2_000);
    store(&service, &kept, &chain(&kept, None, 2_000, vec![user("q")])).await;

    service.delete_session(doomed.id).await.unwrap();
    let pool = raw(&path).await;
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT session_id, COUNT(*) FROM session_events GROUP BY session_id ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(rows, vec![(kept.id.to_string(), 1)]);
}

#[tokio::test]
async fn a_failed_append_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1_000);
    let events = chain(&first, None, 1_000, vec![user("q")]);
    store(&service, &first, &events).await;
    let before = service.list_sessions(&Default::default()).await.unwrap();

    // The second event reuses the first's id: the insert fails after the head moved, and
    // the whole transaction, counters included, must roll back.
    let mut more = chain(
        &first,
        Some(events[0].id),
        2_000,
        vec![assistant("a"), user("b")],
    );
    more[1].id = events[0].id;
    let err = service
        .append_events(first.id, Some(events[0].id), &more)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Storage { .. }), "{err:?}");
    assert_eq!(
        service.list_sessions(&Default::default()).await.unwrap(),
        before
    );
    assert_eq!(service.load_session(first.id).await.unwrap().events, events);
}

#[tokio::test]
async fn creating_without_events_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let service = SqliteSessionService::open(&tmp.path().join("sessions.db"))
        .await
        .unwrap();
    let empty = session("here", None, 1_000);
    let err = service.create_session(&empty, &[]).await.unwrap_err();
    assert!(matches!(err, ServiceError::Storage { .. }), "{err:?}");
    assert_eq!(service.get_session(empty.id).await.unwrap(), None);
    // Silence the unused-variant lint of the import in this file.
    let _ = EventKind::Note {
        text: String::new(),
    };
}

#[tokio::test]
async fn separator_characters_in_stored_text_load_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let first = session("here", None, 1_000);
    // Through the service the text is JSON-escaped; the raw row below is not.
    let events = chain(
        &first,
        None,
        1_000,
        vec![user("fields\u{1f}and\u{1e}records"), assistant("a")],
    );
    store(&service, &first, &events).await;
    let loaded = service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events, events);

    // A row written by other software with the raw separators inside its data. That is not
    // valid JSON (control characters must be escaped in strings), so the event is skipped
    // with a warning; the rest of the session still loads.
    let pool = raw(&path).await;
    sqlx::query("UPDATE session_events SET event_data = ?1 WHERE id = ?2")
        .bind("{\"text\":\"a\u{1e}b\u{1f}c\",\"interrupted\":false}")
        .bind(events[1].id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let loaded = service.load_session(first.id).await.unwrap();
    assert_eq!(loaded.events, vec![events[0].clone()]);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].starts_with(&format!("skipped unreadable event {}", events[1].id)),
        "{:?}",
        loaded.warnings
    );
}

/// SQLite opens database paths of up to 504 bytes (512 with room for `-journal`); a longer
/// one is refused before any folder or file is made, and one at the limit works.
#[tokio::test]
async fn a_path_longer_than_sqlite_accepts_is_refused_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    // Folders of 100-byte names (a name may not pass 255 bytes), the last one shorter, so
    // that the database path is `bytes` long.
    let folder = |bytes: usize| {
        let mut rest = bytes - base.as_os_str().len() - "/sessions.db".len();
        let mut folder = base.clone();
        while rest > 0 {
            let name = rest.min(101) - 1;
            folder.push("d".repeat(name));
            rest -= name + 1;
        }
        folder
    };

    let too_long = folder(505).join("sessions.db");
    assert_eq!(too_long.as_os_str().len(), 505);
    let err = SqliteSessionService::open(&too_long).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "session storage failed: the session database path {} is 505 bytes long, more than the 504 SQLite accepts; set a shorter db_path. Nothing was created.",
            too_long.display()
        )
    );
    assert_eq!(std::fs::read_dir(&base).unwrap().count(), 0);

    let at_limit = folder(504).join("sessions.db");
    let service = SqliteSessionService::open(&at_limit).await.unwrap();
    service.close().await;
}

/// Loading reads a session in chunks of rows (no single string holds the whole session), so
/// a session longer than a chunk, with one large event and one row that cannot be packed in
/// the middle, loads whole and in order.
#[tokio::test]
async fn a_session_of_several_chunks_loads_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let long = session("here", None, 1_000);
    let kinds = (0..2_345)
        .map(|n| match n {
            1_200 => assistant(&"large ".repeat(200_000)),
            n if n % 2 == 0 => user(&format!("question {n}")),
            n => assistant(&format!("answer {n}")),
        })
        .collect();
    let events = chain(&long, None, 1_000, kinds);
    store(&service, &long, &events).await;
    // Another session's rows interleave with this one's.
    let other = session("there", None, 1_000);
    store(
        &service,
        &other,
        &chain(&other, None, 1_000, vec![user("x")]),
    )
    .await;
    let more = chain(
        &long,
        events.last().map(|event| event.id),
        9_000,
        vec![user("after")],
    );
    service
        .append_events(long.id, events.last().map(|event| event.id), &more)
        .await
        .unwrap();

    // A row of the second chunk with raw separators in its data: that chunk is read row by
    // row and that event skipped as unreadable; the walk goes on through it.
    let pool = raw(&path).await;
    sqlx::query("UPDATE session_events SET event_data = ?1 WHERE id = ?2")
        .bind("{\"text\":\"a\u{1e}b\u{1f}c\"}")
        .bind(events[1_500].id.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let loaded = service.load_session(long.id).await.unwrap();
    let mut expected: Vec<_> = [events.clone(), more].concat();
    expected.remove(1_500);
    assert_eq!(loaded.events.len(), expected.len());
    assert_eq!(loaded.events, expected);
    assert_eq!(loaded.off_branch_events, 0);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
}

/// `tests/fixtures/v0.1-sessions.sqlite` was written by release 0.1, before the migrations
/// moved to `migrations/sqlite/`: one session of three events. sqlx knows a migration by its
/// version and checksum, so the database must open without migrating again, load as it was
/// written and take new events.
#[tokio::test]
async fn a_database_written_by_release_0_1_opens_loads_and_accepts_an_append() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v0.1-sessions.sqlite"),
        &path,
    )
    .unwrap();
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());

    let session_id: cairn_core::SessionId = "0190a000-0000-7000-8000-000000000001".parse().unwrap();
    let invocation_id: cairn_core::InvocationId =
        "0190a000-0000-7000-8000-0000000000f0".parse().unwrap();
    let event_ids: Vec<cairn_core::EventId> = [
        "0190a000-0000-7000-8000-000000000101",
        "0190a000-0000-7000-8000-000000000102",
        "0190a000-0000-7000-8000-000000000103",
    ]
    .into_iter()
    .map(|text| text.parse().unwrap())
    .collect();
    let event = |index: usize, kind: EventKind| cairn_core::Event {
        id: event_ids[index],
        session_id,
        parent_id: index.checked_sub(1).map(|parent| event_ids[parent]),
        invocation_id,
        created_at_ms: 1_720_000_000_000 + 1_000 * index as i64,
        kind,
    };
    let written = vec![
        event(0, user("How do I undo the last commit?")),
        event(
            1,
            EventKind::AssistantMessage {
                text: "Run `git reset --soft HEAD~1`.".to_owned(),
                usage: Some(cairn_core::TokenUsage {
                    input_tokens: 12,
                    output_tokens: 9,
                }),
                interrupted: false,
                model: Some("echo".to_owned()),
            },
        ),
        event(
            2,
            EventKind::Note {
                text: "worked".to_owned(),
            },
        ),
    ];
    let session = cairn_core::Session {
        id: session_id,
        directory: PathBuf::from("/home/ada/project"),
        git_root: Some(PathBuf::from("/home/ada/project")),
        head_id: Some(event_ids[2]),
        title: "How do I undo the last commit?".to_owned(),
        created_at_ms: 1_720_000_000_000,
        updated_at_ms: 1_720_000_002_000,
        archived_at_ms: None,
        model: None,
        // Migration 0007 cannot know which machine wrote it, nor the repository's remote.
        location: cairn_core::Location::default(),
    };
    assert_eq!(
        service.load_session(session_id).await.unwrap(),
        cairn_core::LoadedSession {
            session: session.clone(),
            events: written.clone(),
            off_branch_events: 0,
            warnings: vec![],
            forked_from: None,
        }
    );

    let more = chain(
        &session,
        Some(event_ids[2]),
        1_720_000_003_000,
        vec![user("And keep the changes?")],
    );
    service
        .append_events(session_id, Some(event_ids[2]), &more)
        .await
        .unwrap();
    let loaded = service.load_session(session_id).await.unwrap();
    assert_eq!(loaded.events, [written, more.clone()].concat());
    assert_eq!(loaded.session.head_id, Some(more[0].id));
    // Migration 0004 counted the old events' messages, so the append continued the count.
    let listed = service
        .list_sessions(&cairn_core::SessionFilter::default())
        .await
        .unwrap();
    let messages = loaded.events.iter().filter(|e| e.kind.is_message()).count();
    assert_eq!(
        (listed[0].message_count, listed[0].branch_count),
        (messages as u64, 1)
    );

    // The rows of release 0.1 were moved to the exact path columns: the workspace still
    // resumes its session, on this machine (a session without a host is every machine's).
    assert_eq!(
        service
            .find_resumable(&cairn_core::service::ResumeQuery {
                directory: PathBuf::from("/home/ada/project"),
                git_root: Some(PathBuf::from("/home/ada/project")),
                location: cairn_core::Location {
                    host: Some("laptop".to_owned()),
                    repository: Some("example.com/ada/project".to_owned()),
                    repository_folder: Some(PathBuf::new()),
                },
                updated_since_ms: None,
            })
            .await
            .unwrap()
            .map(|found| found.id),
        Some(session_id)
    );

    // Opening did not run the first migration again: its record is the one release 0.1
    // wrote. Only the migrations added since ran.
    let pool = raw(&path).await;
    let applied: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT version, description, installed_on = (SELECT min(installed_on) \
         FROM _sqlx_migrations) FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        applied,
        vec![
            (1, "sessions".to_owned(), 1),
            (2, "path bytes".to_owned(), 0),
            (3, "turns in progress".to_owned(), 0),
            (4, "branches and forks".to_owned(), 0),
            (5, "session model".to_owned(), 0),
            (6, "search".to_owned(), 0),
            (7, "repository identity".to_owned(), 0),
            (8, "title source".to_owned(), 0),
            (11, "search by session".to_owned(), 0),
        ]
    );
}

/// A database written before search existed: its old messages become findable once indexed
/// (in batches, with progress), new ones at once, and indexing twice indexes nothing twice.
#[tokio::test]
async fn old_messages_are_indexed_for_search_in_batches() {
    use cairn_core::search::{SearchQuery, SearchRequest};
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("sessions.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/v0.1-sessions.sqlite"),
        &path,
    )
    .unwrap();
    let service: Arc<dyn SessionService> =
        Arc::new(SqliteSessionService::open(&path).await.unwrap());
    let request = |query: &str| SearchRequest {
        query: SearchQuery::parse(query).unwrap(),
        workspace: None,
        include_archived: true,
        limit: 10,
    };
    assert!(service.search(&request("undo")).await.unwrap().is_empty());

    let first = service.index_for_search(1).await.unwrap();
    assert!(!first.is_done(), "{first:?}");
    assert_eq!(first.indexed, 1);
    let mut last = first;
    for _ in 0..10 {
        last = service.index_for_search(1).await.unwrap();
        if last.is_done() {
            break;
        }
    }
    assert!(last.is_done(), "{last:?}");
    let hits = service.search(&request("undo commit")).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].snippets[0].text, "How do I undo the last commit?");
    let answer = service.search(&request("\"soft HEAD\"")).await.unwrap();
    assert_eq!(answer.len(), 1, "assistant text too");
    assert!(
        service.search(&request("worked")).await.unwrap().is_empty(),
        "notes are not"
    );

    // Nothing is indexed twice.
    assert!(service.index_for_search(100).await.unwrap().is_done());
    let pool = raw(&path).await;
    let (entries, texts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM search_entries), (SELECT count(*) FROM search_text)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((entries, texts), (2, 2));

    // Deleting the session takes its index rows with it.
    let session_id = hits[0].session.id;
    service.delete_session(session_id).await.unwrap();
    let (entries, texts): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM search_entries), (SELECT count(*) FROM search_text)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((entries, texts), (0, 0));
}
