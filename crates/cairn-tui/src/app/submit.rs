//! What Enter does with the typed line: send it as a message (starting a turn), run the
//! slash command it names, or say why it cannot run. Also `/retry`, which Enter on an empty
//! line runs after a failed turn.

use std::path::PathBuf;

use cairn_core::private_file::Overwrite;
use cairn_core::transcript;

use super::overlay::{ModelPicker, Overlay};
use super::{App, Effect, SessionJob, TreeJob};
use crate::commands::{self, Command, CopyTarget, Submission};
use crate::history;
use crate::markdown::code_blocks::code_blocks;
use crate::picker::Picker;
use crate::transcript::{Cell, CellKind};
use cairn_core::text::plural;

impl App {
    /// Shows `message` and starts the turn that sends it.
    pub(super) fn send_message(&mut self, message: String, effects: &mut Vec<Effect>) {
        self.transcript.push(Cell::new(CellKind::User, &message));
        let turn = self.begin_turn();
        effects.push(Effect::Job(SessionJob::SendUserMessage {
            turn,
            text: message,
            model: self.model.clone(),
        }));
    }

    /// The session task found another terminal answering: `turn` did not start, and its
    /// message waits in the queue instead of on the transcript.
    pub(super) fn on_turn_waiting(&mut self, turn: u64, text: String, holder: String) {
        if self.turn.as_ref().is_none_or(|active| active.id != turn) {
            return;
        }
        self.turn = None;
        let shown = Cell::new(CellKind::User, &text).text;
        let cells = self.transcript.cells_mut();
        if let Some(position) = cells
            .iter()
            .rposition(|cell| cell.kind == CellKind::User && cell.text == shown)
        {
            cells.remove(position);
        }
        if self.other_turn.is_none() {
            let holder = crate::sanitize::sanitize(&holder).into_owned();
            self.other_turn = Some((holder, None));
        }
        self.queued = Some(text);
    }

    /// Our own answer ended: a message queued meanwhile goes out if it finished, and goes
    /// back into the input if it failed or was cancelled (the user may not want to send it
    /// after all, or wants to retry first).
    pub(super) fn send_queued_after_turn(&mut self, completed: bool, effects: &mut Vec<Effect>) {
        if self.other_turn.is_some() {
            return;
        }
        let Some(message) = self.queued.take() else {
            return;
        };
        if completed {
            self.send_message(message, effects);
        } else if self.composer.text().is_empty() {
            self.composer.paste(&message);
            self.hint = Some("the queued message was not sent · Enter sends it".into());
        } else {
            // Never overwrite what is being typed: the queued text is in the prompt history.
            self.hint = Some("the queued message was not sent · Up recalls it".into());
        }
    }

    /// Esc on a queued message: it goes back into the input, nothing is sent.
    pub(super) fn unqueue(&mut self) {
        if let Some(text) = self.queued.take() {
            if self.composer.text().is_empty() {
                self.composer.paste(&text);
            }
            self.hint = Some("the queued message was not sent".into());
        }
    }

    pub(super) fn submit(&mut self, effects: &mut Vec<Effect>) {
        let text = self.composer.message();
        if text.trim().is_empty() {
            if self.last_turn_failed && self.turn.is_none() {
                self.retry(effects);
            } else {
                // Messages a summary stands for unfold, and fold again.
                self.transcript.toggle_fold();
            }
            return;
        }
        // A pasted text that begins with `/` is not a command: what the user sees decides.
        let submission = match (
            commands::parse(&self.composer.text()),
            commands::parse(&text),
        ) {
            (Submission::Message(_), Submission::Command(_) | Submission::Invalid(_)) => {
                Submission::Message(text.trim_end().to_owned())
            }
            (_, submission) => submission,
        };
        match submission {
            Submission::Message(message) => {
                if self.queued.is_some() {
                    self.hint = Some("a message is queued already · Esc takes it back".into());
                    return;
                }
                self.composer.clear();
                self.remember_sent(text, effects);
                self.branch_if_editing(effects);
                if self.is_busy() || self.opening.is_some() {
                    // Sent when the answer streaming now (or the tool calls, or the summary
                    // being made) ends, here or in another terminal, so turns never
                    // interleave, or when the session resumed at start is loaded whole.
                    self.queued = Some(message);
                    return;
                }
                self.send_message(message, effects);
            }
            Submission::Command(command) => {
                self.composer.clear();
                self.remember_sent(text, effects);
                self.run_command(command, effects);
            }
            Submission::Invalid(reason) => {
                self.composer.clear();
                self.error(&reason);
            }
        }
        self.scroll = 0;
    }

    /// Keeps a sent line for Up to recall, here and in the history file, unless it is too
    /// big for the history (then the user is told, so a missing prompt is no surprise).
    fn remember_sent(&mut self, text: String, effects: &mut Vec<Effect>) {
        if !history::fits(&text) {
            self.hint = Some(format!(
                "not kept in the prompt history (over {} KB)",
                history::MAX_ENTRY_BYTES / 1024
            ));
            return;
        }
        self.composer.remember(&text);
        effects.push(Effect::SaveHistory(text));
    }

    fn run_command(&mut self, command: Command, effects: &mut Vec<Effect>) {
        let moves_the_branch = matches!(
            command,
            Command::Rewind | Command::Tree | Command::Fork | Command::Retry | Command::Compact(_)
        );
        if moves_the_branch && self.in_tool_round() {
            // The calls' results belong after the answer that asked for them.
            self.hint = Some("tool calls are running · Esc stops them first".into());
            return;
        }
        match command {
            Command::New { summary: true } => self.continue_in_new(effects),
            Command::New { summary: false } => {
                self.leave_conversation(effects);
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
            Command::Search(words) => {
                let mut picker = Picker::loading(self.session.id, /*all_workspaces*/ false);
                picker.filter = words.clone();
                self.overlay = Overlay::Sessions(picker);
                effects.push(Effect::Job(SessionJob::ListSessions {
                    all_workspaces: false,
                }));
                effects.push(Effect::Job(SessionJob::Search {
                    query: words,
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
            Command::Copy(target) => self.copy(target, effects),
            Command::Model(None) => {
                self.overlay = Overlay::Models(ModelPicker::loading(self.model.clone()));
                effects.push(Effect::ListModels);
            }
            Command::Model(Some(name)) => self.switch_model(name, effects),
            Command::Retry => self.retry(effects),
            Command::Rewind => self.open_rewind(effects),
            Command::Tree => self.open_tree(effects),
            Command::Compact(instructions) => self.compact(instructions, effects),
            Command::Fork => {
                if !self.session.stored {
                    self.note("There is nothing to fork yet.");
                    return;
                }
                self.hint = Some("forking…".to_owned());
                effects.push(Effect::Job(SessionJob::Tree(TreeJob::Fork { at: None })));
            }
        }
    }

    /// `/copy`: the last answer, or one of its code blocks, without the screen's gutters.
    fn copy(&mut self, target: CopyTarget, effects: &mut Vec<Effect>) {
        let Some(answer) = &self.last_answer else {
            self.note("There is no answer to copy yet.");
            return;
        };
        let (text, what) = match target {
            CopyTarget::Answer => (answer.clone(), "the last answer".to_owned()),
            CopyTarget::Code(number) => {
                let blocks = code_blocks(answer);
                let count = blocks.len();
                let index = number.map_or(count.saturating_sub(1), |n| n - 1);
                let Some(block) = blocks.into_iter().nth(index) else {
                    let text = match count {
                        0 => "The last answer has no code block.".to_owned(),
                        _ => format!(
                            "The last answer has {}.",
                            plural(count as u64, "code block")
                        ),
                    };
                    self.note(&text);
                    return;
                };
                (block, format!("code block {} of {count}", index + 1))
            }
        };
        let count = plural(text.chars().count() as u64, "character");
        effects.push(Effect::CopyToClipboard(text));
        self.note(&format!("Copied {what} ({count}) to the clipboard."));
    }

    /// Requests go to `model` from now on, in this session and when it is continued.
    pub(super) fn switch_model(&mut self, model: String, effects: &mut Vec<Effect>) {
        self.model = model.clone();
        effects.push(Effect::Job(SessionJob::SetModel(model)));
        let text = format!(
            "Model set to {} for this session; it stays when you come back to it.",
            self.model
        );
        self.note(&text);
    }

    /// Drops everything after the last user message and asks for a new answer to it.
    fn retry(&mut self, effects: &mut Vec<Effect>) {
        if self.opening.is_some() {
            self.hint = Some("the session is still loading: try again in a moment".into());
            return;
        }
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
