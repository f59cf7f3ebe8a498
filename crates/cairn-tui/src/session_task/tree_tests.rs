//! The session task's tree jobs against the real SQLite store: an edit goes on a new branch
//! and the model sees only that branch; `/tree` reads every branch; switching and forking
//! load the branch or the new session for the screen.

use std::sync::Arc;

use cairn_core::provider::Part;
use cairn_core::{EventKind, ManualClock, ResumePolicy, SessionManager, SessionService, Workspace};
use cairn_store::SqliteSessionService;
use pretty_assertions::assert_eq;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};

use super::*;
use crate::app::TreeJob;
use crate::test_support::NOW_MS;

/// The next reply that is not a live update from the watch nor the ask for a title.
async fn reply(events: &mut UnboundedReceiver<AppEvent>) -> AppEvent {
    loop {
        match events.recv().await.expect("a reply") {
            // A title is asked for after the first answer: not what these tests follow.
            AppEvent::LiveUpdate(_) | AppEvent::TitleWanted { .. } => continue,
            other => return other,
        }
    }
}

/// Sends `text`, records `answer`; returns the user texts the request carried.
async fn turn(
    jobs: &UnboundedSender<SessionJob>,
    events: &mut UnboundedReceiver<AppEvent>,
    text: &str,
) -> Vec<String> {
    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: text.into(),
        model: "m".into(),
    })
    .unwrap();
    let AppEvent::SessionChanged(_) = reply(events).await else {
        panic!("expected the view");
    };
    let AppEvent::RequestReady { request, .. } = reply(events).await else {
        panic!("expected the request");
    };
    jobs.send(SessionJob::Record(vec![EventKind::AssistantMessage {
        text: format!("answer to {text}"),
        usage: None,
        interrupted: false,
        model: None,
    }]))
    .unwrap();
    let AppEvent::SessionChanged(_) = reply(events).await else {
        panic!("expected the view");
    };
    request
        .messages
        .iter()
        .flat_map(|message| message.parts.iter())
        .filter_map(|part| match part {
            Part::Text { text } if !text.starts_with("answer") => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn edit_tree_switch_and_fork_through_the_task() {
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        SqliteSessionService::open(&dir.path().join("s.db"))
            .await
            .unwrap(),
    );
    let manager = SessionManager::new(
        service.clone(),
        Arc::new(ManualClock::new(NOW_MS)),
        Workspace {
            directory: dir.path().canonicalize().unwrap(),
            git_root: None,
            git_branch: None,
            repository: None,
            host: "here".to_owned(),
        },
        ResumePolicy::default(),
    );
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(manager, 8_000, None, replies).spawn(receiver);

    turn(&jobs, &mut events, "q1").await;
    turn(&jobs, &mut events, "q2").await;

    // The rewind list gets the branch; editing q2 goes after its parent.
    jobs.send(SessionJob::Tree(TreeJob::ListBranch)).unwrap();
    let AppEvent::BranchListed(Ok(branch)) = reply(&mut events).await else {
        panic!("expected the branch");
    };
    assert_eq!(branch.len(), 4);
    let session_id = branch[0].session_id;
    jobs.send(SessionJob::Tree(TreeJob::BranchAt(branch[2].parent_id)))
        .unwrap();
    let sent = turn(&jobs, &mut events, "q2 edited").await;
    assert_eq!(
        sent,
        vec!["q1", "q2 edited"],
        "the model sees only the new branch"
    );

    jobs.send(SessionJob::Tree(TreeJob::LoadTree)).unwrap();
    let AppEvent::TreeLoaded(Ok(tree)) = reply(&mut events).await else {
        panic!("expected the tree");
    };
    assert_eq!(tree.branch_count, 2);
    let texts: Vec<&str> = tree.rows.iter().map(|row| row.text.as_str()).collect();
    assert_eq!(texts, vec!["q1", "q2", "q2 edited"]);

    jobs.send(SessionJob::Tree(TreeJob::SwitchBranch(branch[2].id)))
        .unwrap();
    let AppEvent::SessionLoaded {
        view,
        events: shown,
        notes,
    } = reply(&mut events).await
    else {
        panic!("expected the switched branch");
    };
    assert_eq!(view.branches, 2);
    assert_eq!(shown, branch, "the old branch, as it was");
    assert!(
        notes[0].starts_with("Switched to another branch"),
        "{notes:?}"
    );

    jobs.send(SessionJob::Tree(TreeJob::Fork { at: None }))
        .unwrap();
    let AppEvent::SessionLoaded {
        view,
        events: shown,
        notes,
    } = reply(&mut events).await
    else {
        panic!("expected the fork");
    };
    assert_ne!(view.id, session_id);
    assert_eq!(view.branches, 1);
    assert_eq!(shown.len(), 4);
    assert!(notes[0].contains("`cairn -s "), "{notes:?}");
    let fork = service.load_session(view.id).await.unwrap();
    assert_eq!(
        fork.forked_from
            .map(|origin| (origin.session_id, origin.event_id)),
        Some((session_id, branch[3].id))
    );

    drop(jobs);
    let exit = task.await.unwrap();
    assert_eq!(exit.session_id, view.id);
}
