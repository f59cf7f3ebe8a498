//! Conformance behaviours of the turn in progress: the lease that keeps two terminals from
//! interleaving their turns, and the drafts that keep a streamed answer through a crash.

use cairn_core::lease::{AnswerDraft, LeaseHolder, LeaseOutcome};
use cairn_core::{InvocationId, SessionId, SessionVersion};
use pretty_assertions::assert_eq;

use super::{Service, assistant, chain, session, store, user};

const TTL: i64 = 5_000;

fn holder(pid: u32) -> LeaseHolder {
    LeaseHolder {
        invocation_id: InvocationId::new(),
        host: "conformance-host".to_owned(),
        pid,
    }
}

pub async fn a_lease_is_exclusive_until_it_expires(service: Service) {
    let session_id = SessionId::new();
    let (first, second) = (holder(1), holder(2));
    let acquire = |who: &LeaseHolder, at: i64| {
        let service = service.clone();
        let who = who.clone();
        async move {
            service
                .acquire_lease(session_id, &who, at, TTL)
                .await
                .expect("acquire")
        }
    };
    assert_eq!(acquire(&first, 10_000).await, LeaseOutcome::Acquired);
    let LeaseOutcome::HeldBy(lease) = acquire(&second, 10_001).await else {
        panic!("a live lease was granted twice");
    };
    assert_eq!(lease.holder, first);
    assert_eq!(lease.started_at_ms, 10_000);
    assert_eq!(lease.expires_at_ms, 10_000 + TTL);
    assert!(lease.is_live(10_001));
    // One millisecond before expiry it still holds; at expiry anyone may take it.
    assert!(matches!(
        acquire(&second, 10_000 + TTL - 1).await,
        LeaseOutcome::HeldBy(_)
    ));
    assert_eq!(acquire(&second, 10_000 + TTL).await, LeaseOutcome::Acquired);
    // The holder that lapsed learns it when it tries to renew.
    assert!(
        !service
            .renew_lease(session_id, first.invocation_id, 10_000 + TTL + 1, TTL)
            .await
            .expect("renew")
    );
    let lease = service
        .current_lease(session_id)
        .await
        .expect("current")
        .expect("a lease");
    assert_eq!(lease.holder, second);
}

pub async fn renewing_extends_and_releasing_frees_the_lease(service: Service) {
    let session_id = SessionId::new();
    let (first, second) = (holder(1), holder(2));
    service
        .acquire_lease(session_id, &first, 1_000, TTL)
        .await
        .expect("acquire");
    assert!(
        service
            .renew_lease(session_id, first.invocation_id, 4_000, TTL)
            .await
            .expect("renew")
    );
    // Past the first expiry, but the renewal moved it.
    assert!(matches!(
        service
            .acquire_lease(session_id, &second, 7_000, TTL)
            .await
            .expect("acquire"),
        LeaseOutcome::HeldBy(_)
    ));
    // Asking again as the holder is a renewal that keeps the start time.
    assert_eq!(
        service
            .acquire_lease(session_id, &first, 8_000, TTL)
            .await
            .expect("acquire"),
        LeaseOutcome::Acquired
    );
    let lease = service.current_lease(session_id).await.expect("current");
    assert_eq!(
        lease.map(|lease| (lease.started_at_ms, lease.heartbeat_at_ms)),
        Some((1_000, 8_000))
    );
    // Releasing someone else's lease does nothing; the holder's own frees it at once.
    service
        .release_lease(session_id, second.invocation_id)
        .await
        .expect("release");
    assert!(
        service
            .current_lease(session_id)
            .await
            .expect("current")
            .is_some()
    );
    service
        .release_lease(session_id, first.invocation_id)
        .await
        .expect("release");
    assert_eq!(
        service.current_lease(session_id).await.expect("current"),
        None
    );
    assert_eq!(
        service
            .acquire_lease(session_id, &second, 8_001, TTL)
            .await
            .expect("acquire"),
        LeaseOutcome::Acquired
    );
}

pub async fn concurrent_acquisitions_grant_one_lease(service: Service) {
    let session_id = SessionId::new();
    let attempts = (0..16).map(|pid| {
        let service = service.clone();
        async move {
            service
                .acquire_lease(session_id, &holder(pid), 50_000, TTL)
                .await
                .expect("acquire")
        }
    });
    let outcomes = futures::future::join_all(attempts.map(tokio::spawn)).await;
    let granted = outcomes
        .into_iter()
        .map(|outcome| outcome.expect("task"))
        .filter(|outcome| *outcome == LeaseOutcome::Acquired)
        .count();
    assert_eq!(granted, 1);
}

pub async fn a_draft_is_settled_by_its_invocations_next_append(service: Service) {
    let row = session("drafts", None, 1_000);
    let question = chain(&row, None, 1_000, vec![user("q")]);
    let stored = store(&service, &row, &question).await;
    let writer = InvocationId::new();
    let draft = |text: &str, at: i64| AnswerDraft {
        session_id: row.id,
        invocation_id: writer,
        question_id: Some(question[0].id),
        model: Some("test-model".to_owned()),
        text: text.to_owned(),
        updated_at_ms: at,
    };
    service
        .save_draft(&draft("par", 2_000))
        .await
        .expect("save");
    service
        .save_draft(&draft("partial", 3_000))
        .await
        .expect("save");
    assert_eq!(
        service.drafts(row.id).await.expect("drafts"),
        vec![draft("partial", 3_000)]
    );

    // Another invocation's append leaves the draft alone...
    let other = chain(&stored, stored.head_id, 3_500, vec![assistant("other")]);
    service
        .append_events(row.id, stored.head_id, &other)
        .await
        .expect("append");
    assert_eq!(service.drafts(row.id).await.expect("drafts").len(), 1);
    // ...its own settles it, in the same write.
    let mut answer = chain(
        &stored,
        Some(other[0].id),
        4_000,
        vec![assistant("partial answer")],
    );
    answer[0].invocation_id = writer;
    service
        .append_events(row.id, Some(other[0].id), &answer)
        .await
        .expect("append");
    assert_eq!(service.drafts(row.id).await.expect("drafts"), vec![]);
}

pub async fn deleting_a_session_removes_its_lease_and_drafts(service: Service) {
    let row = session("doomed-turn", None, 1_000);
    let question = chain(&row, None, 1_000, vec![user("q")]);
    store(&service, &row, &question).await;
    let writer = holder(7);
    service
        .acquire_lease(row.id, &writer, 1_500, TTL)
        .await
        .expect("acquire");
    service
        .save_draft(&AnswerDraft {
            session_id: row.id,
            invocation_id: writer.invocation_id,
            question_id: Some(question[0].id),
            model: None,
            text: "half".to_owned(),
            updated_at_ms: 1_600,
        })
        .await
        .expect("save");
    service.delete_session(row.id).await.expect("delete");
    assert_eq!(service.current_lease(row.id).await.expect("lease"), None);
    assert_eq!(service.drafts(row.id).await.expect("drafts"), vec![]);
}

/// The change marker a chat window polls moves with every write another process can make to
/// the session, and stays put when nothing was written.
pub async fn the_session_version_changes_with_every_write(service: Service) {
    let row = session("watched", None, 1_000);
    assert_eq!(
        service.session_version(row.id).await.expect("version"),
        None,
        "an unstored session has no version"
    );
    let question = chain(&row, None, 1_000, vec![user("q")]);
    let stored = store(&service, &row, &question).await;
    let version = || async {
        service
            .session_version(row.id)
            .await
            .expect("version")
            .expect("a stored session has a version")
    };
    let first = version().await;
    assert_eq!(
        first,
        SessionVersion {
            head_id: stored.head_id,
            updated_at_ms: 1_000,
            archived_at_ms: None,
            lease: None,
            draft_saved_at_ms: None,
        }
    );
    assert_eq!(version().await, first, "reading does not change it");

    let writer = holder(9);
    service
        .acquire_lease(row.id, &writer, 2_000, TTL)
        .await
        .expect("acquire");
    let leased = version().await;
    assert_eq!(leased.lease, Some((writer.invocation_id, 2_000 + TTL)));
    service
        .save_draft(&AnswerDraft {
            session_id: row.id,
            invocation_id: writer.invocation_id,
            question_id: stored.head_id,
            model: None,
            text: "so far".to_owned(),
            updated_at_ms: 2_500,
        })
        .await
        .expect("save");
    assert_eq!(version().await.draft_saved_at_ms, Some(2_500));

    let mut answer = chain(&stored, stored.head_id, 3_000, vec![assistant("a")]);
    answer[0].invocation_id = writer.invocation_id;
    service
        .append_events(row.id, stored.head_id, &answer)
        .await
        .expect("append");
    service
        .release_lease(row.id, writer.invocation_id)
        .await
        .expect("release");
    assert_eq!(
        version().await,
        SessionVersion {
            head_id: Some(answer[0].id),
            updated_at_ms: 3_000,
            archived_at_ms: None,
            lease: None,
            draft_saved_at_ms: None,
        }
    );

    service
        .set_archived(row.id, Some(4_000))
        .await
        .expect("archive");
    assert_eq!(version().await.archived_at_ms, Some(4_000));
    service.delete_session(row.id).await.expect("delete");
    assert_eq!(
        service.session_version(row.id).await.expect("version"),
        None
    );
}
