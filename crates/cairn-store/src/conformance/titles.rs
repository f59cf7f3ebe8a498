//! Behaviours of titles and where they came from: a title the user set is never replaced by
//! an automatic one, however the writes interleave, and listings say which kind a title is.

use cairn_core::title::TitleSource;

use super::*;
use pretty_assertions::assert_eq;

async fn listed_title(service: &Service, id: SessionId) -> (String, TitleSource) {
    let listed = service
        .list_sessions(&SessionFilter {
            include_archived: true,
            ..SessionFilter::default()
        })
        .await
        .expect("list");
    let summary = listed
        .into_iter()
        .find(|summary| summary.session.id == id)
        .expect("the session is listed");
    (summary.session.title, summary.title_source)
}

pub async fn a_user_title_is_never_replaced_by_an_automatic_one(service: Service) {
    let session = stored_conversation(&service, "titles", None, 1_000).await;
    let renamed = service
        .set_title(session.id, "My name for it", TitleSource::User, 2_000)
        .await
        .expect("rename");
    assert!(renamed);

    for source in [TitleSource::Model, TitleSource::FirstMessage] {
        let applied = service
            .set_title(session.id, "Generated", source, 3_000)
            .await
            .expect("automatic title");
        assert!(!applied, "a {source:?} title replaced the user's");
    }
    assert_eq!(
        listed_title(&service, session.id).await,
        ("My name for it".to_owned(), TitleSource::User)
    );
    assert_eq!(
        service
            .get_session(session.id)
            .await
            .expect("get")
            .map(|stored| (stored.title, stored.updated_at_ms)),
        Some(("My name for it".to_owned(), 2_000)),
        "a refused title changes nothing, updated_at included"
    );

    // The user may rename again.
    assert!(
        service
            .set_title(session.id, "Second name", TitleSource::User, 4_000)
            .await
            .expect("rename again")
    );
    assert_eq!(
        listed_title(&service, session.id).await,
        ("Second name".to_owned(), TitleSource::User)
    );
}

pub async fn automatic_titles_are_listed_as_such_and_replace_each_other(service: Service) {
    let mut first = session("titles", None, 1_000);
    first.title = "how do I fix the build".to_owned();
    let events = chain(&first, None, 1_000, vec![user("how do I fix the build")]);
    store(&service, &first, &events).await;
    assert_eq!(
        listed_title(&service, first.id).await,
        (
            "how do I fix the build".to_owned(),
            TitleSource::FirstMessage
        )
    );

    assert!(
        service
            .set_title(first.id, "Fixing the build", TitleSource::Model, 2_000)
            .await
            .expect("generated")
    );
    assert_eq!(
        listed_title(&service, first.id).await,
        ("Fixing the build".to_owned(), TitleSource::Model)
    );
    // A refreshed automatic title replaces the earlier one; the first message's no longer
    // does.
    assert!(
        service
            .set_title(first.id, "Build cache tuning", TitleSource::Model, 3_000)
            .await
            .expect("refreshed")
    );
    assert!(
        !service
            .set_title(first.id, "how do I", TitleSource::FirstMessage, 4_000)
            .await
            .expect("first message")
    );
    assert_eq!(
        listed_title(&service, first.id).await,
        ("Build cache tuning".to_owned(), TitleSource::Model)
    );
}

/// The model's title checked once (kept or renamed: `model_refreshed`) replaces the model's,
/// is never replaced by the model's or the first message's again, and gives way to the
/// user's; `title_source` says which kind is stored, as the listing does.
pub async fn a_checked_title_is_replaced_only_by_the_user(service: Service) {
    let session = stored_conversation(&service, "titles", None, 1_000).await;
    let id = session.id;
    assert_eq!(
        service.title_source(id).await.expect("source"),
        TitleSource::FirstMessage
    );
    assert!(
        service
            .set_title(id, "Fixing the build", TitleSource::Model, 2_000)
            .await
            .expect("model")
    );
    assert_eq!(
        service.title_source(id).await.expect("source"),
        TitleSource::Model
    );
    assert!(
        service
            .set_title(id, "Release checklist", TitleSource::Refreshed, 3_000)
            .await
            .expect("checked")
    );
    for source in [TitleSource::Model, TitleSource::FirstMessage] {
        assert!(
            !service
                .set_title(id, "older", source, 4_000)
                .await
                .expect("automatic")
        );
    }
    assert_eq!(
        listed_title(&service, id).await,
        ("Release checklist".to_owned(), TitleSource::Refreshed)
    );
    assert_eq!(
        service.title_source(id).await.expect("source"),
        TitleSource::Refreshed
    );
    assert!(
        service
            .set_title(id, "Mine", TitleSource::User, 5_000)
            .await
            .expect("user")
    );
    assert!(
        !service
            .set_title(id, "Release checklist", TitleSource::Refreshed, 6_000)
            .await
            .expect("checked again")
    );
    assert_eq!(
        service.title_source(id).await.expect("source"),
        TitleSource::User
    );
    assert!(matches!(
        service.title_source(SessionId::new()).await,
        Err(ServiceError::NotFound(_))
    ));
}

pub async fn concurrent_automatic_titles_never_overwrite_a_rename(service: Service) {
    let session = stored_conversation(&service, "titles", None, 1_000).await;
    let mut writers = Vec::new();
    for n in 0..16 {
        let service = service.clone();
        writers.push(tokio::spawn(async move {
            let (title, source) = if n == 7 {
                ("Named by me".to_owned(), TitleSource::User)
            } else {
                (format!("Generated {n}"), TitleSource::Model)
            };
            service
                .set_title(session.id, &title, source, 2_000 + n)
                .await
                .expect("set title")
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    assert_eq!(
        listed_title(&service, session.id).await,
        ("Named by me".to_owned(), TitleSource::User)
    );
}
