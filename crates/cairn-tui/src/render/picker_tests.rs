//! Snapshots of the sessions picker's preview, its inline rename and its delete question.

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use super::tests::summary;
use crate::app::{AppEvent, Origin, PickerReply};
use crate::test_support::*;

fn picker_app(size: (u16, u16)) -> crate::app::App {
    let mut app = app_with(size, Origin::New, Vec::new(), &[]);
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![
            summary(1, "Fix the parser", 3, 4, "why does it fail"),
            summary(2, "Release notes", 90, 2, "draft them"),
        ]),
    });
    app
}

#[test]
fn sessions_picker_previews_the_highlighted_session() {
    let mut app = picker_app((80, 24));
    app.handle(key(KeyCode::Down));
    let id = summary(2, "", 0, 0, "").session.id;
    app.handle(AppEvent::Picker(PickerReply::Preview {
        session_id: id,
        result: Ok(events(vec![
            user("draft the release notes"),
            assistant("Here is a draft:\n\n- faster resume\x1b]52;c;evil\x07"),
            user("shorter please"),
        ])),
    }));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn sessions_picker_renames_inline_and_asks_before_deleting() {
    let mut app = picker_app((60, 10));
    app.handle(ctrl('r'));
    type_text(&mut app, " again");
    assert_snapshot!("rename", draw(&app).backend());
    app.handle(key(KeyCode::Esc));
    app.handle(key(KeyCode::Down));
    app.handle(ctrl('d'));
    assert_snapshot!("delete", draw(&app).backend());
}
