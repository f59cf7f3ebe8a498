//! The session task's picker jobs against the real SQLite store: a preview is the other
//! session's newest messages, and rename, archive, restore and delete change it in the store.

use cairn_core::EventKind;
use pretty_assertions::assert_eq;
use tokio::sync::mpsc;

use super::fixture::fixture;
use super::*;
use crate::app::{PickerJob, PickerReply};

async fn reply(events: &mut mpsc::UnboundedReceiver<AppEvent>) -> PickerReply {
    loop {
        match events.recv().await {
            Some(AppEvent::Picker(reply)) => return reply,
            Some(_) => {}
            None => panic!("the task ended without answering"),
        }
    }
}

#[tokio::test]
async fn picker_jobs_preview_rename_archive_and_delete_another_session() {
    let fixture = fixture().await;
    // A stored session with a question and its answer.
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: "what is a cairn".into(),
        model: "m".into(),
    })
    .unwrap();
    jobs.send(SessionJob::Record(vec![EventKind::AssistantMessage {
        text: "a pile of stones".into(),
        usage: None,
        interrupted: false,
        model: Some("m".into()),
    }]))
    .unwrap();
    drop(jobs);
    let other = task.await.unwrap().session_id;
    while events.recv().await.is_some() {}

    // A chat on a fresh session works on the stored one from the picker.
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::Picker(PickerJob::Preview(other)))
        .unwrap();
    let PickerReply::Preview { session_id, result } = reply(&mut events).await else {
        panic!("expected the preview");
    };
    assert_eq!(session_id, other);
    let texts: Vec<String> = crate::picker::edit::preview_lines(&result.unwrap())
        .into_iter()
        .map(|line| format!("{}: {}", line.who, line.text))
        .collect();
    assert_eq!(
        texts,
        vec!["you: what is a cairn", "model: a pile of stones"]
    );

    jobs.send(SessionJob::Picker(PickerJob::Rename {
        session_id: other,
        title: "  Stones \n".into(),
    }))
    .unwrap();
    assert!(matches!(
        reply(&mut events).await,
        PickerReply::Changed(Ok(_))
    ));
    let stored = fixture.service.get_session(other).await.unwrap().unwrap();
    assert_eq!(stored.title, "Stones");

    jobs.send(SessionJob::Picker(PickerJob::SetArchived {
        session_id: other,
        archived: true,
    }))
    .unwrap();
    assert!(matches!(
        reply(&mut events).await,
        PickerReply::Changed(Ok(_))
    ));
    let stored = fixture.service.get_session(other).await.unwrap().unwrap();
    assert!(stored.archived_at_ms.is_some());
    jobs.send(SessionJob::Picker(PickerJob::SetArchived {
        session_id: other,
        archived: false,
    }))
    .unwrap();
    assert!(matches!(
        reply(&mut events).await,
        PickerReply::Changed(Ok(_))
    ));
    let stored = fixture.service.get_session(other).await.unwrap().unwrap();
    assert_eq!(stored.archived_at_ms, None);

    jobs.send(SessionJob::Picker(PickerJob::Delete(other)))
        .unwrap();
    assert!(matches!(
        reply(&mut events).await,
        PickerReply::Changed(Ok(_))
    ));
    assert_eq!(fixture.service.get_session(other).await.unwrap(), None);
    // A preview of a session that is gone says so instead of showing nothing.
    jobs.send(SessionJob::Picker(PickerJob::Preview(other)))
        .unwrap();
    let PickerReply::Preview { result, .. } = reply(&mut events).await else {
        panic!("expected the preview");
    };
    assert!(result.is_err());
    drop(jobs);
    task.await.unwrap();
}
