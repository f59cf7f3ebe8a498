//! The approval prompt: shown in place of the input while a tool call waits for the user.
//!
//! It offers **Allow once** (selected first), **Allow commands starting with `<prefix>` for
//! this session** when a prefix can cover every part of the command (else a line says why
//! not), and **Deny**, after which the user may type a reason the model receives. Up/Down
//! move, Enter chooses, Esc denies without a reason.
//!
//! Invariant: while the prompt is shown it takes every key, so nothing typed lands in the
//! input by accident, and the input keeps what it held.

use cairn_core::tool::{CommandPrefix, SimpleCommands, ToolRequest};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::sanitize::sanitize;

/// The most rows the command takes in the prompt; the rest is summarised.
const MAX_COMMAND_ROWS: usize = 6;

/// What the user chose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    AllowOnce,
    /// Allow commands starting with this prefix for the rest of this run of Cairn.
    Grant(CommandPrefix),
    Deny {
        reason: Option<String>,
    },
}

/// A call waiting for the user's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApprovalPrompt {
    /// What is asked: `Run this command?`, `Read outside the workspace?`.
    pub(crate) question: &'static str,
    /// The command or path, sanitised.
    pub(crate) subject: String,
    /// Where a command runs, for display.
    pub(crate) folder: String,
    pub(crate) grant: Option<CommandPrefix>,
    /// Why there is no choice to allow for the session, when a command has none.
    pub(crate) no_grant_because: Option<String>,
    /// Index into [`ApprovalPrompt::choices`].
    pub(crate) selected: usize,
    /// Deny was chosen: the reason typed so far (Enter sends it, even empty).
    pub(crate) reason: Option<String>,
}

impl ApprovalPrompt {
    pub(crate) fn new(request: &ToolRequest, grant: Option<CommandPrefix>, folder: &str) -> Self {
        let (question, subject, no_grant_because) = match request {
            ToolRequest::RunCommand { command } => {
                let because = grant
                    .is_none()
                    .then(|| match SimpleCommands::parse(command) {
                        Err(refusal) => format!(
                            "No choice to allow it for the session: the command has {refusal}."
                        ),
                        Ok(_) => {
                            "No choice to allow it for the session: no prefix covers it.".to_owned()
                        }
                    });
                ("Run this command?", command.as_str(), because)
            }
            ToolRequest::ListDir { path } => {
                ("List a folder outside the workspace?", path.as_str(), None)
            }
            ToolRequest::ReadFile { path, .. } => {
                ("Read a file outside the workspace?", path.as_str(), None)
            }
        };
        Self {
            question,
            subject: sanitize(subject).into_owned(),
            folder: sanitize(folder).into_owned(),
            grant,
            no_grant_because,
            selected: 0,
            reason: None,
        }
    }

    /// The labels of the choices, in order.
    pub(crate) fn choices(&self) -> Vec<String> {
        let mut choices = vec!["Allow once".to_owned()];
        if let Some(prefix) = &self.grant {
            choices.push(format!(
                "Allow commands starting with `{}` for this session",
                sanitize(&prefix.to_string())
            ));
        }
        choices.push("Deny".to_owned());
        choices
    }

    /// The command's rows at `width` columns: its lines cut to the width, at most
    /// [`MAX_COMMAND_ROWS`], then how many more there are.
    pub(crate) fn subject_rows(&self, width: usize) -> Vec<String> {
        let width = width.max(1);
        let mut rows = Vec::new();
        for line in self.subject.split('\n') {
            let chars: Vec<char> = line.chars().collect();
            if chars.is_empty() {
                rows.push(String::new());
            }
            // Cut by characters: a command is code, and every character of it matters.
            for chunk in chars.chunks(width) {
                rows.push(chunk.iter().collect());
            }
        }
        if rows.len() > MAX_COMMAND_ROWS {
            let more = rows.len() - (MAX_COMMAND_ROWS - 1);
            rows.truncate(MAX_COMMAND_ROWS - 1);
            rows.push(format!("… {more} more rows"));
        }
        rows
    }

    /// Rows the prompt takes at `width` columns.
    pub(crate) fn height(&self, width: u16) -> u16 {
        let rows = 1 // the question
            + self.subject_rows(usize::from(width.saturating_sub(4))).len()
            + 1 // the folder
            + self.choices().len()
            + usize::from(self.no_grant_because.is_some())
            + usize::from(self.reason.is_some())
            + 1; // the keys
        u16::try_from(rows).unwrap_or(u16::MAX)
    }

    /// Takes a key; returns the choice once one is made.
    pub(crate) fn handle_key(&mut self, key: KeyEvent) -> Option<Choice> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(reason) = &mut self.reason {
            return match key.code {
                KeyCode::Enter => {
                    let reason = reason.trim();
                    Some(Choice::Deny {
                        reason: (!reason.is_empty()).then(|| reason.to_owned()),
                    })
                }
                KeyCode::Esc => Some(Choice::Deny { reason: None }),
                KeyCode::Char('c') if ctrl => Some(Choice::Deny { reason: None }),
                KeyCode::Backspace => {
                    reason.pop();
                    None
                }
                KeyCode::Char(c) if !ctrl => {
                    reason.push(c);
                    None
                }
                _ => None,
            };
        }
        let count = self.choices().len();
        match key.code {
            KeyCode::Up => {
                self.selected = self.selected.checked_sub(1).unwrap_or(count - 1);
                None
            }
            KeyCode::Down | KeyCode::Tab => {
                self.selected = (self.selected + 1) % count;
                None
            }
            KeyCode::Esc => Some(Choice::Deny { reason: None }),
            KeyCode::Char('c') if ctrl => Some(Choice::Deny { reason: None }),
            KeyCode::Enter => match (self.selected, &self.grant) {
                (0, _) => Some(Choice::AllowOnce),
                (1, Some(prefix)) => Some(Choice::Grant(prefix.clone())),
                _ => {
                    self.reason = Some(String::new());
                    None
                }
            },
            _ => None,
        }
    }

    /// A paste while the reason is typed goes into it (as one line).
    pub(crate) fn paste(&mut self, text: &str) {
        if let Some(reason) = &mut self.reason {
            reason.push_str(&text.replace(['\n', '\r'], " "));
        }
    }
}
