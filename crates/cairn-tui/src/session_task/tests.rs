//! The session task against the real SQLite store: jobs apply in order, the request is
//! built after the user message is stored, and closing the channel finishes pending work.

use std::time::Duration;

use cairn_core::EventKind;
use cairn_core::provider::{Part, Role};
use pretty_assertions::assert_eq;
use tokio::sync::mpsc;

use super::fixture::fixture;
use super::*;
use crate::app::LiveUpdate;

#[tokio::test]
async fn a_turn_is_persisted_in_order_and_the_request_carries_the_message() {
    let fixture = fixture().await;
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);

    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: "hello".into(),
        model: "m".into(),
    })
    .unwrap();
    let AppEvent::SessionChanged(view) = events.recv().await.unwrap() else {
        panic!("expected the session view first");
    };
    assert!(
        view.stored,
        "the user message is stored before the request goes out"
    );
    assert_eq!(view.title, "hello");
    let AppEvent::RequestReady { turn, request } = events.recv().await.unwrap() else {
        panic!("expected the request");
    };
    assert_eq!(turn, 1);
    assert_eq!(request.model, "m");
    assert_eq!(
        request
            .messages
            .last()
            .map(|message| (message.role, message.parts.clone())),
        Some((
            Role::User,
            vec![Part::Text {
                text: "hello".into()
            }]
        ))
    );

    jobs.send(SessionJob::Record(vec![EventKind::AssistantMessage {
        text: "partial".into(),
        usage: None,
        interrupted: true,
        model: Some("m".into()),
    }]))
    .unwrap();
    drop(jobs);
    let exit = task.await.unwrap();
    assert!(exit.session_stored);
    let loaded = fixture.service.load_session(exit.session_id).await.unwrap();
    let kinds: Vec<EventKind> = loaded.events.into_iter().map(|event| event.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::UserMessage {
                text: "hello".into()
            },
            EventKind::AssistantMessage {
                text: "partial".into(),
                usage: None,
                interrupted: true,
                model: Some("m".into()),
            }
        ]
    );
}

#[tokio::test]
async fn retry_branches_from_the_last_user_message() {
    let fixture = fixture().await;
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::Retry {
        turn: 1,
        model: "m".into(),
    })
    .unwrap();
    assert!(matches!(
        events.recv().await.unwrap(),
        AppEvent::TurnRejected { turn: 1, .. }
    ));
    jobs.send(SessionJob::SendUserMessage {
        turn: 2,
        text: "q".into(),
        model: "m".into(),
    })
    .unwrap();
    jobs.send(SessionJob::Record(vec![EventKind::Error {
        message: "boom".into(),
    }]))
    .unwrap();
    jobs.send(SessionJob::Retry {
        turn: 3,
        model: "m".into(),
    })
    .unwrap();
    let mut request = None;
    while let Some(event) = events.recv().await {
        if let AppEvent::RequestReady {
            turn: 3,
            request: built,
        } = event
        {
            request = Some(built);
            break;
        }
    }
    let request = request.unwrap();
    assert_eq!(request.messages.len(), 1, "{request:?}");
    jobs.send(SessionJob::Record(vec![EventKind::AssistantMessage {
        text: "answer".into(),
        usage: None,
        interrupted: false,
        model: None,
    }]))
    .unwrap();
    drop(jobs);
    let exit = task.await.unwrap();
    let loaded = fixture.service.load_session(exit.session_id).await.unwrap();
    let kinds: Vec<&str> = loaded
        .events
        .iter()
        .map(|event| event.kind.event_type())
        .collect();
    assert_eq!(kinds, vec!["user_message", "assistant_message"]);
}

#[tokio::test]
async fn new_rename_list_resume_and_export() {
    let fixture = fixture().await;
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: "first".into(),
        model: "m".into(),
    })
    .unwrap();
    jobs.send(SessionJob::Rename("Named".into())).unwrap();
    let first_id = loop {
        if let AppEvent::Renamed { title } = events.recv().await.unwrap() {
            assert_eq!(title, "Named");
            break fixture
                .service
                .list_sessions(&Default::default())
                .await
                .unwrap()[0]
                .session
                .id;
        }
    };
    let export = fixture.workspace.directory.join("out.md");
    let export_job = |overwrite| SessionJob::Export {
        path: export.clone(),
        overwrite,
    };
    jobs.send(export_job(Overwrite::Refuse)).unwrap();
    loop {
        if let AppEvent::ExportWritten { result } = events.recv().await.unwrap() {
            assert_eq!(result, Ok(export.clone()));
            break;
        }
    }
    // A second plain /export says the file is there and how to replace it.
    jobs.send(export_job(Overwrite::Refuse)).unwrap();
    loop {
        if let AppEvent::ExportWritten { result } = events.recv().await.unwrap() {
            let shown = export.display();
            assert_eq!(
                result,
                Err(format!(
                    "{shown} already exists; /export! {shown} replaces it"
                ))
            );
            break;
        }
    }
    jobs.send(export_job(Overwrite::Replace)).unwrap();
    loop {
        if let AppEvent::ExportWritten { result } = events.recv().await.unwrap() {
            assert_eq!(result, Ok(export.clone()));
            break;
        }
    }
    // Given a folder, the file is named after the session.
    jobs.send(SessionJob::Export {
        path: fixture.workspace.directory.clone(),
        overwrite: Overwrite::Refuse,
    })
    .unwrap();
    loop {
        if let AppEvent::ExportWritten { result } = events.recv().await.unwrap() {
            let expected = fixture
                .workspace
                .directory
                .join(cairn_core::transcript::export_file_name(first_id, "md"));
            assert_eq!(result, Ok(expected));
            break;
        }
    }
    let markdown = std::fs::read_to_string(&export).unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&export).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a conversation is private");
    assert!(
        markdown.contains("# Named") && markdown.contains("first"),
        "{markdown}"
    );

    jobs.send(SessionJob::NewSession).unwrap();
    loop {
        if let AppEvent::SessionReset { archived, view, .. } = events.recv().await.unwrap() {
            let expected =
                cairn_core::service::lasting_short_id(fixture.service.as_ref(), first_id).await;
            assert_eq!(archived, Some(expected));
            assert_ne!(view.id, first_id);
            assert!(!view.stored);
            break;
        }
    }
    jobs.send(SessionJob::ListSessions {
        all_workspaces: false,
    })
    .unwrap();
    loop {
        if let AppEvent::SessionsListed { result, .. } = events.recv().await.unwrap() {
            let listed = result.unwrap();
            assert_eq!(
                listed.len(),
                1,
                "archived sessions are listed so they can be reopened"
            );
            assert_eq!(listed[0].session.id, first_id);
            break;
        }
    }
    jobs.send(SessionJob::Resume(first_id)).unwrap();
    loop {
        if let AppEvent::SessionLoaded {
            view,
            events: loaded,
            notes,
        } = events.recv().await.unwrap()
        {
            assert_eq!(view.id, first_id);
            assert!(loaded.iter().any(|event| event.kind
                == EventKind::UserMessage {
                    text: "first".into()
                }));
            assert!(notes[0].starts_with("Continuing previous session"));
            break;
        }
    }
    drop(jobs);
    let exit = task.await.unwrap();
    assert_eq!(exit.session_id, first_id);
}

#[tokio::test]
async fn the_archived_id_in_the_new_session_note_is_unambiguous() {
    let fixture = fixture().await;
    // Another session created in the same minute: ids are time-ordered, so the two share
    // their first eight digits.
    let mut other = fixture.manager();
    other.push(EventKind::UserMessage {
        text: "other".into(),
    });
    other.persist_pending().await.unwrap();
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: "mine".into(),
        model: "m".into(),
    })
    .unwrap();
    jobs.send(SessionJob::NewSession).unwrap();
    let archived = loop {
        if let AppEvent::SessionReset { archived, .. } = events.recv().await.unwrap() {
            break archived.unwrap();
        }
    };
    let matches = fixture
        .service
        .find_by_id_prefix(&archived, 2)
        .await
        .unwrap();
    assert_eq!(matches.len(), 1, "{archived} names one session");
    assert_ne!(matches[0].id, other.session().id);
    drop(jobs);
    task.await.unwrap();
}

/// The next reply, failing the test if none comes within a few watch periods.
async fn next_reply(events: &mut mpsc::UnboundedReceiver<AppEvent>) -> AppEvent {
    tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("a reply within a few seconds")
        .expect("the task is running")
}

#[tokio::test]
async fn the_task_reports_another_processs_turn_and_its_messages_live() {
    let fixture = fixture().await;
    let mut writer = fixture.manager();
    writer.push(EventKind::UserMessage {
        text: "first".into(),
    });
    writer.persist_pending().await.unwrap();
    let mut watcher = fixture.manager();
    watcher.resume(writer.session().id).await.unwrap();
    assert_eq!(writer.acquire_turn().await.unwrap(), LeaseOutcome::Acquired);
    let question = writer
        .push(EventKind::UserMessage {
            text: "second".into(),
        })
        .clone();
    writer.persist_pending().await.unwrap();
    assert!(writer.heartbeat("so far", "m").await.unwrap());
    // The task's first look at the session sees all of it at once.
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(watcher, 8_000, None, replies).spawn(receiver);
    let AppEvent::LiveUpdate(update) = next_reply(&mut events).await else {
        panic!("expected a live update");
    };
    assert_eq!(
        update,
        LiveUpdate {
            appended: vec![question],
            other_turn: Some((writer.lease_holder().describe(), "so far".into())),
            archived_elsewhere: false,
            deleted: None,
        }
    );
    assert!(matches!(
        next_reply(&mut events).await,
        AppEvent::SessionChanged(_)
    ));

    let answer = writer
        .push(EventKind::AssistantMessage {
            text: "so far, and the rest".into(),
            usage: None,
            interrupted: false,
            model: Some("m".into()),
        })
        .clone();
    writer.persist_pending().await.unwrap();
    writer.release_turn().await.unwrap();
    // A look may fall between the two writes: the answer and the turn's end may come in
    // one update or two.
    let mut appended = Vec::new();
    loop {
        match next_reply(&mut events).await {
            AppEvent::LiveUpdate(update) => {
                appended.extend(update.appended);
                if update.other_turn.is_none() {
                    break;
                }
            }
            AppEvent::SessionChanged(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(appended, vec![answer]);
    drop(jobs);
    task.await.unwrap();
}

/// A chat resumed at start: the open job loads the whole session and takes it over, so a
/// message sent after it chains onto the stored head; an unknown session leaves a fresh one.
#[tokio::test]
async fn the_open_job_takes_over_the_whole_session_before_the_next_job() {
    let fixture = fixture().await;
    let mut earlier = fixture.manager();
    for n in 0..5 {
        earlier.push(EventKind::UserMessage {
            text: format!("question {n}"),
        });
        earlier.push(EventKind::AssistantMessage {
            text: format!("answer {n}"),
            model: Some("m".into()),
            usage: None,
            interrupted: false,
        });
    }
    earlier.persist_pending().await.unwrap();
    let session_id = earlier.session().id;
    let head = earlier.session().head_id;

    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    jobs.send(SessionJob::Open(session_id)).unwrap();
    jobs.send(SessionJob::SendUserMessage {
        turn: 1,
        text: "typed while it loaded".into(),
        model: "m".into(),
    })
    .unwrap();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    let AppEvent::SessionOpened {
        view,
        events: loaded,
        notes,
    } = events.recv().await.unwrap()
    else {
        panic!("the open job answers first");
    };
    assert_eq!(view.id, session_id);
    assert!(view.stored);
    let messages = loaded
        .iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::UserMessage { .. } | EventKind::AssistantMessage { .. }
            )
        })
        .count();
    assert_eq!(messages, 10, "every message, not only the newest");
    assert_eq!(notes, Vec::<String>::new());
    drop(jobs);
    task.await.unwrap();

    let stored = fixture.service.load_session(session_id).await.unwrap();
    let boundary = &stored.events[10];
    assert_eq!(
        boundary.parent_id, head,
        "the resume boundary follows the old head"
    );
    assert_eq!(
        stored.events.last().unwrap().kind,
        EventKind::UserMessage {
            text: "typed while it loaded".into()
        }
    );

    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    jobs.send(SessionJob::Open(cairn_core::SessionId::new()))
        .unwrap();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    let AppEvent::OpenFailed { view, error } = events.recv().await.unwrap() else {
        panic!("an unknown session cannot be opened");
    };
    assert!(!view.stored);
    assert!(error.starts_with("session not found"), "{error}");
    drop(jobs);
    task.await.unwrap();
}

/// The picker's search runs in the session task against the store, and opening a match
/// loads the session and then asks the screen to show the message.
#[tokio::test]
async fn searches_run_on_the_store_and_a_match_opens_at_its_message() {
    let fixture = fixture().await;
    let mut earlier = fixture.manager();
    earlier.push(EventKind::UserMessage {
        text: "where do kestrels nest?".into(),
    });
    let question_id = earlier.events().last().unwrap().id;
    earlier.push(EventKind::UserMessage {
        text: "something else".into(),
    });
    earlier.persist_pending().await.unwrap();
    let session_id = earlier.session().id;

    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::Search {
        query: "kestrels".into(),
        all_workspaces: false,
    })
    .unwrap();
    let AppEvent::SearchResults { query, result, .. } = events.recv().await.unwrap() else {
        panic!("search results");
    };
    assert_eq!(query, "kestrels");
    let hits = result.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].snippets[0].event_id, question_id);

    jobs.send(SessionJob::Search {
        query: "\"open".into(),
        all_workspaces: true,
    })
    .unwrap();
    let AppEvent::SearchResults { result, .. } = events.recv().await.unwrap() else {
        panic!("search results");
    };
    assert!(result.unwrap_err().contains("quote"));

    jobs.send(SessionJob::OpenAt {
        session_id,
        event_id: question_id,
    })
    .unwrap();
    let AppEvent::SessionLoaded { view, .. } = events.recv().await.unwrap() else {
        panic!("the session loads");
    };
    assert_eq!(view.id, session_id);
    let AppEvent::Focus(focus) = events.recv().await.unwrap() else {
        panic!("then the message is shown");
    };
    assert_eq!(focus, question_id);
    drop(jobs);
    task.await.unwrap();
}

/// A search match on a branch the session is not on (an answer replaced by /retry): opening
/// it switches to that branch, so the message is there to read.
#[tokio::test]
async fn opening_a_match_on_another_branch_switches_to_it() {
    let fixture = fixture().await;
    let mut earlier = fixture.manager();
    earlier.push(EventKind::UserMessage {
        text: "which bird hovers?".into(),
    });
    let question = earlier.events().last().unwrap().id;
    earlier.push(EventKind::AssistantMessage {
        text: "the kestrel hovers".into(),
        model: None,
        usage: None,
        interrupted: false,
    });
    let old_answer = earlier.events().last().unwrap().id;
    earlier.persist_pending().await.unwrap();
    assert!(earlier.branch_from(question));
    earlier.push(EventKind::AssistantMessage {
        text: "a hummingbird".into(),
        model: None,
        usage: None,
        interrupted: false,
    });
    earlier.persist_pending().await.unwrap();
    let session_id = earlier.session().id;

    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(fixture.manager(), 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::OpenAt {
        session_id,
        event_id: old_answer,
    })
    .unwrap();
    let loaded = loop {
        if let AppEvent::SessionLoaded { events, notes, .. } = events.recv().await.unwrap() {
            assert!(
                notes
                    .iter()
                    .any(|note| note.starts_with("Switched to the branch"))
            );
            break events;
        }
    };
    assert!(loaded.iter().any(|event| event.id == old_answer));
    drop(jobs);
    task.await.unwrap();
    let stored = fixture
        .service
        .get_session(session_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.head_id, Some(old_answer));
}
