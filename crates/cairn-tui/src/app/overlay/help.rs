//! Keys in the help overlay: scroll it, or close it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The help's scroll after `key`, from `scroll` and within `max_scroll`; `None` when the key
/// closes the help. PageUp and PageDown move by `page` rows.
pub(super) fn scroll_after_key(
    key: KeyEvent,
    scroll: usize,
    max_scroll: usize,
    page: usize,
) -> Option<usize> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let scroll = match key.code {
        KeyCode::Esc | KeyCode::Char('?' | 'q') => None,
        KeyCode::Char('c') if ctrl => None,
        KeyCode::Up | KeyCode::Char('k') => Some(scroll.saturating_sub(1)),
        KeyCode::Down | KeyCode::Char('j') => Some(scroll + 1),
        KeyCode::PageUp => Some(scroll.saturating_sub(page)),
        KeyCode::PageDown | KeyCode::Char(' ') => Some(scroll + page),
        KeyCode::Home => Some(0),
        KeyCode::End => Some(max_scroll),
        _ => Some(scroll),
    };
    scroll.map(|scroll| scroll.min(max_scroll))
}
