//! Overlays drawn over the chat: the help, the sessions picker, the model picker, the
//! rewind list and `/tree`. While one is open it takes every key; each has its own key
//! handling ([`help`], [`picker`], [`models`], [`tree`]) that says what the key did, and
//! this module applies that to the screen.

mod help;
mod models;
mod picker;
mod tree;

use self::models::ModelAction;
pub(crate) use self::models::ModelPicker;
use crossterm::event::KeyEvent;

use self::picker::PickerAction;
use self::tree::{RewindAction, TreeAction};
use super::{App, Effect, PickerJob, PickerReply, SessionJob, TreeJob};
use crate::layout;
use crate::picker::Picker;
use crate::picker::edit::preview_lines;
use crate::tree_view::{RewindList, TreeView};
use cairn_core::SessionSummary;

/// What is drawn over the chat, if anything.
#[derive(Debug)]
pub(crate) enum Overlay {
    /// Nothing: keys go to the composer.
    None,
    /// The help; `scroll`: help rows scrolled past at the top.
    Help { scroll: usize },
    /// The `/sessions` picker.
    Sessions(Picker),
    /// The `/model` picker.
    Models(ModelPicker),
    /// The rewind list (Esc twice, `/rewind`).
    Rewind(RewindList),
    /// The `/tree` view.
    Tree(TreeView),
}

impl App {
    /// Gives `key` to the open overlay. Returns false when none is open.
    pub(super) fn on_overlay_key(&mut self, key: KeyEvent, effects: &mut Vec<Effect>) -> bool {
        match &mut self.overlay {
            Overlay::None => false,
            Overlay::Help { scroll } => {
                let scroll = *scroll;
                let max_scroll = layout::help_max_scroll(self.screen());
                let page = usize::from(self.size.1.saturating_sub(4)).max(1);
                self.overlay = match help::scroll_after_key(key, scroll, max_scroll, page) {
                    Some(scroll) => Overlay::Help { scroll },
                    None => Overlay::None,
                };
                true
            }
            Overlay::Models(picker) => {
                let page = usize::from(self.size.1.saturating_sub(4)).max(1);
                match models::on_key(picker, key, page) {
                    ModelAction::Stay => {}
                    ModelAction::Close => self.overlay = Overlay::None,
                    ModelAction::Pick(model) => {
                        self.overlay = Overlay::None;
                        self.switch_model(model, effects);
                    }
                }
                true
            }
            Overlay::Sessions(picker) => {
                let action = picker::on_key(picker, key, self.now_ms);
                self.on_picker_action(action, effects);
                true
            }
            Overlay::Rewind(list) => {
                match tree::rewind_key(list, key) {
                    RewindAction::Stay => {}
                    RewindAction::Close => self.overlay = Overlay::None,
                    RewindAction::Edit(item) => {
                        let Overlay::Rewind(list) =
                            std::mem::replace(&mut self.overlay, Overlay::None)
                        else {
                            return true;
                        };
                        self.start_editing(item, &list.branch);
                    }
                }
                true
            }
            Overlay::Tree(view) => {
                match tree::tree_key(view, key) {
                    TreeAction::Stay => {}
                    TreeAction::Close => self.overlay = Overlay::None,
                    TreeAction::Switch(event) => {
                        self.overlay = Overlay::None;
                        self.hint = Some("switching branches…".to_owned());
                        effects.push(Effect::Job(SessionJob::Tree(TreeJob::SwitchBranch(event))));
                    }
                    TreeAction::Fork(event) => {
                        self.overlay = Overlay::None;
                        self.hint = Some("forking…".to_owned());
                        effects.push(Effect::Job(SessionJob::Tree(TreeJob::Fork {
                            at: Some(event),
                        })));
                    }
                }
                true
            }
        }
    }

    /// Carries out what a key or a paste in the sessions picker asked for.
    fn on_picker_action(&mut self, action: PickerAction, effects: &mut Vec<Effect>) {
        let Overlay::Sessions(picker) = &mut self.overlay else {
            return;
        };
        match action {
            PickerAction::Stay => {}
            PickerAction::Rename { id, title } => {
                // The open session is renamed through the manager, which holds it.
                effects.push(Effect::Job(if id == picker.current {
                    SessionJob::Rename(title)
                } else {
                    SessionJob::Picker(PickerJob::Rename {
                        session_id: id,
                        title,
                    })
                }));
                self.list_again(effects);
            }
            PickerAction::SetArchived { id, archived } => {
                effects.push(Effect::Job(SessionJob::Picker(PickerJob::SetArchived {
                    session_id: id,
                    archived,
                })));
                self.list_again(effects);
            }
            PickerAction::Delete(id) => {
                effects.push(Effect::Job(SessionJob::Picker(PickerJob::Delete(id))));
                self.list_again(effects);
            }
            PickerAction::List { all_workspaces } => {
                effects.push(Effect::Job(SessionJob::ListSessions { all_workspaces }));
                if !picker.filter.trim().is_empty() {
                    effects.push(Effect::Job(SessionJob::Search {
                        query: picker.filter.clone(),
                        all_workspaces,
                    }));
                }
            }
            PickerAction::Search { all_workspaces } => {
                effects.push(Effect::Job(SessionJob::Search {
                    query: picker.filter.clone(),
                    all_workspaces,
                }));
            }
            PickerAction::Show(event_id) => {
                self.overlay = Overlay::None;
                self.focus_event(event_id);
            }
            PickerAction::OpenAt(id, event_id) => {
                self.overlay = Overlay::None;
                self.leave_conversation(effects);
                self.hint = Some(format!("opening session {}…", id.short()));
                effects.push(Effect::Job(SessionJob::OpenAt {
                    session_id: id,
                    event_id,
                }));
            }
            PickerAction::Close => self.overlay = Overlay::None,
            PickerAction::Open(id) => {
                self.overlay = Overlay::None;
                self.leave_conversation(effects);
                self.hint = Some(format!("opening session {}…", id.short()));
                effects.push(Effect::Job(SessionJob::Resume(id)));
            }
        }
        self.request_preview(effects);
    }

    /// Gives a paste to the open overlay. Returns false when none is open; overlays that take
    /// no text drop it, rather than fill the input hidden under them.
    pub(super) fn on_overlay_paste(&mut self, text: &str, effects: &mut Vec<Effect>) -> bool {
        match &mut self.overlay {
            Overlay::None => false,
            Overlay::Sessions(picker) => {
                let action = picker::on_paste(picker, text);
                self.on_picker_action(action, effects);
                true
            }
            Overlay::Help { .. } | Overlay::Models(_) | Overlay::Rewind(_) | Overlay::Tree(_) => {
                true
            }
        }
    }
}

/// The sessions picker's traffic with the session task.
impl App {
    /// The list the picker asked for arrived (ignored if the scope changed meanwhile).
    pub(super) fn on_sessions_listed(
        &mut self,
        all_workspaces: bool,
        result: Result<Vec<SessionSummary>, String>,
        effects: &mut Vec<Effect>,
    ) {
        if let Overlay::Sessions(picker) = &mut self.overlay
            && picker.all_workspaces == all_workspaces
        {
            let selected = picker.selected_row(self.now_ms).map(|row| row.id);
            picker.listed(result);
            // After a change from the list, the highlight stays where it was if it can.
            if let Some(index) =
                selected.and_then(|id| picker.rows(self.now_ms).iter().position(|row| row.id == id))
            {
                picker.selected = index;
            }
            self.request_preview(effects);
        }
    }

    pub(super) fn on_picker_reply(&mut self, reply: PickerReply, effects: &mut Vec<Effect>) {
        let Overlay::Sessions(picker) = &mut self.overlay else {
            return;
        };
        match reply {
            PickerReply::Preview { session_id, result } => {
                picker.previewed(session_id, result.map(|events| preview_lines(&events)));
            }
            PickerReply::Changed(result) => {
                picker.notice = Some(match result {
                    Ok(done) => done,
                    Err(error) => format!("failed: {error}"),
                });
                // A renamed or restored session reads differently now.
                picker.preview = None;
                self.request_preview(effects);
            }
        }
    }

    /// Asks for the highlighted session's preview, unless it is there or on its way.
    fn request_preview(&mut self, effects: &mut Vec<Effect>) {
        if let Overlay::Sessions(picker) = &mut self.overlay
            && let Some(id) = picker.preview_wanted(self.now_ms)
        {
            picker.preview_requested(id);
            effects.push(Effect::Job(SessionJob::Picker(PickerJob::Preview(id))));
        }
    }

    /// Lists the picker's sessions again after a change (jobs run in order, so the list
    /// shows it).
    fn list_again(&self, effects: &mut Vec<Effect>) {
        if let Overlay::Sessions(picker) = &self.overlay {
            effects.push(Effect::Job(SessionJob::ListSessions {
                all_workspaces: picker.all_workspaces,
            }));
        }
    }
}
