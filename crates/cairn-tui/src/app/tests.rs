//! State-machine tests: construct the state, feed events, assert on effects and state. No
//! runtime, no terminal. One file per part of the screen; the helpers here are shared.

mod commands;
mod compact;
mod composer;
mod continue_new;
mod opening;
mod overlay;
mod pastes;
mod picker_edit;
mod queue;
mod search;
mod session;
mod stream;
mod title;
mod tools;
mod tree;
mod turn;

use cairn_core::{ModelRequest, StreamEvent};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::{App, AppEvent, Effect};
use crate::test_support::*;
use crate::transcript::CellKind;

fn request() -> ModelRequest {
    ModelRequest {
        model: "echo".into(),
        system: String::new(),
        messages: Vec::new(),
        max_output_tokens: None,
        tools: Vec::new(),
    }
}

fn texts(app: &App) -> Vec<(CellKind, String)> {
    app.transcript
        .cells()
        .iter()
        .map(|cell| (cell.kind.clone(), cell.text.clone()))
        .collect()
}

fn last_text(app: &App) -> String {
    app.transcript
        .cells()
        .last()
        .map(|cell| cell.text.clone())
        .unwrap_or_default()
}

/// Sends `text` and starts its stream; returns the app with turn 1 streaming.
fn streaming(text: &str) -> App {
    let mut app = new_app();
    type_text(&mut app, text);
    app.handle(key(KeyCode::Enter));
    let effects = app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    assert_eq!(
        effects,
        vec![Effect::StartStream {
            turn: 1,
            request: request()
        }]
    );
    app
}

fn delta(app: &mut App, text: &str) -> Vec<Effect> {
    app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::TextDelta(text.into()),
    })
}
