//! The session task and titles, against the real SQLite store: the first complete answer
//! asks for a title, later ones do not, and a title the model made is stored as automatic
//! unless the user named the session, also when the session is no longer on screen.

use std::sync::Arc;

use cairn_core::SessionService;
use cairn_core::title::{TitleInput, TitleSource};
use pretty_assertions::assert_eq;
use tokio::sync::mpsc;

use super::fixture::{answer, fixture, wait_for};
use super::*;
use crate::test_support::NOW_MS;

async fn source_of(service: &Arc<dyn SessionService>, id: SessionId) -> (String, TitleSource) {
    let listed = service
        .list_sessions(&SessionFilter {
            include_archived: true,
            ..SessionFilter::default()
        })
        .await
        .unwrap();
    let summary = listed.into_iter().find(|s| s.session.id == id).unwrap();
    (summary.session.title, summary.title_source)
}

#[tokio::test]
async fn the_first_answer_asks_for_a_title_and_the_model_s_title_is_stored_as_automatic() {
    let fixture = fixture().await;
    let service = fixture.service.clone();
    let manager = fixture.manager();
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(manager, 8_000, None, replies).spawn(receiver);

    let mut wanted = exchange(
        &jobs,
        &mut events,
        &[("why does it move?", "Borrow it."), ("and now?", "Still.")],
    )
    .await;
    assert_eq!(wanted.len(), 1, "only the first answer asks: {wanted:?}");
    let (session_id, refresh_of, input) = wanted.remove(0);
    assert_eq!(
        refresh_of, None,
        "two messages are too few to check the title"
    );
    assert_eq!(
        input,
        TitleInput {
            question: "why does it move?".into(),
            answer: "Borrow it.".into(),
        }
    );

    jobs.send(SessionJob::SetGeneratedTitle {
        session_id,
        title: "Moves and borrows".into(),
        source: TitleSource::Model,
    })
    .unwrap();
    let view = wait_for(&mut events, |event| match event {
        AppEvent::SessionChanged(view) => Some(view),
        _ => None,
    })
    .await;
    assert_eq!(view.title, "Moves and borrows");
    assert_eq!(
        source_of(&service, session_id).await,
        ("Moves and borrows".to_owned(), TitleSource::Model)
    );

    // Renamed, then a late title from the model (and for a session no longer on screen):
    // the user's title stays.
    jobs.send(SessionJob::Rename("Mine".into())).unwrap();
    jobs.send(SessionJob::NewSession).unwrap();
    jobs.send(SessionJob::SetGeneratedTitle {
        session_id,
        title: "Late".into(),
        source: TitleSource::Model,
    })
    .unwrap();
    drop(jobs);
    task.await.unwrap();
    assert_eq!(
        source_of(&service, session_id).await,
        ("Mine".to_owned(), TitleSource::User)
    );
}

/// Sends each exchange, then waits until the task has handled them, returning the title
/// requests it made meanwhile as `(session, refresh_of, latest exchange)`: `refresh_of` is
/// the title being checked, `None` when a first title is asked for.
async fn exchange(
    jobs: &mpsc::UnboundedSender<SessionJob>,
    events: &mut mpsc::UnboundedReceiver<AppEvent>,
    exchanges: &[(&str, &str)],
) -> Vec<(SessionId, Option<String>, TitleInput)> {
    for (text, reply) in exchanges {
        jobs.send(SessionJob::SendUserMessage {
            turn: 1,
            text: (*text).into(),
            model: "m".into(),
        })
        .unwrap();
        jobs.send(SessionJob::Record(vec![answer(reply)])).unwrap();
    }
    jobs.send(SessionJob::ListSessions {
        all_workspaces: true,
    })
    .unwrap();
    let mut wanted = Vec::new();
    wait_for(events, |event| match event {
        AppEvent::TitleWanted {
            session_id,
            input,
            refresh_of,
        } => {
            wanted.push((session_id, refresh_of, input));
            None
        }
        AppEvent::SessionsListed { .. } => Some(()),
        _ => None,
    })
    .await;
    wanted
}

/// Four complete exchanges after the model named the session, the task asks once whether
/// that title still fits the latest exchange; the answer is stored as checked and never
/// asked for again, neither on later answers nor by the next chat on the same session.
#[tokio::test]
async fn the_model_s_title_is_checked_once_a_few_turns_later() {
    let fixture = fixture().await;
    let service = fixture.service.clone();
    let manager = fixture.manager();
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(manager, 8_000, None, replies).spawn(receiver);

    let first = exchange(&jobs, &mut events, &[("why does it move?", "Borrow it.")]).await;
    assert_eq!(first.len(), 1);
    let (session_id, refresh_of, _) = &first[0];
    assert_eq!(*refresh_of, None);
    let session_id = *session_id;
    jobs.send(SessionJob::SetGeneratedTitle {
        session_id,
        title: "Moves and borrows".into(),
        source: TitleSource::Model,
    })
    .unwrap();

    let later = [
        ("and clones?", "They copy."),
        ("and Rc?", "It counts."),
        ("how do I tag a release?", "git tag v1."),
    ];
    let checks = exchange(&jobs, &mut events, &later).await;
    assert_eq!(
        checks,
        vec![(
            session_id,
            Some("Moves and borrows".to_owned()),
            TitleInput {
                question: "how do I tag a release?".into(),
                answer: "git tag v1.".into(),
            }
        )],
        "asked once, at the fourth exchange"
    );
    jobs.send(SessionJob::SetGeneratedTitle {
        session_id,
        title: "Releases and ownership".into(),
        source: TitleSource::Refreshed,
    })
    .unwrap();
    let none = exchange(&jobs, &mut events, &[("and push it?", "git push --tags.")]).await;
    assert_eq!(none, vec![]);
    drop(jobs);
    task.await.unwrap();
    assert_eq!(
        source_of(&service, session_id).await,
        ("Releases and ownership".to_owned(), TitleSource::Refreshed)
    );

    // The next chat on the session does not check it again.
    let manager = fixture.manager_at(NOW_MS + 1_000);
    let (replies, mut events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    let task = SessionTask::new(manager, 8_000, None, replies).spawn(receiver);
    jobs.send(SessionJob::Resume(session_id)).unwrap();
    let none = exchange(&jobs, &mut events, &[("one more?", "Sure.")]).await;
    assert_eq!(none, vec![]);
    drop(jobs);
    task.await.unwrap();
}
