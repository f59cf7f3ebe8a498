//! Overlays: opening, scrolling and closing the help; the sessions picker's filter, scope
//! toggle and switching.

use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;
use ratatui::layout::Rect;

use crate::app::{AppEvent, Effect, Origin, Overlay, SessionJob};
use crate::test_support::*;

#[test]
fn question_mark_and_slash_help_open_the_help_which_esc_or_question_mark_close() {
    let mut app = new_app();
    app.handle(key(KeyCode::Char('?')));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
    type_text(&mut app, "/help");
    app.handle(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    app.handle(key(KeyCode::Char('?')));
    assert!(matches!(app.overlay, Overlay::None));
    // In the middle of text, ? is just a character.
    type_text(&mut app, "why?");
    assert_eq!(app.input_text(), "why?");
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn the_help_scrolls_with_arrows_and_page_keys_within_its_length() {
    let mut app = app_with((80, 24), Origin::New, Vec::new(), &[]);
    app.handle(key(KeyCode::Char('?')));
    let max = crate::layout::help_max_scroll(Rect::new(0, 0, 80, 24));
    assert!(max > 0, "the help is taller than 24 rows");
    let mut seen = Vec::new();
    for code in [
        KeyCode::Down,
        KeyCode::Down,
        KeyCode::Up,
        KeyCode::PageDown,
        KeyCode::PageDown,
        KeyCode::Home,
        KeyCode::End,
        KeyCode::PageUp,
    ] {
        app.handle(key(code));
        let Overlay::Help { scroll } = app.overlay else {
            panic!("the help closed on {code:?}");
        };
        seen.push(scroll);
    }
    assert_eq!(seen, vec![1, 2, 1, max, max, 0, max, 0]);
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn the_sessions_picker_lists_filters_toggles_and_switches() {
    use cairn_core::service::SessionSummary;
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::ListSessions {
            all_workspaces: false
        }))
    );
    let make = |n: u128, title: &str| SessionSummary {
        session: cairn_core::Session {
            id: cairn_core::SessionId(uuid::Uuid::from_u128(n)),
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
        message_count: 2,
        branch_count: 1,
        preview: "p".into(),
        title_source: cairn_core::title::TitleSource::FirstMessage,
    };
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![make(1, "alpha"), make(2, "beta"), make(3, "gamma")]),
    });
    type_text(&mut app, "a");
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    assert_eq!(picker.rows(NOW_MS).len(), 3);
    type_text(&mut app, "m");
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    assert_eq!(picker.rows(NOW_MS)[0].title, "gamma");
    // Ctrl+U clears the whole filter; the highlight is back on the first session, whose
    // preview is read again (the one read last was gamma's).
    assert_eq!(
        app.handle(ctrl('u')),
        vec![Effect::Job(SessionJob::Picker(
            crate::app::PickerJob::Preview(cairn_core::SessionId(uuid::Uuid::from_u128(1)))
        ))]
    );
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    assert_eq!((picker.filter.as_str(), picker.rows(NOW_MS).len()), ("", 3));
    assert_eq!(
        app.handle(key(KeyCode::Tab)),
        vec![Effect::Job(SessionJob::ListSessions {
            all_workspaces: true
        })]
    );
    assert_eq!(
        app.handle(ctrl('a')),
        vec![Effect::Job(SessionJob::ListSessions {
            all_workspaces: false
        })]
    );
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![make(1, "alpha"), make(2, "beta")]),
    });
    app.handle(key(KeyCode::Down));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Resume(cairn_core::SessionId(
            uuid::Uuid::from_u128(2)
        )))]
    );
    assert!(matches!(app.overlay, Overlay::None));

    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(key(KeyCode::Esc));
    assert!(matches!(app.overlay, Overlay::None));
}
