//! Fixtures for the state-machine and snapshot tests: fixed ids, times and sizes, so every
//! screen is deterministic.

use std::path::PathBuf;

use cairn_core::{Event, EventId, EventKind, InvocationId, ProviderInfo, SessionId};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use uuid::Uuid;

use crate::app::{App, AppEvent, AppInit, Effect, Origin, SessionView};

/// "Now" in every test: 2027-01-15.
pub const NOW_MS: i64 = 1_800_000_000_000;

pub fn session_id() -> SessionId {
    SessionId(Uuid::from_u128(0x0193_a1b2_c3d4_7e5f_8a6b_9c0d_1e2f_3a4b))
}

pub fn view() -> SessionView {
    SessionView {
        id: session_id(),
        short_id: "0193a1b2".to_owned(),
        title: String::new(),
        directory: PathBuf::from("/home/dev/projects/demo"),
        display_directory: "~/projects/demo".to_owned(),
        stored: false,
        model: None,
        branches: 1,
    }
}

pub fn echo_info() -> ProviderInfo {
    ProviderInfo {
        kind: "echo".to_owned(),
        model: "echo".to_owned(),
        offline: true,
    }
}

/// Events with ids and times that only depend on their position.
pub fn events(kinds: Vec<EventKind>) -> Vec<Event> {
    let mut parent = None;
    kinds
        .into_iter()
        .enumerate()
        .map(|(index, kind)| {
            let id = EventId(Uuid::from_u128(0x1000 + index as u128));
            let event = Event {
                id,
                session_id: session_id(),
                parent_id: parent,
                invocation_id: InvocationId(Uuid::from_u128(7)),
                created_at_ms: NOW_MS - 12 * 60_000 + index as i64 * 1000,
                kind,
            };
            parent = Some(id);
            event
        })
        .collect()
}

pub fn user(text: &str) -> EventKind {
    EventKind::UserMessage {
        text: text.to_owned(),
    }
}

pub fn assistant(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.to_owned(),
        usage: Some(cairn_core::TokenUsage {
            input_tokens: 1234,
            output_tokens: 56,
        }),
        interrupted: false,
        model: Some("echo".to_owned()),
    }
}

pub fn app_with(size: (u16, u16), origin: Origin, kinds: Vec<EventKind>, notes: &[&str]) -> App {
    App::new(AppInit {
        session: view(),
        origin,
        provider: echo_info(),
        model: "echo".to_owned(),
        events: events(kinds),
        notes: notes.iter().map(|note| (*note).to_owned()).collect(),
        history: vec!["earlier prompt".to_owned(), "latest prompt".to_owned()],
        now_ms: NOW_MS,
        size,
        loading_rest: false,
        store: None,
        title_model: None,
        tools: None,
    })
}

pub fn new_app() -> App {
    app_with((80, 20), Origin::New, Vec::new(), &[])
}

pub fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> AppEvent {
    AppEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn alt(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::ALT))
}

pub fn shift(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::SHIFT))
}

/// Types `text` key by key; returns every effect.
pub fn type_text(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.handle(key(KeyCode::Char(c))))
        .collect()
}

/// Draws `app` into a test terminal of its size.
pub fn draw(app: &App) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .expect("draw");
    terminal
}

/// A fresh 80x20 screen whose workspace history is `history`, oldest first.
pub fn app_with_history(history: &[&str]) -> App {
    let mut app = new_app();
    app.replace_history(history.iter().map(|text| (*text).to_owned()).collect());
    app
}

pub fn ctrl_key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::CONTROL))
}
