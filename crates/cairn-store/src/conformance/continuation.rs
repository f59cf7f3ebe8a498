//! Conformance behaviour of a session that continues another (`/new --summary`): its first
//! event is a summary that names the archived session it carries forward, and every backend
//! gives that link back as written and resumes the new session, not the archived one.

use cairn_core::Continuation;

use super::*;
use pretty_assertions::assert_eq;

pub async fn a_continued_session_keeps_its_link_and_is_the_one_resumed(service: Service) {
    let old = session("carry", None, 1_000);
    let old_events = chain(
        &old,
        None,
        1_000,
        vec![user("how do I build"), assistant("cargo build")],
    );
    let old = store(&service, &old, &old_events).await;
    service
        .set_archived(old.id, Some(2_000))
        .await
        .expect("archive");

    let new = session("carry", None, 2_000);
    let carried = EventKind::Summary {
        text: "- Asked: how do I build".to_owned(),
        through: old_events[1].id,
        messages: 2,
        continued_from: Some(Continuation {
            session_id: old.id,
            title: old.title.clone(),
        }),
    };
    let new_events = chain(&new, None, 2_000, vec![carried.clone()]);
    let new = store(&service, &new, &new_events).await;

    let loaded = service.load_session(new.id).await.expect("load");
    assert_eq!(
        loaded.events.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        [&carried]
    );
    let found = service
        .find_resumable(&resume_query("carry", None, None))
        .await
        .expect("find");
    assert_eq!(found.map(|s| s.id), Some(new.id));
    // The archived session is untouched.
    assert_eq!(
        service.load_session(old.id).await.expect("load").events,
        old_events
    );
}
