//! Keys in the sessions picker: type to filter (Ctrl+U clears it), move the highlight,
//! toggle between this workspace and every workspace, open the highlighted session, or close.

use cairn_core::{EventId, SessionId};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::picker::Picker;

/// What a key in the picker asks of the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PickerAction {
    /// Nothing beyond the picker itself (the filter or highlight may have changed).
    Stay,
    /// The scope was toggled: list the sessions again for it.
    List { all_workspaces: bool },
    /// Close the picker.
    Close,
    /// Close the picker and switch to this session.
    Open(SessionId),
    /// Close the picker and switch to this session, showing this message (a search match).
    OpenAt(SessionId, EventId),
    /// Close the picker and show this message of the current session.
    Show(EventId),
    /// The filter changed: search what was said for it (`all_workspaces` as shown).
    Search { all_workspaces: bool },
}

/// Applies `key` to `picker` (`now_ms` dates the rows, which the filter matches).
pub(super) fn on_key(picker: &mut Picker, key: KeyEvent, now_ms: i64) -> PickerAction {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return PickerAction::Close,
        KeyCode::Char('c') if ctrl => return PickerAction::Close,
        KeyCode::Tab => return toggle_all_workspaces(picker),
        KeyCode::Char('a') if ctrl => return toggle_all_workspaces(picker),
        KeyCode::Up => picker.move_selection(-1, now_ms),
        KeyCode::Down => picker.move_selection(1, now_ms),
        KeyCode::PageUp => picker.move_selection(-10, now_ms),
        KeyCode::PageDown => picker.move_selection(10, now_ms),
        KeyCode::Char('u') if ctrl => {
            picker.filter.clear();
            picker.selected = 0;
            return PickerAction::Stay;
        }
        KeyCode::Backspace => {
            picker.filter.pop();
            picker.selected = 0;
            return search_for_filter(picker);
        }
        KeyCode::Char(c) if !ctrl => {
            picker.filter.push(c);
            picker.selected = 0;
            return search_for_filter(picker);
        }
        KeyCode::Enter => {
            return match picker.selected_row(now_ms) {
                None => PickerAction::Stay,
                Some(row) => match (row.current, row.snippet) {
                    (true, Some(snippet)) => PickerAction::Show(snippet.event_id),
                    (true, None) => PickerAction::Close,
                    (false, Some(snippet)) => PickerAction::OpenAt(row.id, snippet.event_id),
                    (false, None) => PickerAction::Open(row.id),
                },
            };
        }
        _ => {}
    }
    PickerAction::Stay
}

/// After the filter changed: a search for it, unless there is nothing to search for.
fn search_for_filter(picker: &Picker) -> PickerAction {
    if picker.filter.trim().is_empty() {
        PickerAction::Stay
    } else {
        PickerAction::Search {
            all_workspaces: picker.all_workspaces,
        }
    }
}

fn toggle_all_workspaces(picker: &mut Picker) -> PickerAction {
    picker.all_workspaces = !picker.all_workspaces;
    picker.items = None;
    picker.selected = 0;
    PickerAction::List {
        all_workspaces: picker.all_workspaces,
    }
}
