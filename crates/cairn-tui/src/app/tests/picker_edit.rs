//! The sessions picker beyond choosing: the preview of the highlighted session, archived
//! sessions hidden when asked, and renaming, archiving and deleting from the list (the
//! open session is never archived or deleted from here).

use cairn_core::{SessionId, SessionSummary};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use crate::app::{AppEvent, Effect, Overlay, PickerJob, PickerReply, SessionJob};
use crate::picker::Picker;
use crate::picker::edit::{PickerMode, PreviewLine};
use crate::test_support::*;

fn summary(id: SessionId, title: &str, archived: bool) -> SessionSummary {
    SessionSummary {
        session: cairn_core::Session {
            id,
            directory: "/w".into(),
            git_root: None,
            head_id: None,
            title: title.into(),
            created_at_ms: NOW_MS,
            updated_at_ms: NOW_MS,
            archived_at_ms: archived.then_some(NOW_MS),
            model: None,
            location: cairn_core::Location::default(),
        },
        message_count: 2,
        branch_count: 1,
        preview: "p".into(),
        title_source: cairn_core::title::TitleSource::FirstMessage,
    }
}

fn picker(app: &crate::app::App) -> &Picker {
    let Overlay::Sessions(picker) = &app.overlay else {
        panic!("picker closed");
    };
    picker
}

fn preview(id: SessionId) -> Effect {
    Effect::Job(SessionJob::Picker(PickerJob::Preview(id)))
}

const LIST_AGAIN: Effect = Effect::Job(SessionJob::ListSessions {
    all_workspaces: false,
});

#[test]
fn the_picker_previews_hides_archived_and_renames_archives_and_deletes_with_a_question() {
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    let current = picker(&app).current;
    let other = SessionId(uuid::Uuid::from_u128(7));
    let old = SessionId(uuid::Uuid::from_u128(8));
    let effects = app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![
            summary(current, "open one", false),
            summary(other, "beta", false),
            summary(old, "put away", true),
        ]),
    });
    // The highlighted session's preview is asked for as soon as the list is there.
    assert_eq!(effects, vec![preview(current)]);
    let titles = |app: &crate::app::App| -> Vec<String> {
        picker(app)
            .rows(NOW_MS)
            .into_iter()
            .map(|row| row.title)
            .collect()
    };
    assert_eq!(titles(&app), vec!["open one", "beta", "put away"]);
    assert_eq!(picker(&app).hidden_archived(), 0);
    app.handle(ctrl('v'));
    assert_eq!(titles(&app), vec!["open one", "beta"]);
    assert_eq!(picker(&app).hidden_archived(), 1);

    // Moving the highlight asks for that session's preview; a late one for another is dropped.
    assert_eq!(app.handle(key(KeyCode::Down)), vec![preview(other)]);
    let events = events(vec![user("first question"), assistant("an\nanswer\x1b[2J")]);
    app.handle(AppEvent::Picker(PickerReply::Preview {
        session_id: current,
        result: Ok(events.clone()),
    }));
    assert_eq!(
        picker(&app).preview.as_ref().map(|p| p.lines.clone()),
        Some(None)
    );
    app.handle(AppEvent::Picker(PickerReply::Preview {
        session_id: other,
        result: Ok(events),
    }));
    let lines = picker(&app).preview.as_ref().and_then(|p| p.lines.clone());
    assert_eq!(
        lines,
        Some(Ok(vec![
            PreviewLine {
                who: "you",
                text: "first question".into()
            },
            PreviewLine {
                who: "model",
                text: "an answer\u{241b}[2J".into()
            },
        ]))
    );

    // Ctrl+R edits the stored title inline; Enter stores it and lists again.
    assert!(app.handle(ctrl('r')).is_empty());
    assert_eq!(
        picker(&app).mode,
        PickerMode::Rename {
            id: other,
            text: "beta".into()
        }
    );
    type_text(&mut app, " two");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![
            Effect::Job(SessionJob::Picker(PickerJob::Rename {
                session_id: other,
                title: "beta two".into()
            })),
            LIST_AGAIN,
        ]
    );
    assert_eq!(picker(&app).mode, PickerMode::Browse);

    // Delete asks first; any key but y keeps the session.
    assert!(app.handle(ctrl('d')).is_empty());
    assert!(matches!(
        picker(&app).mode,
        PickerMode::ConfirmDelete { id, .. } if id == other
    ));
    assert!(app.handle(key(KeyCode::Char('n'))).is_empty());
    assert_eq!(picker(&app).notice.as_deref(), Some("Kept it."));
    app.handle(ctrl('d'));
    assert_eq!(
        app.handle(key(KeyCode::Char('y'))),
        vec![
            Effect::Job(SessionJob::Picker(PickerJob::Delete(other))),
            LIST_AGAIN
        ]
    );
    app.handle(AppEvent::Picker(PickerReply::Changed(Ok(
        "Deleted it.".into()
    ))));
    assert_eq!(picker(&app).notice.as_deref(), Some("Deleted it."));

    assert_eq!(
        app.handle(ctrl('x')),
        vec![
            Effect::Job(SessionJob::Picker(PickerJob::SetArchived {
                session_id: other,
                archived: true
            })),
            LIST_AGAIN
        ]
    );

    // The open session is neither archived nor deleted from the picker: it says why.
    app.handle(key(KeyCode::Up));
    assert!(app.handle(ctrl('d')).is_empty());
    assert_eq!(picker(&app).mode, PickerMode::Browse);
    assert!(
        picker(&app)
            .notice
            .as_deref()
            .is_some_and(|notice| notice.starts_with("This is the open session")),
        "{:?}",
        picker(&app).notice
    );
    assert!(app.handle(ctrl('x')).is_empty());
    // Renaming the open one goes through the manager, which holds it.
    app.handle(ctrl('r'));
    app.handle(ctrl('u'));
    type_text(&mut app, "named");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![Effect::Job(SessionJob::Rename("named".into())), LIST_AGAIN]
    );
}

#[test]
fn a_paste_while_renaming_goes_into_the_title_and_otherwise_into_the_filter() {
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    let other = SessionId(uuid::Uuid::from_u128(7));
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![summary(other, "beta", false)]),
    });
    app.handle(ctrl('r'));
    // Line breaks and other control characters do not belong in a title.
    assert!(
        app.handle(AppEvent::Paste(" release\r\nnotes\x1b[2J".into()))
            .is_empty()
    );
    assert_eq!(picker(&app).filter, "");
    assert_eq!(app.input_text(), "");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![
            Effect::Job(SessionJob::Picker(PickerJob::Rename {
                session_id: other,
                title: "beta release notes [2J".into()
            })),
            LIST_AGAIN,
        ]
    );

    // Browsing, a paste filters (and searches what was said), as typing does.
    let effects = app.handle(AppEvent::Paste("migration\nplan".into()));
    assert_eq!(picker(&app).filter, "migration plan");
    assert!(effects.contains(&Effect::Job(SessionJob::Search {
        query: "migration plan".into(),
        all_workspaces: false,
    })));
    assert_eq!(app.input_text(), "");
}
