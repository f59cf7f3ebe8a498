//! The state of the two overlays that move around the conversation tree, pure and apart
//! from the screen: the `/tree` view (every branch, one row per user message) and the rewind
//! list (this branch's user messages, to edit one and ask again from there).
//!
//! Row texts come from stored messages, so they are sanitised here, once, when the overlay
//! is filled; drawing only reads them.

use cairn_core::tree::ConversationTree;
use cairn_core::{Event, EventId, EventKind};

use crate::sanitize::sanitize;

/// The `/tree` overlay: the tree and the highlighted row.
#[derive(Debug)]
pub struct TreeView {
    /// `None` while the tree is loading.
    pub tree: Option<ConversationTree>,
    pub error: Option<String>,
    /// Row texts, sanitised, by row index.
    pub texts: Vec<String>,
    pub selected: usize,
}

impl TreeView {
    pub fn loading() -> Self {
        Self {
            tree: None,
            error: None,
            texts: Vec::new(),
            selected: 0,
        }
    }

    /// Fills the view with `tree`, the head's row highlighted.
    pub fn loaded(&mut self, tree: ConversationTree) {
        self.texts = tree
            .rows
            .iter()
            .map(|row| sanitize(&row.text).into_owned())
            .collect();
        self.selected = tree.head_row().unwrap_or(0);
        self.tree = Some(tree);
    }

    fn row_count(&self) -> usize {
        self.tree.as_ref().map_or(0, |tree| tree.rows.len())
    }

    /// Up and Down: the previous or next row.
    pub fn move_by(&mut self, delta: isize) {
        let last = self.row_count().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    /// Left: the row this one follows (the message before it on its branch).
    pub fn select_parent(&mut self) {
        if let Some(parent) = self
            .tree
            .as_ref()
            .and_then(|tree| tree.rows.get(self.selected))
            .and_then(|row| row.parent_row)
        {
            self.selected = parent;
        }
    }

    /// Right: the first row that follows this one.
    pub fn select_first_child(&mut self) {
        let Some(tree) = &self.tree else {
            return;
        };
        if let Some(child) = tree
            .rows
            .iter()
            .enumerate()
            .skip(self.selected + 1)
            .find(|(_, row)| row.parent_row == Some(self.selected))
            .map(|(index, _)| index)
        {
            self.selected = child;
        }
    }

    /// The highlighted row's message and the newest event under it.
    pub fn selected_row(&self) -> Option<(EventId, EventId)> {
        let row = self.tree.as_ref()?.rows.get(self.selected)?;
        Some((row.event_id, row.newest_leaf))
    }
}

/// One user message of the rewind list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewindItem {
    pub event_id: EventId,
    /// Where the edited message goes: the original's parent.
    pub parent_id: Option<EventId>,
    /// The message as typed (it goes back into the input).
    pub text: String,
    /// Its first line, sanitised, for the list.
    pub label: String,
    /// How many events of the branch come before it.
    pub position: usize,
}

/// The rewind list: this branch's user messages, newest first, filtered by what is typed.
#[derive(Debug, Default)]
pub struct RewindList {
    /// The branch the items come from, oldest first.
    pub branch: Vec<Event>,
    /// `None` while the branch is loading.
    pub items: Option<Vec<RewindItem>>,
    pub filter: String,
    pub selected: usize,
}

impl RewindList {
    /// The user messages of `branch` (oldest first), newest first.
    pub fn loaded(&mut self, branch: Vec<Event>) {
        self.branch = branch;
        let branch = &self.branch;
        let mut items: Vec<RewindItem> = branch
            .iter()
            .enumerate()
            .filter_map(|(position, event)| match &event.kind {
                EventKind::UserMessage { text } => Some(RewindItem {
                    event_id: event.id,
                    parent_id: event.parent_id,
                    text: text.clone(),
                    label: sanitize(
                        text.lines()
                            .map(str::trim)
                            .find(|line| !line.is_empty())
                            .unwrap_or(""),
                    )
                    .into_owned(),
                    position,
                }),
                _ => None,
            })
            .collect();
        items.reverse();
        self.items = Some(items);
        self.selected = 0;
    }

    /// The items matching the filter (case-insensitive), newest first.
    pub fn visible(&self) -> Vec<&RewindItem> {
        let filter = self.filter.to_lowercase();
        self.items
            .iter()
            .flatten()
            .filter(|item| filter.is_empty() || item.text.to_lowercase().contains(&filter))
            .collect()
    }

    pub fn move_by(&mut self, delta: isize) {
        let last = self.visible().len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
    }

    pub fn selected_item(&self) -> Option<RewindItem> {
        self.visible()
            .get(self.selected)
            .map(|item| (*item).clone())
    }
}
