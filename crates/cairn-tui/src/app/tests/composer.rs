//! The composer through the screen: editing keys, prompt history, the input box's height,
//! paste, and the command popup with Tab completion.

use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;
use ratatui::layout::Rect;

use crate::app::{AppEvent, Origin, Overlay};
use crate::test_support::*;

#[test]
fn shift_enter_alt_enter_and_ctrl_j_insert_newlines() {
    let mut app = new_app();
    type_text(&mut app, "a");
    assert!(app.handle(shift(KeyCode::Enter)).is_empty());
    type_text(&mut app, "b");
    assert!(app.handle(alt(KeyCode::Enter)).is_empty());
    type_text(&mut app, "c");
    assert!(app.handle(ctrl('j')).is_empty());
    type_text(&mut app, "d");
    assert_eq!(app.input_text(), "a\nb\nc\nd");
    assert!(!app.is_busy());
}

#[test]
fn line_editing_keys() {
    let mut app = new_app();
    type_text(&mut app, "one two three");
    app.handle(ctrl('a'));
    type_text(&mut app, ">");
    assert_eq!(app.input_text(), ">one two three");
    app.handle(ctrl('e'));
    app.handle(ctrl('w'));
    assert_eq!(app.input_text(), ">one two ");
    app.handle(key(KeyCode::Home));
    app.handle(alt(KeyCode::Char('f')));
    app.handle(alt(KeyCode::Char('f')));
    app.handle(ctrl('k'));
    assert_eq!(app.input_text(), ">one ");
    app.handle(key(KeyCode::Left));
    app.handle(ctrl('u'));
    assert_eq!(app.input_text(), " ");
    app.handle(key(KeyCode::End));
    type_text(&mut app, "xy");
    app.handle(alt(KeyCode::Char('b')));
    type_text(&mut app, "[");
    assert_eq!(app.input_text(), " [xy");
    app.handle(key(KeyCode::Backspace));
    app.handle(AppEvent::Key(crossterm::event::KeyEvent::new(
        KeyCode::Right,
        crossterm::event::KeyModifiers::CONTROL,
    )));
    app.handle(key(KeyCode::Left));
    app.handle(key(KeyCode::Delete));
    assert_eq!(app.input_text(), " x");
}

#[test]
fn up_and_down_recall_this_workspaces_prompts_and_restore_the_draft() {
    let mut app = new_app();
    type_text(&mut app, "draft");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "latest prompt");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier prompt");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier prompt");
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "latest prompt");
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "draft");
}

#[test]
fn up_inside_a_multi_line_input_moves_the_cursor_not_the_history() {
    let mut app = new_app();
    type_text(&mut app, "line one");
    app.handle(shift(KeyCode::Enter));
    type_text(&mut app, "two");
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "line one\ntwo");
    assert_eq!(app.composer.input.cursor().0, 0);
}

#[test]
fn up_and_down_walk_past_a_multi_line_prompt_like_a_shell() {
    let mut app = app_with_history(&["from A one", "from B one", "from A two", "m1\nm2"]);
    type_text(&mut app, "my draft");
    let mut seen = Vec::new();
    for _ in 0..5 {
        app.handle(key(KeyCode::Up));
        seen.push((app.input_text(), app.composer.input.cursor().0));
    }
    // A recalled prompt puts the cursor on its first line, so Up keeps going back.
    assert_eq!(
        seen,
        vec![
            ("m1\nm2".to_owned(), 0),
            ("from A two".to_owned(), 0),
            ("from B one".to_owned(), 0),
            ("from A one".to_owned(), 0),
            ("from A one".to_owned(), 0),
        ]
    );
    let mut seen = Vec::new();
    for _ in 0..4 {
        app.handle(key(KeyCode::Down));
        seen.push((app.input_text(), app.composer.input.cursor().0));
    }
    // Going down the cursor lands on the last line, so Down keeps going forward.
    assert_eq!(
        seen,
        vec![
            ("from B one".to_owned(), 0),
            ("from A two".to_owned(), 0),
            ("m1\nm2".to_owned(), 1),
            ("my draft".to_owned(), 0),
        ]
    );
}

#[test]
fn moving_inside_a_recalled_multi_line_prompt_keeps_the_history_place() {
    let mut app = app_with_history(&["older", "m1\nm2"]);
    app.handle(key(KeyCode::Up));
    assert_eq!(
        (app.input_text(), app.composer.input.cursor().0),
        ("m1\nm2".to_owned(), 0)
    );
    // Down on the first line moves to the second line, not forward in the history.
    app.handle(key(KeyCode::Down));
    assert_eq!(
        (app.input_text(), app.composer.input.cursor().0),
        ("m1\nm2".to_owned(), 1)
    );
    app.handle(key(KeyCode::Up));
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "older");
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    assert_eq!(app.input_text(), "");
}

#[test]
fn the_input_box_is_as_tall_as_the_editor_wraps_its_text() {
    let mut app = app_with((100, 30), Origin::New, Vec::new(), &[]);
    let screen = Rect::new(0, 0, 100, 30);
    type_text(&mut app, &format!("{} end", "x".repeat(104)));
    // 98 columns of text: 98 x, then 6 x, then " end" (the editor starts a new row after a
    // word it had to split).
    assert_eq!(app.areas(screen).input.height, 3);
    app.handle(ctrl('a'));
    assert_eq!(app.areas(screen).input.height, 3);
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains(" end"), "{drawn}");

    let mut app = app_with((100, 30), Origin::New, Vec::new(), &[]);
    type_text(
        &mut app,
        &format!("see {} tail words here", "x".repeat(100)),
    );
    assert_eq!(app.areas(screen).input.height, 4);
}

#[test]
fn a_tall_input_is_capped_and_keeps_the_cursor_row_in_view() {
    let mut app = app_with((40, 24), Origin::New, Vec::new(), &[]);
    for line in 1..=12 {
        type_text(&mut app, &format!("line {line}"));
        app.handle(shift(KeyCode::Enter));
    }
    type_text(&mut app, "last");
    let screen = Rect::new(0, 0, 40, 24);
    assert_eq!(
        app.areas(screen).input.height,
        crate::layout::MAX_INPUT_ROWS
    );
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains("last"), "{drawn}");
    app.handle(ctrl_key(KeyCode::Home));
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains("line 1 "), "{drawn}");
}

#[test]
fn sent_prompts_join_the_history() {
    let mut app = new_app();
    type_text(&mut app, "fresh");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::StreamEnded { turn: 1 });
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "fresh");
}

#[test]
fn bracketed_paste_inserts_lines_without_sending() {
    let mut app = new_app();
    let effects = app.handle(AppEvent::Paste("one\r\ntwo\nthree".into()));
    assert!(effects.is_empty());
    assert_eq!(app.input_text(), "one\ntwo\nthree");
    assert!(app.transcript.cells().is_empty());
}

#[test]
fn slash_shows_commands_and_tab_completes() {
    let mut app = new_app();
    type_text(&mut app, "/");
    assert_eq!(app.completions().len(), crate::commands::COMMANDS.len());
    type_text(&mut app, "re");
    let names: Vec<&str> = app.completions().iter().map(|spec| spec.name).collect();
    assert_eq!(names, vec!["retry", "rename", "rewind"]);
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.input_text(), "/rename ");
    assert!(app.completions().is_empty());
}

#[test]
fn enter_on_a_partial_command_runs_the_highlighted_one() {
    let mut app = new_app();
    type_text(&mut app, "/he");
    app.handle(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Overlay::Help { .. }));
    // A command that needs an argument is completed, not run.
    app.handle(key(KeyCode::Esc));
    type_text(&mut app, "/ren");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.input_text(), "/rename ");
}

#[test]
fn esc_closes_the_command_popup_and_keeps_the_text() {
    let mut app = new_app();
    type_text(&mut app, "/mo");
    assert_eq!(app.completions().len(), 1);
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.input_text(), "/mo");
    assert!(app.completions().is_empty());
    // Typing brings it back.
    type_text(&mut app, "d");
    assert_eq!(app.completions().len(), 1);
}

#[test]
fn tab_on_an_ambiguous_prefix_completes_the_common_part_then_cycles() {
    let mut app = new_app();
    type_text(&mut app, "/r");
    app.handle(key(KeyCode::Tab));
    // retry, rename and rewind share "re"; none is picked for the user.
    assert_eq!(app.input_text(), "/re");
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.input_text(), "/re");
    assert_eq!(app.composer.popup_selected, 0);
    assert!(app.hint.as_deref().unwrap_or("").contains("Tab again"));
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.composer.popup_selected, 1);
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.composer.popup_selected, 2);
    app.handle(key(KeyCode::Tab));
    assert_eq!(app.composer.popup_selected, 0);
    app.handle(key(KeyCode::Tab));
    let effects = app.handle(key(KeyCode::Enter));
    // Enter on the highlighted /rename completes it and waits for the title.
    assert!(effects.is_empty());
    assert_eq!(app.input_text(), "/rename ");
}

#[test]
fn recall_walks_through_slash_commands_in_the_history() {
    let mut app = app_with_history(&["first prompt", "/sessions", "/copy", "/quit"]);
    let mut seen = Vec::new();
    for _ in 0..4 {
        app.handle(key(KeyCode::Up));
        seen.push(app.input_text());
    }
    assert_eq!(seen, ["/quit", "/copy", "/sessions", "first prompt"]);
    let mut seen = Vec::new();
    for _ in 0..4 {
        app.handle(key(KeyCode::Down));
        seen.push(app.input_text());
    }
    assert_eq!(seen, ["/sessions", "/copy", "/quit", ""]);
    // Typed by hand, a command still gets the popup's Up/Down.
    type_text(&mut app, "/re");
    app.handle(key(KeyCode::Down));
    assert_eq!(
        (app.input_text(), app.composer.popup_selected),
        ("/re".to_owned(), 1)
    );
}

#[test]
fn editing_steps_over_whole_grapheme_clusters() {
    let family = "👩\u{200d}👩\u{200d}👧";
    let mut app = new_app();
    type_text(&mut app, &format!("a{family}"));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(
        app.input_text(),
        "a",
        "one Backspace takes the whole family"
    );

    type_text(&mut app, "e\u{301}z");
    app.handle(key(KeyCode::Left));
    app.handle(key(KeyCode::Left));
    type_text(&mut app, "x");
    assert_eq!(
        app.input_text(),
        "axe\u{301}z",
        "the accent stays on its letter"
    );
    app.handle(key(KeyCode::Delete));
    assert_eq!(app.input_text(), "axz");
    app.handle(key(KeyCode::Home));
    type_text(&mut app, family);
    app.handle(key(KeyCode::Home));
    app.handle(key(KeyCode::Right));
    type_text(&mut app, "|");
    assert_eq!(app.input_text(), format!("{family}|axz"));
    app.handle(key(KeyCode::Left));
    app.handle(ctrl('d'));
    assert_eq!(app.input_text(), format!("{family}axz"));
}

#[test]
fn up_into_the_middle_of_a_cluster_lands_at_its_start() {
    let mut app = app_with_history(&[]);
    type_text(&mut app, "e\u{301}e\u{301}");
    app.handle(shift(KeyCode::Enter));
    type_text(&mut app, "abc");
    // Column 3 of the first line is inside the second "é".
    app.handle(key(KeyCode::Up));
    type_text(&mut app, "|");
    assert_eq!(app.input_text(), "e\u{301}|e\u{301}\nabc");
}
