//! The composer: the input editor at the bottom of the screen (a `ratatui-textarea` editor),
//! Up/Down through this workspace's earlier prompts, and the slash-command popup with its
//! Tab completion.
//!
//! It only edits text. What a finished line means (a message, a command) and the keys that
//! act on the whole screen (Enter, Esc while streaming, Ctrl+C, scrolling) are
//! [`App`](super::App)'s; it hands every other key here.
//!
//! Invariants:
//! - While browsing the history, `history_position` indexes `history` and `history_draft`
//!   holds what was typed before; any edit makes the text a new draft.
//! - `popup_selected` is always a valid index into the current completions (or 0).
//! - The cursor is never inside a grapheme cluster or a collapsed paste's placeholder: Left,
//!   Right, Backspace and Delete step over them whole, any other move is snapped back to
//!   their start (see [`editing`]), so nothing typed can split an emoji, detach an accent or
//!   break a placeholder.
//! - What is sent is [`Composer::message`]: the editor's text with every placeholder replaced
//!   by its paste (see [`pastes`]).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use crate::commands::{self, CommandSpec};
use crate::history;
use crate::layout;

mod editing;
mod graphemes;
mod pastes;

/// The input editor with its prompt history and command popup.
pub(crate) struct Composer {
    pub(crate) input: TextArea<'static>,
    /// Earlier prompts of this workspace, oldest first.
    history: Vec<String>,
    /// Position while browsing history with Up/Down, and the draft it replaced.
    history_position: Option<usize>,
    history_draft: String,
    /// The highlighted entry of the command popup.
    pub(crate) popup_selected: usize,
    /// Esc closed the command popup; typing opens it again.
    popup_dismissed: bool,
    /// The highlight was moved with Up/Down, so Tab takes that command.
    popup_picked: bool,
    /// Tab was pressed on an ambiguous prefix; further Tabs move the highlight.
    popup_cycling: bool,
    /// The large pastes of this draft, each shown as a placeholder.
    pastes: pastes::Pastes,
}

fn new_input() -> TextArea<'static> {
    let mut input = TextArea::default();
    input.set_wrap_mode(WrapMode::WordOrGlyph);
    input.set_cursor_line_style(ratatui::style::Style::default());
    input.set_placeholder_text("Ask anything · / for commands · ? for keys");
    input
}

impl Composer {
    /// An empty editor; `history` is this workspace's earlier prompts, oldest first.
    pub(crate) fn new(history: Vec<String>) -> Self {
        Self {
            input: new_input(),
            history,
            history_position: None,
            history_draft: String::new(),
            popup_selected: 0,
            popup_dismissed: false,
            popup_picked: false,
            popup_cycling: false,
            pastes: pastes::Pastes::default(),
        }
    }

    /// Replaces the prompt history (tests start from a given one).
    #[cfg(test)]
    pub(crate) fn replace_history(&mut self, history: Vec<String>) {
        self.history = history;
        self.history_position = None;
    }

    /// The text in the editor, placeholders as they are shown.
    pub(crate) fn text(&self) -> String {
        self.input.lines().join("\n")
    }

    /// The text to send: the editor's, with each placeholder replaced by its paste.
    pub(crate) fn message(&self) -> String {
        self.pastes.expand(&self.text())
    }

    /// The slash commands the popup offers for the text, unless Esc dismissed the popup.
    pub(crate) fn completions(&self) -> Vec<&'static CommandSpec> {
        if self.input.lines().len() != 1 || self.popup_dismissed {
            return Vec::new();
        }
        commands::completions(&self.input.lines()[0])
    }

    /// Rows the editor needs at `width` on a terminal `terminal_height` rows tall.
    pub(crate) fn rows(&self, width: u16, terminal_height: u16) -> u16 {
        layout::input_rows(self.input.lines(), width, terminal_height)
    }

    /// Empties the editor (the line was sent, or could not be).
    pub(crate) fn clear(&mut self) {
        self.input = new_input();
        self.pastes.clear();
    }

    /// Empties the editor and leaves the history (Ctrl+C on a typed line).
    pub(crate) fn discard(&mut self) {
        self.clear();
        self.history_position = None;
    }

    /// Inserts pasted text, line breaks included; nothing is sent. A large paste goes in as
    /// one placeholder: then `true` is returned.
    pub(crate) fn paste(&mut self, text: &str) -> bool {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        self.history_position = None;
        if pastes::is_large(&text) {
            let label = self.pastes.add(text);
            self.input.insert_str(label);
            return true;
        }
        self.input.insert_str(text);
        false
    }

    /// Adds a sent line to the history (once, if it repeats the latest), keeping as many and
    /// as large prompts as the history file does.
    pub(crate) fn remember(&mut self, text: &str) {
        self.history_position = None;
        if history::fits(text) && self.history.last().map(String::as_str) != Some(text) {
            self.history.push(text.to_owned());
            let excess = self.history.len().saturating_sub(history::MAX_ENTRIES);
            self.history.drain(..excess);
        }
    }

    /// Enter with the popup open: a partly typed command becomes the highlighted one.
    /// Returns whether the line is ready to submit; a command that needs an argument is
    /// completed and waits for it.
    pub(crate) fn accept_completion(&mut self) -> bool {
        let completions = self.completions();
        if let Some(spec) = completions.get(self.popup_selected) {
            let typed = self.text();
            let exact = commands::COMMANDS
                .iter()
                .any(|command| typed.eq_ignore_ascii_case(&format!("/{}", command.name)));
            if !exact {
                self.complete_command(spec.name, spec.args);
                if !spec.args.is_empty() && !spec.args.starts_with('[') {
                    return false;
                }
            }
        }
        true
    }

    /// Handles an editing key. Returns a hint to show under the transcript, if the key
    /// calls for one.
    pub(crate) fn handle_key(&mut self, key: KeyEvent) -> Option<&'static str> {
        let before = self.line_before_edit();
        let hint = self.edit(key);
        if let Some(before) = before {
            self.keep_placeholders_whole(before);
        }
        self.snap_cursor();
        hint
    }

    fn edit(&mut self, key: KeyEvent) -> Option<&'static str> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        let completions = self.completions();
        match key.code {
            KeyCode::Esc => {
                if !completions.is_empty() {
                    // Only the popup goes; what was typed stays.
                    self.popup_dismissed = true;
                }
            }
            KeyCode::Char('d') if ctrl => {
                self.delete_atom(/*forward*/ true);
                self.edited();
            }
            KeyCode::Char('t') if ctrl => {
                if !self.expand_pastes() {
                    return Some("no collapsed paste to expand here");
                }
                self.edited();
            }
            KeyCode::Char('j') if ctrl => self.input.insert_newline(),
            KeyCode::Enter if shift || alt => self.input.insert_newline(),
            KeyCode::Tab if !completions.is_empty() => return self.tab_complete(&completions),
            // A recalled command keeps Up/Down for the history, so recall walks past it.
            KeyCode::Up if !completions.is_empty() && self.history_position.is_none() => {
                self.popup_selected = self.popup_selected.saturating_sub(1);
                self.popup_picked = true;
            }
            KeyCode::Down if !completions.is_empty() && self.history_position.is_none() => {
                self.popup_selected = (self.popup_selected + 1).min(completions.len() - 1);
                self.popup_picked = true;
            }
            KeyCode::Up if self.input.cursor().0 == 0 && !alt && !ctrl => self.history_back(),
            KeyCode::Down
                if self.input.cursor().0 + 1 >= self.input.lines().len() && !alt && !ctrl =>
            {
                self.history_forward();
            }
            KeyCode::End => self.input.move_cursor(if ctrl {
                CursorMove::Bottom
            } else {
                CursorMove::End
            }),
            KeyCode::Home => self.input.move_cursor(if ctrl {
                CursorMove::Top
            } else {
                CursorMove::Head
            }),
            KeyCode::Char('a') if ctrl => self.input.move_cursor(CursorMove::Head),
            KeyCode::Char('e') if ctrl => self.input.move_cursor(CursorMove::End),
            KeyCode::Char('w') if ctrl => {
                self.input.delete_word();
            }
            KeyCode::Backspace if ctrl || alt => {
                self.input.delete_word();
            }
            KeyCode::Char('u') if ctrl => {
                self.input.delete_line_by_head();
            }
            KeyCode::Char('k') if ctrl => {
                self.input.delete_line_by_end();
            }
            KeyCode::Left if ctrl || alt => self.input.move_cursor(CursorMove::WordBack),
            KeyCode::Right if ctrl || alt => self.input.move_cursor(CursorMove::WordForward),
            KeyCode::Char('b') if alt => self.input.move_cursor(CursorMove::WordBack),
            KeyCode::Char('f') if alt => self.input.move_cursor(CursorMove::WordForward),
            _ => {
                // Moving the cursor in a recalled prompt keeps the place in the history;
                // only an edit makes it a new draft.
                let before = self.input.lines().to_vec();
                let plain = !ctrl && !alt && !shift;
                match key.code {
                    KeyCode::Left if plain => self.step_atom(/*forward*/ false),
                    KeyCode::Right if plain => self.step_atom(/*forward*/ true),
                    KeyCode::Backspace if plain => self.delete_atom(/*forward*/ false),
                    KeyCode::Delete if plain => self.delete_atom(/*forward*/ true),
                    _ => {
                        self.input.input(key);
                    }
                }
                if self.input.lines() != before.as_slice() {
                    self.edited();
                }
            }
        }
        None
    }

    /// The text changed: it is a new draft, and the popup follows it again.
    fn edited(&mut self) {
        self.history_position = None;
        self.popup_dismissed = false;
        self.popup_picked = false;
        self.popup_cycling = false;
        self.popup_selected = self
            .popup_selected
            .min(self.completions().len().saturating_sub(1));
    }

    fn complete_command(&mut self, name: &str, args: &str) {
        self.clear();
        let suffix = if args.is_empty() { "" } else { " " };
        self.input.insert_str(format!("/{name}{suffix}"));
        self.popup_selected = 0;
        self.popup_picked = false;
        self.popup_cycling = false;
    }

    /// Tab in the command popup: one match completes; several complete their common
    /// prefix, then Tab moves the highlight through them (Enter runs the highlighted one).
    /// A command picked with Up/Down completes.
    fn tab_complete(&mut self, completions: &[&'static CommandSpec]) -> Option<&'static str> {
        let selected = self.popup_selected.min(completions.len() - 1);
        if completions.len() == 1 || self.popup_picked {
            let spec = completions[selected];
            self.complete_command(spec.name, spec.args);
            return None;
        }
        let typed = self.text().to_ascii_lowercase();
        let common = completions
            .iter()
            .map(|spec| spec.name)
            .reduce(|common, name| {
                let length = common
                    .bytes()
                    .zip(name.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &common[..length]
            })
            .unwrap_or("");
        if typed.len() < common.len() + 1 {
            self.input = new_input();
            self.input.insert_str(format!("/{common}"));
            self.popup_selected = 0;
        } else if self.popup_cycling {
            self.popup_selected = (selected + 1) % completions.len();
        } else {
            self.popup_cycling = true;
            return Some("Tab again for the next match · Enter runs the highlighted one");
        }
        None
    }

    fn history_back(&mut self) {
        if self.history.is_empty() {
            return;
        }
        let position = match self.history_position {
            None => {
                self.history_draft = self.text();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(position) => position - 1,
        };
        self.history_position = Some(position);
        let text = self.history[position].clone();
        self.set_text(&text);
        // On the first line, so the next Up goes on to an older prompt.
        self.input.move_cursor(CursorMove::Top);
        self.input.move_cursor(CursorMove::End);
    }

    fn history_forward(&mut self) {
        let Some(position) = self.history_position else {
            return;
        };
        if position + 1 < self.history.len() {
            self.history_position = Some(position + 1);
            let text = self.history[position + 1].clone();
            self.set_text(&text);
        } else {
            self.history_position = None;
            let draft = std::mem::take(&mut self.history_draft);
            self.set_text(&draft);
        }
    }

    /// Puts a recalled prompt (or the draft) in the editor; a large one is collapsed, as a
    /// paste would be, and sent whole.
    fn set_text(&mut self, text: &str) {
        self.input = new_input();
        if pastes::is_large(text) {
            let label = self.pastes.add(text.to_owned());
            self.input.insert_str(label);
        } else {
            self.input.insert_str(text);
        }
    }
}
