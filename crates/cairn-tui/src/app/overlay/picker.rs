//! Keys in the sessions picker: type to filter (Ctrl+U clears it), move the highlight,
//! toggle between this workspace and every workspace, open the highlighted session, or close.
//! Ctrl+R renames the highlighted session (typing then edits the title), Ctrl+X archives or
//! restores it, Ctrl+D deletes it after a `y`, Ctrl+V hides or shows archived sessions. The
//! open session is neither archived nor deleted from here: the footer says why.

use cairn_core::{EventId, SessionId};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::picker::Picker;
use crate::picker::edit::PickerMode;

/// What a key in the picker asks of the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Give this session the title the user typed.
    Rename { id: SessionId, title: String },
    /// Archive (`true`) or restore this session.
    SetArchived { id: SessionId, archived: bool },
    /// Delete this session (the user said `y`).
    Delete(SessionId),
}

/// Applies `key` to `picker` (`now_ms` dates the rows, which the filter matches).
pub(super) fn on_key(picker: &mut Picker, key: KeyEvent, now_ms: i64) -> PickerAction {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match std::mem::replace(&mut picker.mode, PickerMode::Browse) {
        PickerMode::Browse => {}
        PickerMode::Rename { id, mut text } => {
            match key.code {
                KeyCode::Esc => return PickerAction::Stay,
                KeyCode::Char('c') if ctrl => return PickerAction::Stay,
                KeyCode::Enter if text.trim().is_empty() => {
                    picker.notice = Some("A title cannot be empty.".to_owned());
                }
                KeyCode::Enter => {
                    return PickerAction::Rename {
                        id,
                        title: text.trim().to_owned(),
                    };
                }
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char('u') if ctrl => text.clear(),
                KeyCode::Char(c) if !ctrl => text.push(c),
                _ => {}
            }
            picker.mode = PickerMode::Rename { id, text };
            return PickerAction::Stay;
        }
        PickerMode::ConfirmDelete { id, .. } => {
            return match key.code {
                KeyCode::Char('y' | 'Y') if !ctrl => PickerAction::Delete(id),
                _ => {
                    picker.notice = Some("Kept it.".to_owned());
                    PickerAction::Stay
                }
            };
        }
    }
    picker.notice = None;
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
        KeyCode::Char('v') if ctrl => {
            picker.show_archived = !picker.show_archived;
            picker.selected = 0;
            return PickerAction::Stay;
        }
        KeyCode::Char('r') if ctrl => {
            if let Some(row) = picker.selected_row(now_ms) {
                // The title as stored, not "(untitled)", is what gets edited.
                let text = picker
                    .items
                    .iter()
                    .flatten()
                    .find(|item| item.session.id == row.id)
                    .map_or(row.title, |item| item.session.title.clone());
                picker.mode = PickerMode::Rename { id: row.id, text };
            }
            return PickerAction::Stay;
        }
        KeyCode::Char('x') if ctrl => {
            return match picker.selected_row(now_ms) {
                None => PickerAction::Stay,
                Some(row) if row.current => {
                    picker.notice = Some(
                        "This is the open session: /new archives it and starts another.".to_owned(),
                    );
                    PickerAction::Stay
                }
                Some(row) => PickerAction::SetArchived {
                    id: row.id,
                    archived: !row.archived,
                },
            };
        }
        KeyCode::Char('d') if ctrl => {
            match picker.selected_row(now_ms) {
                None => {}
                Some(row) if row.current => {
                    picker.notice = Some(
                        "This is the open session: open another one (or /new) to delete it."
                            .to_owned(),
                    );
                }
                Some(row) => {
                    picker.mode = PickerMode::ConfirmDelete {
                        id: row.id,
                        title: row.title,
                    };
                }
            }
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

/// A paste goes where the user is typing: into the title being edited, else the filter. Both
/// are one line, so line breaks (and any other control character) become spaces.
pub(super) fn on_paste(picker: &mut Picker, text: &str) -> PickerAction {
    let flat: String = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match &mut picker.mode {
        PickerMode::Rename { text, .. } => {
            text.push_str(&flat);
            PickerAction::Stay
        }
        PickerMode::ConfirmDelete { .. } => PickerAction::Stay,
        PickerMode::Browse => {
            picker.notice = None;
            picker.filter.push_str(&flat);
            picker.selected = 0;
            search_for_filter(picker)
        }
    }
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
