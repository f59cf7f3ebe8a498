//! The `/sessions` picker: this workspace's sessions (or every workspace's), newest first,
//! filtered by what is typed: sessions whose title, preview, id or folder match come first,
//! then sessions where the words were said (a search the session task runs for the filter),
//! best first, each with the passage that matched. Archived sessions are listed, marked,
//! unless hidden (the current one is always listed). Pure state; lists and search results arrive from
//! the session task. Previews and changes made from the list are in [`edit`].

pub mod edit;

use std::collections::HashMap;
use std::ops::Range;

use cairn_core::resume::describe_age;
use cairn_core::search::SearchHit;
use cairn_core::workspace::{host_name, session_place};
use cairn_core::{EventId, SessionId, SessionSummary};

use self::edit::{PickerMode, Preview};
use crate::sanitize::sanitize;

#[derive(Debug)]
pub struct Picker {
    /// Archived sessions are listed (marked) too.
    pub show_archived: bool,
    pub mode: PickerMode,
    /// The highlighted session's newest messages, once the session task has read them.
    pub preview: Option<Preview>,
    /// What the last change from the list did (or why it could not), shown in the footer.
    pub notice: Option<String>,
    pub all_workspaces: bool,
    pub filter: String,
    /// `None` while the list is loading.
    pub items: Option<Vec<SessionSummary>>,
    pub error: Option<String>,
    pub selected: usize,
    pub current: SessionId,
    /// What the session task found said for a filter (the one typed then; stale results
    /// stay until fresh ones arrive, and only while they match what is typed).
    pub found: Option<Found>,
}

/// Search results for one filter.
#[derive(Debug)]
pub struct Found {
    pub query: String,
    pub hits: Vec<SearchHit>,
    /// Why the search could not run (an invalid query, say); shown instead of hits.
    pub error: Option<String>,
}

/// A passage of a session around what matched, sanitised, on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowSnippet {
    pub text: String,
    /// Byte ranges of `text` to highlight.
    pub highlights: Vec<Range<usize>>,
    /// The message the passage is from: Enter opens the session there.
    pub event_id: EventId,
}

/// One row as drawn, already sanitised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PickerRow {
    pub id: SessionId,
    /// The shortest prefix of the id (eight digits or more) no other session shown shares.
    pub short_id: String,
    pub title: String,
    pub age: String,
    /// Unknown for a session found by search beyond the listed ones.
    pub messages: Option<u64>,
    /// Branches of the session, 0 when unknown; more than one is shown.
    pub branches: u64,
    pub preview: String,
    pub directory: String,
    pub current: bool,
    pub archived: bool,
    /// Set when the session was found by what was said in it.
    pub snippet: Option<RowSnippet>,
}

/// Each session's shortest id prefix, at least eight digits, that no other of `ids` shares.
/// Eight digits alone are the creation minute of a v7 id, so sessions made within a minute of
/// each other need more to tell apart.
fn distinguishing_prefixes(ids: impl Iterator<Item = SessionId>) -> HashMap<SessionId, String> {
    const MIN_SHORT_ID: usize = 8;
    let mut ids: Vec<(String, SessionId)> = ids.map(|id| (id.0.simple().to_string(), id)).collect();
    ids.sort();
    ids.dedup();
    let shared = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    (0..ids.len())
        .map(|index| {
            let hex = &ids[index].0;
            let before = index.checked_sub(1).map_or(0, |i| shared(hex, &ids[i].0));
            let after = ids.get(index + 1).map_or(0, |next| shared(hex, &next.0));
            let length = (before.max(after) + 1).clamp(MIN_SHORT_ID, hex.len());
            (ids[index].1, hex[..length].to_owned())
        })
        .collect()
}

impl Picker {
    pub fn loading(current: SessionId, all_workspaces: bool) -> Self {
        Self {
            // `/new` archives the session it leaves, so the sessions a user comes back for
            // are mostly archived ones: shown (marked) unless hidden with Ctrl+V.
            show_archived: true,
            mode: PickerMode::Browse,
            preview: None,
            notice: None,
            all_workspaces,
            filter: String::new(),
            items: None,
            error: None,
            selected: 0,
            current,
            found: None,
        }
    }

    /// The rows matching the filter: title, preview, short id or folder (case-insensitive),
    /// then sessions where the filter's words were said, best first.
    pub fn rows(&self, now_ms: i64) -> Vec<PickerRow> {
        let filter = self.filter.to_lowercase();
        let hits = self.current_hits();
        let short_ids = distinguishing_prefixes(
            self.items
                .iter()
                .flatten()
                .map(|item| item.session.id)
                .chain(hits.iter().map(|hit| hit.session.id)),
        );
        let short_id = |id: SessionId| {
            short_ids
                .get(&id)
                .cloned()
                .unwrap_or_else(|| id.0.simple().to_string())
        };
        let snippet_of = |id: SessionId| {
            hits.iter()
                .find(|hit| hit.session.id == id)
                .and_then(|hit| hit.snippets.first())
                .map(row_snippet)
        };
        let this_host = host_name();
        let mut rows: Vec<PickerRow> = self
            .items
            .iter()
            .flatten()
            .filter(|item| self.is_shown(item.session.id, item.session.archived_at_ms))
            .filter(|item| {
                filter.is_empty()
                    || item.session.title.to_lowercase().contains(&filter)
                    || item.preview.to_lowercase().contains(&filter)
                    || item.session.id.0.simple().to_string().starts_with(&filter)
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
                short_id: short_id(item.session.id),
                title: display_title(&item.session.title),
                age: describe_age(now_ms - item.session.updated_at_ms),
                messages: Some(item.message_count),
                branches: item.branch_count,
                preview: sanitize(&item.preview).replace('\n', " "),
                directory: sanitize(&session_place(&item.session, &this_host)).into_owned(),
                current: item.session.id == self.current,
                archived: item.session.archived_at_ms.is_some(),
                snippet: snippet_of(item.session.id),
            })
            .collect();
        for hit in hits {
            let session = &hit.session;
            if rows.iter().any(|row| row.id == session.id)
                || !self.is_shown(session.id, session.archived_at_ms)
            {
                continue;
            }
            let listed = self
                .items
                .iter()
                .flatten()
                .find(|item| item.session.id == session.id);
            rows.push(PickerRow {
                id: session.id,
                short_id: short_id(session.id),
                title: display_title(&session.title),
                age: describe_age(now_ms - session.updated_at_ms),
                messages: listed.map(|item| item.message_count),
                branches: listed.map_or(0, |item| item.branch_count),
                preview: listed
                    .map(|item| sanitize(&item.preview).replace('\n', " "))
                    .unwrap_or_default(),
                directory: sanitize(&session_place(session, &this_host)).into_owned(),
                current: session.id == self.current,
                archived: session.archived_at_ms.is_some(),
                snippet: hit.snippets.first().map(row_snippet),
            });
        }
        rows
    }

    /// Archived sessions are shown only when asked for; the current one always is.
    fn is_shown(&self, id: SessionId, archived_at_ms: Option<i64>) -> bool {
        self.show_archived || archived_at_ms.is_none() || id == self.current
    }

    /// Archived sessions of the list left out because they are not asked for.
    pub fn hidden_archived(&self) -> usize {
        self.items
            .iter()
            .flatten()
            .filter(|item| !self.is_shown(item.session.id, item.session.archived_at_ms))
            .count()
    }

    /// The highlighted session, when its preview is not there yet (nor being read).
    pub fn preview_wanted(&self, now_ms: i64) -> Option<SessionId> {
        let id = self.selected_row(now_ms)?.id;
        match &self.preview {
            Some(preview) if preview.id == id => None,
            Some(_) | None => Some(id),
        }
    }

    /// The session task was asked for `id`'s preview.
    pub fn preview_requested(&mut self, id: SessionId) {
        self.preview = Some(Preview { id, lines: None });
    }

    /// A preview arrived; kept only while its session is still the one being previewed.
    pub fn previewed(&mut self, id: SessionId, lines: Result<Vec<edit::PreviewLine>, String>) {
        if let Some(preview) = self.preview.as_mut().filter(|preview| preview.id == id) {
            preview.lines = Some(lines);
        }
    }

    /// The search hits for what is typed now (none while they are for another filter).
    fn current_hits(&self) -> &[SearchHit] {
        match &self.found {
            Some(found) if found.query == self.filter && !self.filter.trim().is_empty() => {
                &found.hits
            }
            _ => &[],
        }
    }

    /// Why searching for the current filter failed, if it did.
    pub fn search_error(&self) -> Option<&str> {
        self.found
            .as_ref()
            .filter(|found| found.query == self.filter)
            .and_then(|found| found.error.as_deref())
    }

    /// Search results arrived for `query`; kept only if it is still what is typed.
    pub fn found(&mut self, query: String, result: Result<Vec<SearchHit>, String>) {
        if query != self.filter {
            return;
        }
        let (hits, error) = match result {
            Ok(hits) => (hits, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        self.found = Some(Found { query, hits, error });
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

fn display_title(title: &str) -> String {
    if title.is_empty() {
        "(untitled)".to_owned()
    } else {
        sanitize(title).replace('\n', " ")
    }
}

/// A passage made safe to draw and flat: each piece between highlights is sanitised on its
/// own, so the highlights stay on the words that matched.
fn row_snippet(snippet: &cairn_core::search::Snippet) -> RowSnippet {
    let mut text = String::new();
    let mut highlights = Vec::new();
    let mut at = 0;
    let flat = |piece: &str| sanitize(piece).replace(['\n', '\r', '\t'], " ");
    for range in &snippet.highlights {
        if range.start < at || range.end > snippet.text.len() {
            continue;
        }
        text.push_str(&flat(&snippet.text[at..range.start]));
        let start = text.len();
        text.push_str(&flat(&snippet.text[range.clone()]));
        highlights.push(start..text.len());
        at = range.end;
    }
    text.push_str(&flat(&snippet.text[at..]));
    RowSnippet {
        text,
        highlights,
        event_id: snippet.event_id,
    }
}
