//! Conformance behaviours of copying sessions between stores: what a store exports comes
//! back whole when imported (every branch, head, title, archive state, model, location, fork
//! origin, events of unknown types), importing twice writes nothing twice, and a page that
//! cannot be written is written not at all.

use cairn_core::transfer::{ExportedEvent, ImportOutcome, SessionExport};
use cairn_core::{ForkOrigin, SessionFilter};
use pretty_assertions::assert_eq;

use super::*;

/// Every session of `service`, exported `page` at a time.
/// An event as an export carries it.
fn exported(event: &Event) -> ExportedEvent {
    ExportedEvent {
        id: event.id,
        parent_id: event.parent_id,
        invocation_id: event.invocation_id,
        event_type: event.kind.event_type().to_owned(),
        event_data: event.kind.data_json(),
        created_at_ms: event.created_at_ms,
    }
}

async fn export_all(service: &Service, page: u32) -> Vec<SessionExport> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let next = service.export_sessions(after, page).await.expect("export");
        assert!(next.len() <= page as usize);
        let Some(last) = next.last() else {
            return all;
        };
        after = Some(last.session.id);
        all.extend(next);
    }
}

/// What a person or the chat can see of every session: rows, listings with their counters,
/// every event and the head's branch.
async fn everything(service: &Service) -> Vec<(SessionSummary, LoadedSession, Vec<Event>)> {
    let listed = service
        .list_sessions(&SessionFilter {
            include_archived: true,
            ..SessionFilter::default()
        })
        .await
        .expect("list");
    let mut seen = Vec::new();
    for summary in listed {
        let id = summary.session.id;
        let loaded = service.load_session(id).await.expect("load");
        let mut all = service.load_all_events(id).await.expect("load all").events;
        all.sort_by_key(|event| event.id);
        seen.push((summary, loaded, all));
    }
    seen
}

/// Three sessions with all a session can have: two branches, a title, a model and a
/// location; an archived one; a fork of the first.
async fn varied_sessions(service: &Service) -> Vec<Session> {
    let first = Session {
        title: "two branches".to_owned(),
        location: Location {
            host: Some("desktop".to_owned()),
            repository: Some("example.com/team/app".to_owned()),
            repository_folder: Some(PathBuf::from("src")),
        },
        ..session("copy/src", Some("copy"), 1_000)
    };
    let old = chain(
        &first,
        None,
        1_000,
        vec![user("q1"), assistant("a1"), user("q2")],
    );
    store(service, &first, &old).await;
    let edited = chain(
        &first,
        Some(old[1].id),
        2_000,
        vec![user("q2b"), assistant("a2b")],
    );
    service
        .append_events(first.id, Some(old[2].id), &edited)
        .await
        .expect("append a second branch");
    service
        .set_model(first.id, Some("big-model"))
        .await
        .expect("model");

    let archived = stored_conversation(service, "copy/old", None, 500).await;
    service
        .set_archived(archived.id, Some(3_000))
        .await
        .expect("archive");

    let fork = session("copy/src", Some("copy"), 4_000);
    let copies = chain(&fork, None, 4_000, vec![user("q1"), assistant("a1")]);
    let fork = Session {
        head_id: Some(copies[1].id),
        updated_at_ms: 4_001,
        ..fork
    };
    service
        .create_session(&fork, &copies)
        .await
        .expect("create");
    vec![first, archived, fork]
}

pub async fn exported_sessions_come_back_whole_and_only_once(service: Service) {
    let sessions = varied_sessions(&service).await;
    let before = everything(&service).await;
    let mut exported = export_all(&service, 2).await;
    assert_eq!(exported.len(), 3);
    // A fork origin travels with its session (written here, since only imports and forks
    // can record one).
    let origin = ForkOrigin {
        session_id: sessions[0].id,
        event_id: exported[0].events[1].id,
    };
    for export in &mut exported {
        if export.session.id == sessions[2].id {
            export.forked_from = Some(origin);
        }
    }

    for session in &sessions {
        service.delete_session(session.id).await.expect("delete");
    }
    let written = service.import_sessions(&exported).await.expect("import");
    assert_eq!(
        written,
        ImportOutcome {
            sessions: 3,
            events: 5 + 1 + 2,
            skipped_sessions: 0,
        }
    );
    let mut after = everything(&service).await;
    for (_, loaded, _) in &mut after {
        if loaded.session.id == sessions[2].id {
            assert_eq!(loaded.forked_from, Some(origin));
            loaded.forked_from = None;
        }
    }
    assert_eq!(after, before);
    assert_eq!(export_all(&service, 100).await, exported);

    // A second import, or one overlapping the first, writes nothing again.
    assert_eq!(
        service
            .import_sessions(&exported)
            .await
            .expect("import again"),
        ImportOutcome {
            sessions: 0,
            events: 0,
            skipped_sessions: 3,
        }
    );
    assert_eq!(
        service.count_sessions(None).await.expect("count"),
        cairn_core::service::SessionCounts {
            active: 2,
            archived: 1,
        }
    );
}

pub async fn imported_events_of_unknown_types_are_kept(service: Service) {
    let target = session("copy/future", None, 1_000);
    let events = chain(&target, None, 1_000, vec![user("q"), assistant("a")]);
    let future = ExportedEvent {
        id: EventId::new(),
        parent_id: Some(events[1].id),
        invocation_id: InvocationId::new(),
        event_type: "hologram".to_owned(),
        event_data: "{\"beam\":1}".to_owned(),
        created_at_ms: 1_002,
    };
    let page = vec![SessionExport {
        session: Session {
            head_id: Some(future.id),
            updated_at_ms: 1_002,
            ..target
        },
        forked_from: None,
        events: vec![exported(&events[0]), exported(&events[1]), future],
    }];
    service.import_sessions(&page).await.expect("import");
    let loaded = service
        .load_session(page[0].session.id)
        .await
        .expect("load");
    assert_eq!(loaded.events, events);
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert_eq!(export_all(&service, 10).await, page);
}

/// A copy indexes a whole page of sessions at once (or leaves them to the search backfill);
/// every message must be found in its own session, as if it had been appended there.
pub async fn imported_sessions_are_found_by_what_was_said(service: Service) {
    use cairn_core::search::{SearchQuery, SearchRequest};
    let page: Vec<SessionExport> = (0..3)
        .map(|n| {
            let target = session(&format!("copy/search-{n}"), None, 1_000 + n);
            let events = chain(
                &target,
                None,
                1_000 + n,
                vec![
                    user(&format!("question about lighthouse{n}")),
                    assistant(&format!("the keeper{n} answers")),
                ],
            );
            SessionExport {
                session: Session {
                    head_id: Some(events[1].id),
                    updated_at_ms: events[1].created_at_ms,
                    ..target
                },
                forked_from: None,
                events: events.iter().map(exported).collect(),
            }
        })
        .collect();
    service.import_sessions(&page).await.expect("import");
    // A backend may leave imported events to its search backfill, as `cairn store copy`
    // and the chat drive it.
    for _ in 0..100 {
        if service
            .index_for_search(1_000)
            .await
            .expect("index")
            .is_done()
        {
            break;
        }
    }
    for (n, export) in page.iter().enumerate() {
        for (word, event) in [(format!("lighthouse{n}"), 0), (format!("keeper{n}"), 1)] {
            let hits = service
                .search(&SearchRequest {
                    query: SearchQuery::parse(&word).expect("query"),
                    workspace: None,
                    include_archived: true,
                    limit: 10,
                })
                .await
                .expect("search");
            assert_eq!(hits.len(), 1, "{word}: {hits:?}");
            assert_eq!(hits[0].session.id, export.session.id, "{word}");
            assert_eq!(
                hits[0].snippets[0].event_id, export.events[event].id,
                "{word}"
            );
            assert_eq!(hits[0].snippets[0].session_id, export.session.id, "{word}");
        }
    }
}

pub async fn an_import_page_that_cannot_be_written_writes_nothing(service: Service) {
    let good = session("copy/good", None, 1_000);
    let good_events = chain(&good, None, 1_000, vec![user("fine")]);
    let broken = session("copy/broken", None, 1_000);
    let broken_events = chain(&broken, None, 1_000, vec![user("head elsewhere")]);
    let as_export = |session: &Session, events: &[Event], head: EventId| SessionExport {
        session: Session {
            head_id: Some(head),
            ..session.clone()
        },
        forked_from: None,
        events: events.iter().map(exported).collect(),
    };
    let page = vec![
        as_export(&good, &good_events, good_events[0].id),
        as_export(&broken, &broken_events, EventId::new()),
    ];
    let error = service.import_sessions(&page).await.expect_err("refused");
    assert!(
        error.to_string().contains(&broken.id.to_string()),
        "{error}"
    );
    assert_eq!(service.get_session(good.id).await.expect("get"), None);
}
