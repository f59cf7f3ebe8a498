//! The core behaviours every backend shows: creating, appending with compare-and-swap,
//! loading branches, listing, renaming, archiving, deleting, counting and unknown ids.

use cairn_core::title::TitleSource;

use super::*;
use pretty_assertions::assert_eq;

/// What is created is what is loaded, field for field.
pub async fn create_and_load_round_trip(service: Service) {
    let mut session = session("round-trip", Some("repo"), 1_000);
    session.title = "a title".to_owned();
    let mut kinds = vec![
        user("first question\nsecond line"),
        assistant("an answer"),
        EventKind::ToolCall {
            call_id: "call-1".to_owned(),
            name: "read_file".to_owned(),
            arguments: "{\"path\": ".to_owned(),
        },
        EventKind::ToolResult {
            call_id: "call-1".to_owned(),
            output: "contents".to_owned(),
            is_error: true,
        },
        EventKind::ToolDecision {
            call_id: "call-1".to_owned(),
            decision: cairn_core::ToolVerdict::Denied,
            rule: Some("rm".to_owned()),
            reason: Some("not now".to_owned()),
        },
        note("a note"),
        EventKind::SystemContext {
            text: "context".to_owned(),
        },
        EventKind::Error {
            message: "it broke".to_owned(),
        },
    ];
    kinds.push(EventKind::AssistantMessage {
        text: "partial".to_owned(),
        usage: Some(cairn_core::TokenUsage {
            input_tokens: 10,
            output_tokens: 2,
        }),
        interrupted: true,
        model: None,
    });
    let events = chain(&session, None, 1_000, kinds);
    let stored = store(&service, &session, &events).await;

    let loaded = service.load_session(session.id).await.expect("load");
    assert_eq!(
        loaded,
        LoadedSession {
            session: stored.clone(),
            events,
            off_branch_events: 0,
            warnings: vec![],
            forked_from: None,
        }
    );
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(stored)
    );
}

pub async fn create_refuses_a_taken_id(service: Service) {
    let session = stored_conversation(&service, "taken", None, 1_000).await;
    let again = chain(&session, None, 2_000, vec![user("again")]);
    let err = service
        .create_session(&session, &again)
        .await
        .expect_err("id is taken");
    assert!(
        matches!(err, ServiceError::AlreadyExists(id) if id == session.id),
        "expected AlreadyExists, got {err:?}"
    );
    let loaded = service.load_session(session.id).await.expect("load");
    assert_eq!(loaded.events.len(), 1, "the refused create wrote nothing");
}

/// Order comes from parent links: timestamps deliberately run backwards here.
pub async fn chain_order_follows_links_not_timestamps(service: Service) {
    let session = session("links", None, 10_000);
    let mut events = Vec::new();
    let mut parent = None;
    for (step, text) in (0_i64..).zip(["one", "two", "three", "four"]) {
        let next = event(&session, parent, 10_000 - step * 1_000, user(text));
        parent = Some(next.id);
        events.push(next);
    }
    store(&service, &session, &events[..2]).await;
    service
        .append_events(session.id, Some(events[1].id), &events[2..])
        .await
        .expect("append");

    let loaded = service.load_session(session.id).await.expect("load");
    assert_eq!(loaded.events, events);
    let parents: Vec<Option<EventId>> = loaded.events.iter().map(|e| e.parent_id).collect();
    let expected: Vec<Option<EventId>> = std::iter::once(None)
        .chain(events.iter().take(3).map(|e| Some(e.id)))
        .collect();
    assert_eq!(parents, expected);
    assert_eq!(loaded.session.head_id, Some(events[3].id));
    // `updated_at` never moves backwards, even when a writer's clock does.
    assert_eq!(loaded.session.updated_at_ms, 9_000);
}

pub async fn append_with_current_head_moves_head_and_counts(service: Service) {
    let session = session("append", None, 1_000);
    let first = chain(&session, None, 1_000, vec![user("question"), note("note")]);
    let stored = store(&service, &session, &first).await;
    let more = chain(
        &session,
        Some(first[1].id),
        5_000,
        vec![assistant("answer"), user("  \nfollow-up\nmore"), note("n")],
    );
    service
        .append_events(session.id, stored.head_id, &more)
        .await
        .expect("append");

    let expected_session = Session {
        head_id: Some(more[2].id),
        updated_at_ms: 5_002,
        ..stored
    };
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(expected_session.clone())
    );
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    assert_eq!(
        listed,
        vec![SessionSummary {
            session: expected_session,
            message_count: 3,
            branch_count: 1,
            preview: "follow-up".to_owned(),
            title_source: TitleSource::FirstMessage,
        }]
    );
    let loaded = service.load_session(session.id).await.expect("load");
    assert_eq!(loaded.events, [first, more].concat());
}

pub async fn append_with_stale_head_conflicts_and_writes_nothing(service: Service) {
    let session = session("stale", None, 1_000);
    let first = chain(&session, None, 1_000, vec![user("q")]);
    let stored = store(&service, &session, &first).await;
    let winner = chain(&session, Some(first[0].id), 2_000, vec![assistant("a")]);
    service
        .append_events(session.id, Some(first[0].id), &winner)
        .await
        .expect("first writer");
    let before = service.load_session(session.id).await.expect("load");

    let loser = chain(
        &session,
        Some(first[0].id),
        3_000,
        vec![assistant("b"), user("c")],
    );
    let err = service
        .append_events(session.id, Some(first[0].id), &loser)
        .await
        .expect_err("stale head");
    assert!(
        matches!(
            &err,
            ServiceError::Conflict { session_id, expected, actual }
                if *session_id == session.id
                    && *expected == Some(first[0].id)
                    && *actual == Some(winner[0].id)
        ),
        "expected Conflict, got {err:?}"
    );
    // Claiming the session has no head is just as stale.
    let err = service
        .append_events(session.id, None, &loser)
        .await
        .expect_err("stale head");
    assert!(matches!(err, ServiceError::Conflict { .. }), "got {err:?}");

    assert_eq!(
        service.load_session(session.id).await.expect("load"),
        before
    );
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    assert_eq!(
        listed,
        vec![SessionSummary {
            session: Session {
                head_id: Some(winner[0].id),
                updated_at_ms: 2_000,
                ..stored
            },
            message_count: 2,
            branch_count: 1,
            preview: "q".to_owned(),
            title_source: TitleSource::FirstMessage,
        }]
    );
}

/// Regenerating an answer: the new event's parent is an earlier event.
pub async fn branch_from_earlier_event_abandons_the_old_tail(service: Service) {
    let session = session("branch", None, 1_000);
    let first = chain(
        &session,
        None,
        1_000,
        vec![user("q"), assistant("old answer")],
    );
    store(&service, &session, &first).await;
    let retry = chain(
        &session,
        Some(first[0].id),
        2_000,
        vec![assistant("new answer")],
    );
    service
        .append_events(session.id, Some(first[1].id), &retry)
        .await
        .expect("branch");

    let loaded = service.load_session(session.id).await.expect("load");
    assert_eq!(loaded.events, vec![first[0].clone(), retry[0].clone()]);
    assert_eq!(loaded.off_branch_events, 1);
    assert_eq!(loaded.warnings, Vec::<String>::new());
    assert_eq!(loaded.session.head_id, Some(retry[0].id));
    // Listings count what a person sees: the active branch, and the branches beside it.
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    assert_eq!(
        (listed[0].message_count, listed[0].branch_count),
        (2, 2),
        "messages on the active branch, and two branches"
    );
}

/// The newest events of the head branch, for drawing a resumed chat at once: a suffix of
/// the whole branch, abandoned branches left out, and whether anything is older.
pub async fn recent_events_are_the_newest_of_the_head_branch(service: Service) {
    let session = session("recent", None, 1_000);
    let first = chain(
        &session,
        None,
        1_000,
        vec![user("one"), assistant("1"), user("two"), assistant("old 2")],
    );
    store(&service, &session, &first).await;
    // A regenerated answer: the old one is off the branch, never part of the recent events.
    let retry = chain(
        &session,
        Some(first[2].id),
        2_000,
        vec![assistant("new 2"), user("three")],
    );
    service
        .append_events(session.id, Some(first[3].id), &retry)
        .await
        .expect("branch");
    let branch = service.load_session(session.id).await.expect("load").events;
    assert_eq!(branch.len(), 5);

    let recent = service.load_recent(session.id, 2).await.expect("recent");
    assert_eq!(recent.events, branch[3..].to_vec());
    assert!(recent.has_earlier);
    assert_eq!(recent.session.head_id, Some(retry[1].id));

    let exact = service.load_recent(session.id, 5).await.expect("recent");
    assert_eq!(exact.events, branch);
    assert!(!exact.has_earlier);
    let more = service.load_recent(session.id, 100).await.expect("recent");
    assert_eq!(more.events, branch);
    assert!(!more.has_earlier);

    let unknown = SessionId::new();
    assert!(matches!(
        service.load_recent(unknown, 10).await,
        Err(ServiceError::NotFound(id)) if id == unknown
    ));
}

pub async fn listing_filters_and_orders(service: Service) {
    let app = stored_conversation(&service, "repo/app", Some("repo"), 1_000).await;
    let docs = stored_conversation(&service, "repo/docs", Some("repo"), 2_000).await;
    let root = stored_conversation(&service, "repo", Some("repo"), 3_000).await;
    let plain = stored_conversation(&service, "plain", None, 4_000).await;
    let archived = stored_conversation(&service, "repo/app", Some("repo"), 5_000).await;
    service
        .set_archived(archived.id, Some(6_000))
        .await
        .expect("archive");
    let archived = Session {
        archived_at_ms: Some(6_000),
        ..archived
    };

    let list =
        |workspace: Option<(&str, Option<&str>)>, include_archived: bool, limit: Option<u32>| {
            let service = service.clone();
            let filter = SessionFilter {
                workspace: workspace.map(|(directory, git_root)| WorkspaceFilter {
                    directory: dir(directory),
                    git_root: git_root.map(dir),
                    repository: None,
                }),
                include_archived,
                limit,
            };
            async move {
                let listed = service.list_sessions(&filter).await.expect("list");
                listed
                    .into_iter()
                    .map(|summary| summary.session)
                    .collect::<Vec<_>>()
            }
        };

    assert_eq!(
        list(None, false, None).await,
        vec![plain.clone(), root.clone(), docs.clone(), app.clone()]
    );
    assert_eq!(
        list(None, true, None).await,
        vec![
            archived.clone(),
            plain.clone(),
            root.clone(),
            docs.clone(),
            app.clone()
        ]
    );
    assert_eq!(
        list(None, true, Some(2)).await,
        vec![archived.clone(), plain.clone()]
    );
    assert_eq!(
        list(Some(("repo/app", Some("repo"))), false, None).await,
        vec![root.clone(), docs.clone(), app.clone()]
    );
    assert_eq!(
        list(Some(("repo/app", None)), true, None).await,
        vec![archived.clone(), app.clone()]
    );
    assert_eq!(list(Some(("nowhere", None)), true, None).await, vec![]);

    let summaries = service
        .list_sessions(&SessionFilter {
            workspace: Some(WorkspaceFilter {
                directory: dir("plain"),
                git_root: None,
                repository: None,
            }),
            include_archived: false,
            limit: None,
        })
        .await
        .expect("list");
    assert_eq!(
        summaries,
        vec![SessionSummary {
            session: plain,
            message_count: 1,
            branch_count: 1,
            preview: "hello".to_owned(),
            title_source: TitleSource::FirstMessage,
        }]
    );
}

pub async fn prefix_lookup_ignores_hyphens_and_case(service: Service) {
    let first = stored_conversation(&service, "a", None, 1_000).await;
    let second = stored_conversation(&service, "b", None, 2_000).await;
    let hex = first.id.as_uuid().simple().to_string();
    let hyphenated = first.id.to_string();

    for prefix in [
        hex[..12].to_owned(),
        hex[..12].to_uppercase(),
        hyphenated[..14].to_owned(),
        hex.clone(),
    ] {
        let found = service.find_by_id_prefix(&prefix, 10).await.expect("find");
        assert_eq!(ids(&found), vec![first.id], "prefix {prefix}");
    }
    // Both ids are v7 and made a moment apart: they share their leading digits.
    let both = service
        .find_by_id_prefix(&hex[..4], 10)
        .await
        .expect("find");
    assert_eq!(ids(&both), vec![second.id, first.id]);
    let limited = service.find_by_id_prefix(&hex[..4], 1).await.expect("find");
    assert_eq!(ids(&limited), vec![second.id]);

    for not_hex in ["xyz", "0%", "_", "' OR 1=1 --"] {
        let found = service.find_by_id_prefix(not_hex, 10).await.expect("find");
        assert_eq!(found, vec![], "prefix {not_hex}");
    }
}

pub async fn rename_sets_title(service: Service) {
    let session = stored_conversation(&service, "rename", None, 1_000).await;
    let applied = service
        .set_title(session.id, "Build fixes", TitleSource::User, 3_000)
        .await
        .expect("rename");
    assert!(applied);
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(Session {
            title: "Build fixes".to_owned(),
            updated_at_ms: 3_000,
            ..session.clone()
        })
    );
    // A rename stamped earlier than the last change does not move `updated_at` back.
    service
        .set_title(session.id, "Older clock", TitleSource::User, 2_000)
        .await
        .expect("rename");
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(Session {
            title: "Older clock".to_owned(),
            updated_at_ms: 3_000,
            ..session
        })
    );
}

pub async fn archive_and_unarchive_keep_updated_at(service: Service) {
    let session = stored_conversation(&service, "archive", None, 1_000).await;
    service
        .set_archived(session.id, Some(9_000))
        .await
        .expect("archive");
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(Session {
            archived_at_ms: Some(9_000),
            ..session.clone()
        })
    );
    service
        .set_archived(session.id, None)
        .await
        .expect("unarchive");
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(session)
    );
}

pub async fn delete_removes_session_and_events(service: Service) {
    let kept = stored_conversation(&service, "keep", None, 1_000).await;
    let doomed = session("delete", None, 2_000);
    let events = chain(&doomed, None, 2_000, vec![user("q"), assistant("a")]);
    store(&service, &doomed, &events).await;

    service.delete_session(doomed.id).await.expect("delete");
    assert_eq!(service.get_session(doomed.id).await.expect("get"), None);
    assert!(matches!(
        service.load_session(doomed.id).await,
        Err(ServiceError::NotFound(_))
    ));
    let listed = service
        .list_sessions(&SessionFilter {
            include_archived: true,
            ..SessionFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(
        listed
            .into_iter()
            .map(|summary| summary.session)
            .collect::<Vec<_>>(),
        vec![kept]
    );
    // The events went too: the same ids can be written again in a new session.
    let reborn = Session {
        id: SessionId::new(),
        ..doomed
    };
    let same_ids: Vec<Event> = events
        .into_iter()
        .map(|event| Event {
            session_id: reborn.id,
            ..event
        })
        .collect();
    store(&service, &reborn, &same_ids).await;
}

pub async fn unknown_ids_are_not_found(service: Service) {
    let missing = session("missing", None, 1_000);
    let events = chain(&missing, None, 1_000, vec![user("q")]);
    let not_found = |result: Result<(), ServiceError>, what: &str| match result {
        Err(ServiceError::NotFound(id)) => assert_eq!(id, missing.id, "{what}"),
        other => panic!("{what}: expected NotFound, got {other:?}"),
    };

    not_found(
        service.append_events(missing.id, None, &events).await,
        "append_events",
    );
    not_found(
        service.load_session(missing.id).await.map(|_| ()),
        "load_session",
    );
    not_found(
        service
            .set_title(missing.id, "t", TitleSource::Model, 1)
            .await
            .map(|_| ()),
        "set_title",
    );
    not_found(
        service.set_archived(missing.id, Some(1)).await,
        "set_archived",
    );
    not_found(service.delete_session(missing.id).await, "delete_session");
    assert_eq!(service.get_session(missing.id).await.expect("get"), None);
    assert_eq!(
        service
            .list_sessions(&SessionFilter::default())
            .await
            .expect("list"),
        vec![]
    );
}
