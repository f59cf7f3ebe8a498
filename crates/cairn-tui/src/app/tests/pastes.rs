//! Large pastes: collapsed to one placeholder in the input, sent whole, removed by one
//! Backspace, expanded by Ctrl+T.

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use pretty_assertions::assert_eq;

use super::texts;
use crate::app::{AppEvent, Effect, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

fn log(lines: usize) -> String {
    (1..=lines).map(|n| format!("line {n}\n")).collect()
}

fn sent_text(effects: &[Effect]) -> Option<String> {
    effects.iter().find_map(|effect| match effect {
        Effect::Job(SessionJob::SendUserMessage { text, .. }) => Some(text.clone()),
        _ => None,
    })
}

#[test]
fn a_large_paste_is_one_placeholder_and_is_sent_whole() {
    let mut app = new_app();
    let pasted = log(4_000);
    type_text(&mut app, "why does this fail? ");
    assert!(app.handle(AppEvent::Paste(pasted.clone())).is_empty());
    assert_eq!(
        app.input_text(),
        "why does this fail? [pasted 4,000 lines · 39 KB]"
    );
    assert_eq!(
        app.hint.as_deref(),
        Some("paste collapsed · Ctrl+T expands it · Backspace removes it")
    );
    let effects = app.handle(key(KeyCode::Enter));
    let message = format!("why does this fail? {}", pasted.trim_end());
    assert_eq!(sent_text(&effects), Some(message.clone()));
    assert!(effects.contains(&Effect::SaveHistory(format!(
        "why does this fail? {pasted}"
    ))));
    assert_eq!(texts(&app), vec![(CellKind::User, message)]);
    assert_eq!(app.input_text(), "");
}

#[test]
fn a_pasted_text_beginning_with_a_slash_is_a_message() {
    let mut app = new_app();
    let listing = "/usr/bin/a\n".repeat(20);
    app.handle(AppEvent::Paste(listing.clone()));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(sent_text(&effects), Some(listing.trim_end().to_owned()));
}

#[test]
fn a_small_paste_goes_in_as_typed() {
    let mut app = new_app();
    app.handle(AppEvent::Paste(log(10)));
    assert_eq!(app.input_text(), log(10));
    assert_eq!(app.hint, None);
}

#[test]
fn backspace_removes_the_whole_paste_and_arrows_step_over_it() {
    let mut app = new_app();
    type_text(&mut app, "a");
    app.handle(AppEvent::Paste(log(20)));
    type_text(&mut app, "b");
    app.handle(key(KeyCode::Left));
    app.handle(key(KeyCode::Left));
    // Past the whole placeholder in one step: typing lands before it, not inside.
    type_text(&mut app, "<");
    assert_eq!(app.input_text(), "a<[pasted 20 lines · 151 bytes]b");
    app.handle(key(KeyCode::Right));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(app.input_text(), "a<b");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(sent_text(&effects), Some("a<b".to_owned()));
}

#[test]
fn a_word_deletion_reaching_into_a_placeholder_takes_all_of_it() {
    let mut app = new_app();
    type_text(&mut app, "keep ");
    app.handle(AppEvent::Paste(log(20)));
    app.handle(ctrl('w'));
    assert_eq!(app.input_text(), "keep ");
    // A word move never stops inside one either.
    app.handle(AppEvent::Paste(log(30)));
    type_text(&mut app, " tail");
    app.handle(alt(KeyCode::Char('b')));
    app.handle(alt(KeyCode::Char('b')));
    type_text(&mut app, "|");
    let text = app.input_text();
    assert!(
        text == "keep |[pasted 30 lines · 231 bytes] tail"
            || text == "keep [pasted 30 lines · 231 bytes]| tail",
        "{text}"
    );
}

#[test]
fn several_pastes_keep_their_own_placeholders() {
    let mut app = new_app();
    app.handle(AppEvent::Paste(log(20)));
    type_text(&mut app, " vs ");
    app.handle(AppEvent::Paste(log(20)));
    assert_eq!(
        app.input_text(),
        "[pasted 20 lines · 151 bytes] vs [pasted 20 lines · 151 bytes #2]"
    );
    // Ctrl+T on the second (the cursor is at its end) expands only that one.
    app.handle(ctrl('t'));
    assert_eq!(
        app.input_text(),
        format!("[pasted 20 lines · 151 bytes] vs {}", log(20))
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        sent_text(&effects),
        Some(format!("{} vs {}", log(20), log(20).trim_end()))
    );
}

#[test]
fn ctrl_t_away_from_a_placeholder_expands_every_one() {
    let mut app = new_app();
    app.handle(AppEvent::Paste(log(12)));
    type_text(&mut app, " and ");
    app.handle(AppEvent::Paste("x".repeat(2_000)));
    type_text(&mut app, " end");
    app.handle(ctrl('t'));
    assert_eq!(
        app.input_text(),
        format!("{} and {} end", log(12), "x".repeat(2_000))
    );
    app.handle(ctrl('t'));
    assert_eq!(
        app.hint.as_deref(),
        Some("no collapsed paste to expand here")
    );
}

#[test]
fn the_input_shows_the_placeholder_and_the_hint() {
    let mut app = new_app();
    app.handle(AppEvent::Resize {
        width: 60,
        height: 8,
    });
    type_text(&mut app, "explain ");
    app.handle(AppEvent::Paste(log(4_000)));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn a_message_too_big_for_the_history_is_sent_but_not_remembered() {
    let mut app = app_with_history(&["earlier"]);
    let huge = "x".repeat(crate::history::MAX_ENTRY_BYTES + 1);
    app.handle(AppEvent::Paste(huge.clone()));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(sent_text(&effects), Some(huge));
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::SaveHistory(_)))
    );
    assert_eq!(
        app.hint.as_deref(),
        Some("not kept in the prompt history (over 64 KB)")
    );
    app.handle(AppEvent::StreamEnded { turn: 1 });
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier");
}

#[test]
fn a_large_recalled_prompt_comes_back_collapsed_and_is_sent_whole() {
    let mut app = app_with_history(&[]);
    let pasted = log(50);
    app.handle(AppEvent::Paste(pasted.clone()));
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::StreamEnded { turn: 1 });
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "[pasted 50 lines · 391 bytes]");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(sent_text(&effects), Some(pasted.trim_end().to_owned()));
}
