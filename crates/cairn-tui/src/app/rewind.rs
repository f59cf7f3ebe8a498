//! Going back in the conversation: the rewind list (Esc twice, `/rewind`), editing an
//! earlier message, `/tree` and `/fork`.
//!
//! Editing an earlier message shows the transcript as it was just before it and puts its
//! text in the input. Sending makes a new branch (the session task moves the manager to the
//! original's parent first); Esc with the input untouched puts the latest branch back as it
//! was. Nothing is ever deleted: the old branch stays in the session, reachable from `/tree`.

use cairn_core::{Event, EventId};

use super::overlay::Overlay;
use super::{App, Effect, SessionJob, TreeJob};
use crate::transcript::Transcript;
use crate::tree_view::{RewindItem, RewindList, TreeView};

/// What is on screen while an earlier message is being edited.
#[derive(Debug)]
pub(crate) struct EditPoint {
    /// Where the edited message goes: the original's parent.
    pub(crate) parent: Option<EventId>,
    /// The original text, to tell an untouched input from an edited one.
    pub(crate) original: String,
    /// The latest branch's transcript, put back on Esc.
    stashed: Transcript,
}

/// The hint shown while editing.
pub(crate) const EDITING_HINT: &str = "editing from here · Esc returns to the latest";

impl App {
    /// `/rewind`, or Esc twice: the list of this branch's messages.
    pub(super) fn open_rewind(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.hint = Some("an answer is streaming · Esc cancels it first".into());
            return;
        }
        self.esc_armed = false;
        self.overlay = Overlay::Rewind(RewindList::default());
        effects.push(Effect::Job(SessionJob::Tree(TreeJob::ListBranch)));
    }

    /// `/tree`: every branch of the session.
    pub(super) fn open_tree(&mut self, effects: &mut Vec<Effect>) {
        self.overlay = Overlay::Tree(TreeView::loading());
        effects.push(Effect::Job(SessionJob::Tree(TreeJob::LoadTree)));
    }

    pub(super) fn on_branch_listed(&mut self, result: Result<Vec<Event>, String>) {
        let Overlay::Rewind(list) = &mut self.overlay else {
            return;
        };
        match result {
            Ok(branch) => {
                list.loaded(branch);
                if list.items.as_ref().is_some_and(Vec::is_empty) {
                    self.overlay = Overlay::None;
                    self.note("There is no message to go back to yet.");
                }
            }
            Err(error) => {
                self.overlay = Overlay::None;
                self.error(&format!("could not read this branch: {error}"));
            }
        }
    }

    pub(super) fn on_tree_loaded(
        &mut self,
        result: Result<cairn_core::tree::ConversationTree, String>,
    ) {
        let Overlay::Tree(view) = &mut self.overlay else {
            return;
        };
        match result {
            Ok(tree) => {
                self.session.branches = tree.branch_count.max(1);
                view.loaded(tree);
            }
            Err(error) => view.error = Some(error),
        }
    }

    /// Enter in the rewind list: the transcript as it was before `item`, its text to edit.
    pub(super) fn start_editing(&mut self, item: RewindItem, branch: &[Event]) {
        let stashed = match self.editing.take() {
            // Rewinding again while editing: the latest branch is still the one to go back to.
            Some(previous) => previous.stashed,
            // The whole transcript, its fold included, so Esc brings it back as it was.
            None => std::mem::take(&mut self.transcript),
        };
        self.load_events(&branch[..item.position.min(branch.len())]);
        self.composer.clear();
        self.composer.paste(&item.text);
        self.editing = Some(EditPoint {
            parent: item.parent_id,
            original: item.text,
            stashed,
        });
        self.scroll = 0;
        self.hint = Some(EDITING_HINT.to_owned());
    }

    /// Esc while editing with the input untouched: the latest branch again, unchanged.
    fn stop_editing(&mut self) {
        if let Some(edit) = self.editing.take() {
            self.composer.clear();
            self.transcript = edit.stashed;
            self.scroll = 0;
            self.hint = None;
        }
    }

    /// Esc with nothing streaming, nothing queued and no popup: leaves editing when the input
    /// is untouched; otherwise the second Esc in a row opens the rewind list.
    pub(super) fn on_idle_esc(&mut self, effects: &mut Vec<Effect>) {
        if let Some(edit) = &self.editing
            && self.composer.message() == edit.original
        {
            self.stop_editing();
            return;
        }
        if self.esc_armed {
            self.open_rewind(effects);
        } else {
            self.esc_armed = true;
            self.hint = Some("press Esc again to go back to an earlier message".to_owned());
        }
    }

    /// A message is about to be sent: while editing, it goes on a new branch after the
    /// original's parent.
    pub(super) fn branch_if_editing(&mut self, effects: &mut Vec<Effect>) {
        if let Some(edit) = self.editing.take() {
            effects.push(Effect::Job(SessionJob::Tree(TreeJob::BranchAt(
                edit.parent,
            ))));
            self.session.branches += 1;
        }
    }
}
