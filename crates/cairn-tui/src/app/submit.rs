//! What Enter does with the typed line: send it as a message (starting a turn), run the
//! slash command it names, or say why it cannot run. Also `/retry`, which Enter on an empty
//! line runs after a failed turn.

use std::path::PathBuf;

use cairn_core::private_file::Overwrite;
use cairn_core::transcript;

use super::overlay::Overlay;
use super::{App, Effect, SessionJob};
use crate::commands::{self, Command, Submission};
use crate::picker::Picker;
use crate::transcript::{Cell, CellKind};

impl App {
    pub(super) fn submit(&mut self, effects: &mut Vec<Effect>) {
        let text = self.composer.text();
        if text.trim().is_empty() {
            if self.last_turn_failed && self.turn.is_none() {
                self.retry(effects);
            }
            return;
        }
        match commands::parse(&text) {
            Submission::Message(message) => {
                if self.turn.is_some() {
                    self.hint = Some("an answer is streaming · Esc cancels".into());
                    return;
                }
                self.composer.clear();
                self.composer.remember(&text);
                effects.push(Effect::SaveHistory(text));
                self.transcript.push(Cell::new(CellKind::User, &message));
                let turn = self.begin_turn();
                effects.push(Effect::Job(SessionJob::SendUserMessage {
                    turn,
                    text: message,
                    model: self.model.clone(),
                }));
            }
            Submission::Command(command) => {
                self.composer.clear();
                self.composer.remember(&text);
                effects.push(Effect::SaveHistory(text));
                self.run_command(command, effects);
            }
            Submission::Invalid(reason) => {
                self.composer.clear();
                self.error(&reason);
            }
        }
        self.scroll = 0;
    }

    fn run_command(&mut self, command: Command, effects: &mut Vec<Effect>) {
        match command {
            Command::New => {
                if self.turn.is_some() {
                    self.cancel_turn(effects);
                }
                effects.push(Effect::Job(SessionJob::NewSession));
            }
            Command::Help => self.overlay = Overlay::Help { scroll: 0 },
            Command::Quit => self.quit(effects),
            Command::Sessions => {
                self.overlay = Overlay::Sessions(Picker::loading(
                    self.session.id,
                    /*all_workspaces*/ false,
                ));
                effects.push(Effect::Job(SessionJob::ListSessions {
                    all_workspaces: false,
                }));
            }
            Command::Rename(title) => effects.push(Effect::Job(SessionJob::Rename(title))),
            Command::Export { path, replace } => {
                let has_messages =
                    self.transcript.cells().iter().any(|cell| {
                        matches!(cell.kind, CellKind::User | CellKind::Assistant { .. })
                    });
                if !has_messages {
                    self.note("There is nothing to export yet.");
                    return;
                }
                let file = match path {
                    // Expanded by the session task, which may read the environment.
                    Some(path) if path == "~" || path.starts_with("~/") => PathBuf::from(path),
                    Some(path) => self.session.directory.join(path),
                    None => self
                        .session
                        .directory
                        .join(transcript::export_file_name(self.session.id, "md")),
                };
                let overwrite = if replace {
                    Overwrite::Replace
                } else {
                    Overwrite::Refuse
                };
                effects.push(Effect::Job(SessionJob::Export {
                    path: file,
                    overwrite,
                }));
            }
            Command::Copy => match &self.last_answer {
                Some(answer) => {
                    let count = answer.chars().count();
                    effects.push(Effect::CopyToClipboard(answer.clone()));
                    self.note(&format!(
                        "Copied the last answer ({count} characters) to the clipboard."
                    ));
                }
                None => self.note("There is no answer to copy yet."),
            },
            Command::Model(None) => {
                let text = format!(
                    "Model: {} ({}). /model <name> switches it for this session.",
                    self.model,
                    self.provider_label()
                );
                self.note(&text);
            }
            Command::Model(Some(name)) => {
                self.model = name;
                let text = format!("Model set to {} for this session.", self.model);
                self.note(&text);
            }
            Command::Retry => self.retry(effects),
        }
    }

    /// Drops everything after the last user message and asks for a new answer to it.
    fn retry(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.hint = Some("an answer is still streaming: press Esc to cancel it first".into());
            return;
        }
        let cells = self.transcript.cells_mut();
        let Some(last_user) = cells.iter().rposition(|cell| cell.kind == CellKind::User) else {
            self.note("There is nothing to retry yet.");
            return;
        };
        cells.truncate(last_user + 1);
        let turn = self.begin_turn();
        effects.push(Effect::Job(SessionJob::Retry {
            turn,
            model: self.model.clone(),
        }));
    }
}
