//! Keys in the two tree overlays. The rewind list: Up/Down move, typing filters, Enter
//! edits the highlighted message, Esc closes having changed nothing. `/tree`: Up/Down move
//! through rows, Left goes to the message a row follows, Right to the first that follows it,
//! Enter switches to the branch through the row, `f` forks from it, Esc closes.

use cairn_core::EventId;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tree_view::{RewindItem, RewindList, TreeView};

/// What a key in the rewind list asks of the screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RewindAction {
    Stay,
    Close,
    Edit(RewindItem),
}

pub(super) fn rewind_key(list: &mut RewindList, key: KeyEvent) -> RewindAction {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return RewindAction::Close,
        KeyCode::Char('c') if ctrl => return RewindAction::Close,
        KeyCode::Up => list.move_by(-1),
        KeyCode::Down => list.move_by(1),
        KeyCode::PageUp => list.move_by(-10),
        KeyCode::PageDown => list.move_by(10),
        KeyCode::Backspace => {
            list.filter.pop();
            list.selected = 0;
        }
        KeyCode::Char(c) if !ctrl => {
            list.filter.push(c);
            list.selected = 0;
        }
        KeyCode::Enter => {
            if let Some(item) = list.selected_item() {
                return RewindAction::Edit(item);
            }
        }
        _ => {}
    }
    RewindAction::Stay
}

/// What a key in `/tree` asks of the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TreeAction {
    Stay,
    Close,
    /// Switch to the branch through this message.
    Switch(EventId),
    /// Fork the branch ending at this event.
    Fork(EventId),
}

pub(super) fn tree_key(view: &mut TreeView, key: KeyEvent) -> TreeAction {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Esc => return TreeAction::Close,
        KeyCode::Char('c') if ctrl => return TreeAction::Close,
        KeyCode::Up => view.move_by(-1),
        KeyCode::Down => view.move_by(1),
        KeyCode::PageUp => view.move_by(-10),
        KeyCode::PageDown => view.move_by(10),
        KeyCode::Left => view.select_parent(),
        KeyCode::Right => view.select_first_child(),
        KeyCode::Enter => {
            if let Some((message, _)) = view.selected_row() {
                return TreeAction::Switch(message);
            }
        }
        KeyCode::Char('f') if !ctrl => {
            if let Some((_, newest)) = view.selected_row() {
                return TreeAction::Fork(newest);
            }
        }
        _ => {}
    }
    TreeAction::Stay
}
