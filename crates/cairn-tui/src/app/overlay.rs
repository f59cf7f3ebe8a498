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
use super::{App, Effect, SessionJob, TreeJob};
use crate::layout;
use crate::picker::Picker;
use crate::tree_view::{RewindList, TreeView};

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
                match picker::on_key(picker, key, self.now_ms) {
                    PickerAction::Stay => {}
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
                        if self.turn.is_some() {
                            self.cancel_turn(effects);
                        }
                        self.hint = Some(format!("opening session {}…", id.short()));
                        effects.push(Effect::Job(SessionJob::OpenAt {
                            session_id: id,
                            event_id,
                        }));
                    }
                    PickerAction::Close => self.overlay = Overlay::None,
                    PickerAction::Open(id) => {
                        self.overlay = Overlay::None;
                        if self.turn.is_some() {
                            self.cancel_turn(effects);
                        }
                        self.hint = Some(format!("opening session {}…", id.short()));
                        effects.push(Effect::Job(SessionJob::Resume(id)));
                    }
                }
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
}
