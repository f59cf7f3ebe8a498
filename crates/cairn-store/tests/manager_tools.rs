//! Tool calls a stopped Cairn left without a result, over a real SQLite file: on resume
//! they are closed as interrupted, stored, and never run again; a writer that still holds
//! the turn is left to finish its own calls.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use cairn_core::lease::LeaseOutcome;
use cairn_core::turn::UNANSWERED_CALL_RESULT;
use cairn_core::{
    EventKind, ManualClock, ResumePolicy, SessionId, SessionManager, SessionService, ToolVerdict,
    Workspace,
};
use cairn_store::SqliteSessionService;
use pretty_assertions::assert_eq;

const T0: i64 = 1_700_000_000_000;

fn manager(service: &Arc<dyn SessionService>, clock: &ManualClock) -> SessionManager {
    SessionManager::new(
        service.clone(),
        Arc::new(clock.clone()),
        Workspace {
            directory: PathBuf::from("/work/repo"),
            git_root: Some(PathBuf::from("/work/repo")),
            git_branch: None,
            repository: None,
            host: "here".to_owned(),
        },
        ResumePolicy {
            continue_minutes: 60,
        },
    )
}

/// A session whose last answer asked for two calls, of which only the first got a result.
async fn stopped_mid_calls(service: &Arc<dyn SessionService>, clock: &ManualClock) -> SessionId {
    let mut writer = manager(service, clock);
    writer.push(EventKind::UserMessage {
        text: "what changed?".into(),
    });
    writer.push(EventKind::AssistantMessage {
        text: String::new(),
        usage: None,
        interrupted: false,
        model: None,
    });
    for id in ["c1", "c2"] {
        writer.push(EventKind::ToolCall {
            call_id: id.into(),
            name: "run_command".into(),
            arguments: r#"{"command":"git status"}"#.into(),
        });
    }
    writer.push(EventKind::ToolResult {
        call_id: "c1".into(),
        output: "clean".into(),
        is_error: false,
    });
    writer.persist_pending().await.unwrap();
    writer.session().id
}

#[tokio::test]
async fn a_call_left_without_a_result_is_closed_as_interrupted_once() {
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        SqliteSessionService::open(&dir.path().join("sessions.db"))
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(T0);
    let session_id = stopped_mid_calls(&service, &clock).await;

    let mut resumed = manager(&service, &clock);
    resumed.resume(session_id).await.unwrap();
    let stored = service.load_session(session_id).await.unwrap().events;
    let tail: Vec<EventKind> = stored[stored.len() - 2..]
        .iter()
        .map(|event| event.kind.clone())
        .collect();
    assert_eq!(
        tail,
        cairn_core::turn::interrupted_call_events("c2".into()).to_vec()
    );
    let EventKind::ToolResult { output, .. } = &tail[1] else {
        panic!("expected a result");
    };
    assert!(output.contains("will not be run again"), "{output}");
    assert_ne!(output, UNANSWERED_CALL_RESULT);

    // A second resume finds nothing left to close.
    let mut again = manager(&service, &clock);
    again.resume(session_id).await.unwrap();
    let reloaded = service.load_session(session_id).await.unwrap().events;
    assert_eq!(reloaded.len(), stored.len());
    let interrupted = reloaded
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::ToolDecision {
                    decision: ToolVerdict::Interrupted,
                    ..
                }
            )
        })
        .count();
    assert_eq!(interrupted, 1);
}

#[tokio::test]
async fn the_calls_of_a_writer_still_holding_the_turn_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        SqliteSessionService::open(&dir.path().join("sessions.db"))
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(T0);
    let session_id = stopped_mid_calls(&service, &clock).await;
    let mut running = manager(&service, &clock);
    running.resume(session_id).await.unwrap();
    // The resume above closed c2; a new call by a writer that holds the turn stays open.
    assert_eq!(
        running.acquire_turn().await.unwrap(),
        LeaseOutcome::Acquired
    );
    running.push(EventKind::ToolCall {
        call_id: "c3".into(),
        name: "run_command".into(),
        arguments: r#"{"command":"sleep 60"}"#.into(),
    });
    running.persist_pending().await.unwrap();

    let mut watcher = manager(&service, &clock);
    watcher.resume(session_id).await.unwrap();
    let last = service
        .load_session(session_id)
        .await
        .unwrap()
        .events
        .last()
        .map(|event| event.kind.clone());
    assert!(
        matches!(&last, Some(EventKind::ToolCall { call_id, .. }) if call_id == "c3"),
        "{last:?}"
    );
}
