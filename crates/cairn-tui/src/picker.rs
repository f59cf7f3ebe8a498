//! The `/sessions` picker: this workspace's sessions (or every workspace's), newest first,
//! filtered by what is typed. Pure state; the list arrives from the session task.

use cairn_core::resume::describe_age;
use cairn_core::workspace::shorten_home;
use cairn_core::{SessionId, SessionSummary};

use crate::sanitize::sanitize;

#[derive(Debug)]
pub struct Picker {
    pub all_workspaces: bool,
    pub filter: String,
    /// `None` while the list is loading.
    pub items: Option<Vec<SessionSummary>>,
    pub error: Option<String>,
    pub selected: usize,
    pub current: SessionId,
}

/// One row as drawn, already sanitised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickerRow {
    pub id: SessionId,
    pub title: String,
    pub age: String,
    pub messages: u64,
    pub preview: String,
    pub directory: String,
    pub current: bool,
}

impl Picker {
    pub fn loading(current: SessionId, all_workspaces: bool) -> Self {
        Self {
            all_workspaces,
            filter: String::new(),
            items: None,
            error: None,
            selected: 0,
            current,
        }
    }

    /// The rows matching the filter (title, preview, short id or folder; case-insensitive).
    pub fn rows(&self, now_ms: i64) -> Vec<PickerRow> {
        let filter = self.filter.to_lowercase();
        self.items
            .iter()
            .flatten()
            .filter(|item| {
                filter.is_empty()
                    || item.session.title.to_lowercase().contains(&filter)
                    || item.preview.to_lowercase().contains(&filter)
                    || item.session.id.short().contains(&filter)
                    || item
                        .session
                        .directory
                        .display()
                        .to_string()
                        .to_lowercase()
                        .contains(&filter)
            })
            .map(|item| PickerRow {
                id: item.session.id,
                title: if item.session.title.is_empty() {
                    "(untitled)".to_owned()
                } else {
                    sanitize(&item.session.title).replace('\n', " ")
                },
                age: describe_age(now_ms - item.session.updated_at_ms),
                messages: item.message_count,
                preview: sanitize(&item.preview).replace('\n', " "),
                directory: shorten_home(&item.session.directory),
                current: item.session.id == self.current,
            })
            .collect()
    }

    pub fn move_selection(&mut self, delta: isize, now_ms: i64) {
        let count = self.rows(now_ms).len();
        if count == 0 {
            self.selected = 0;
            return;
        }
        let next = self.selected.saturating_add_signed(delta);
        self.selected = next.min(count - 1);
    }

    pub fn selected_row(&self, now_ms: i64) -> Option<PickerRow> {
        self.rows(now_ms).into_iter().nth(self.selected)
    }

    /// The list arrived, or why it could not be read; the highlight goes to the top.
    pub fn listed(&mut self, result: Result<Vec<SessionSummary>, String>) {
        match result {
            Ok(items) => {
                self.items = Some(items);
                self.error = None;
            }
            Err(error) => {
                self.items = Some(Vec::new());
                self.error = Some(error);
            }
        }
        self.selected = 0;
    }
}
