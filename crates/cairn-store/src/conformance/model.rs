//! Behaviours of the model a session is switched to: stored with the session, read back
//! wherever the session is, and changed without making the session look recently used.

use super::*;
use pretty_assertions::assert_eq;

pub async fn a_sessions_model_is_stored_and_can_be_changed(service: Service) {
    let mut picked = session("model", None, 1_000);
    picked.model = Some("small-model".to_owned());
    let events = chain(&picked, None, 1_000, vec![user("q"), assistant("a")]);
    let picked = store(&service, &picked, &events).await;
    assert_eq!(
        service.load_session(picked.id).await.expect("load").session,
        picked,
        "created with its model"
    );

    service
        .set_model(picked.id, Some("large-model"))
        .await
        .expect("set model");
    let switched = Session {
        model: Some("large-model".to_owned()),
        ..picked.clone()
    };
    assert_eq!(
        service.get_session(picked.id).await.expect("get"),
        Some(switched.clone()),
        "updated_at does not move"
    );
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    assert_eq!(listed[0].session, switched);

    service.set_model(picked.id, None).await.expect("reset");
    assert_eq!(
        service.get_session(picked.id).await.expect("get"),
        Some(Session {
            model: None,
            ..picked
        })
    );

    let missing = SessionId::new();
    assert!(matches!(
        service.set_model(missing, Some("x")).await,
        Err(ServiceError::NotFound(id)) if id == missing
    ));
}
