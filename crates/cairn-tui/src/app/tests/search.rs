//! Searching what was said from the chat: `/search`, the picker's filter searching content,
//! stale results, and opening a session at the message that matched.

use cairn_core::search::{SearchHit, Snippet};
use cairn_core::{EventId, Session, SessionId};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use crate::app::overlay::Overlay;
use crate::app::{AppEvent, Effect, Origin, SessionJob};
use crate::test_support::*;

fn hit(n: u128, title: &str, passage: &str, event_id: EventId) -> SearchHit {
    let session_id = SessionId(uuid::Uuid::from_u128(n));
    SearchHit {
        session: Session {
            id: session_id,
            directory: "/w".into(),
            git_root: None,
            head_id: None,
            title: title.into(),
            created_at_ms: NOW_MS,
            updated_at_ms: NOW_MS,
            archived_at_ms: None,
            model: None,
            location: cairn_core::Location::default(),
        },
        score: 1.0,
        snippets: vec![Snippet::from_marked(session_id, event_id, passage)],
    }
}

fn searches(effects: &[Effect]) -> Vec<(String, bool)> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Job(SessionJob::Search {
                query,
                all_workspaces,
            }) => Some((query.clone(), *all_workspaces)),
            _ => None,
        })
        .collect()
}

#[test]
fn slash_search_opens_the_picker_searching_for_the_words() {
    let mut app = new_app();
    type_text(&mut app, "/search borrow checker");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        searches(&effects),
        vec![("borrow checker".to_owned(), false)]
    );
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("the picker is open");
    };
    assert_eq!(picker.filter, "borrow checker");
}

#[test]
fn typing_searches_and_only_fresh_results_are_shown() {
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(Vec::new()),
    });
    let effects = type_text(&mut app, "kes");
    assert_eq!(
        searches(&effects),
        vec![
            ("k".to_owned(), false),
            ("ke".to_owned(), false),
            ("kes".to_owned(), false)
        ]
    );
    // An answer for an earlier filter is dropped.
    app.handle(AppEvent::SearchResults {
        query: "ke".into(),
        all_workspaces: false,
        result: Ok(vec![hit(1, "stale", "ke", EventId::new())]),
    });
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("the picker is open");
    };
    assert!(picker.rows(NOW_MS).is_empty());

    let event_id = EventId::new();
    app.handle(AppEvent::SearchResults {
        query: "kes".into(),
        all_workspaces: false,
        result: Ok(vec![hit(
            2,
            "Birds",
            "a \u{e000}kestrel\u{e001} \x1b[2Jhovers",
            event_id,
        )]),
    });
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("the picker is open");
    };
    let rows = picker.rows(NOW_MS);
    assert_eq!(rows.len(), 1);
    let snippet = rows[0].snippet.clone().expect("a passage");
    assert!(!snippet.text.contains('\x1b'), "{snippet:?}");
    assert_eq!(&snippet.text[snippet.highlights[0].clone()], "kestrel");

    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::OpenAt {
            session_id: SessionId(uuid::Uuid::from_u128(2)),
            event_id,
        })]
    );
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn an_invalid_query_says_why_in_the_picker() {
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(Vec::new()),
    });
    type_text(&mut app, "\"");
    app.handle(AppEvent::SearchResults {
        query: "\"".into(),
        all_workspaces: false,
        result: Err("the query has an opening quote without a closing one".into()),
    });
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("the picker is open");
    };
    assert_eq!(
        picker.search_error(),
        Some("the query has an opening quote without a closing one")
    );
}

#[test]
fn a_match_in_the_current_session_scrolls_to_it() {
    let kinds = (0..30)
        .flat_map(|n| {
            [
                user(&format!("question {n}")),
                assistant(&format!("answer {n}")),
            ]
        })
        .collect();
    let mut app = app_with((60, 20), Origin::Resumed, kinds, &[]);
    let target = app.transcript.cells()[4].event_id.expect("an event id");
    app.handle(AppEvent::Focus(target));
    assert!(app.scroll > 0, "scrolled up to an early message");
    let screen = format!("{:?}", draw(&app).backend());
    assert!(screen.contains("question 2"), "{screen}");
    assert!(!screen.contains("answer 29"), "{screen}");
    // An event not on screen changes nothing.
    let scroll = app.scroll;
    app.handle(AppEvent::Focus(EventId::new()));
    assert_eq!(app.scroll, scroll);
}
