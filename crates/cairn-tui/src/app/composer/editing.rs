//! Moving and deleting in the editor by what a reader sees as one thing: a grapheme cluster
//! (see [`graphemes`](super::graphemes)) or a collapsed paste's placeholder (see
//! [`pastes`](super::pastes)), never a part of one.
//!
//! Left, Right, Backspace and Delete step over a whole atom; any other move that lands inside
//! one is snapped back to its start; and a deletion that cut into a placeholder (a word or
//! line deletion reaching into it) is widened to take the whole placeholder, so what is left
//! in the editor never holds half a placeholder standing for nothing.

use ratatui_textarea::CursorMove;

use super::{Composer, graphemes};

/// The cursor's line before an edit, to see what the edit cut.
pub(super) struct LineBefore {
    row: usize,
    text: String,
    line_count: usize,
}

impl Composer {
    fn cursor_line(&self) -> (usize, usize, &str) {
        let cursor = self.input.cursor();
        let (row, col) = (cursor.0, cursor.1);
        let line = self
            .input
            .lines()
            .get(row)
            .map(String::as_str)
            .unwrap_or("");
        (row, col, line)
    }

    /// Columns (code points) to the atom boundary before or after the cursor; 0 at the start
    /// or end of the line, where the editor moves between lines.
    fn atom_step(&self, forward: bool) -> usize {
        let (_, col, line) = self.cursor_line();
        for range in self.pastes.ranges(line) {
            if forward && range.start == col || !forward && range.end == col {
                return range.len();
            }
        }
        if forward {
            graphemes::next_boundary(line, col) - col
        } else {
            col - graphemes::previous_boundary(line, col)
        }
    }

    pub(super) fn step_atom(&mut self, forward: bool) {
        let direction = if forward {
            CursorMove::Forward
        } else {
            CursorMove::Back
        };
        // At a line's end or start, one step goes on to the next or previous line.
        for _ in 0..self.atom_step(forward).max(1) {
            self.input.move_cursor(direction);
        }
    }

    pub(super) fn delete_atom(&mut self, forward: bool) {
        match self.atom_step(forward) {
            // Joins the line with the next or previous one.
            0 if forward => {
                self.input.delete_next_char();
            }
            0 => {
                self.input.delete_char();
            }
            steps => {
                if !forward {
                    for _ in 0..steps {
                        self.input.move_cursor(CursorMove::Back);
                    }
                }
                self.input.delete_str(steps);
            }
        }
    }

    /// Moves a cursor left inside an atom (Up, Down or a word move landed there) to the
    /// atom's start.
    pub(super) fn snap_cursor(&mut self) {
        let (_, col, line) = self.cursor_line();
        let start = self
            .pastes
            .ranges(line)
            .into_iter()
            .find(|range| range.start < col && col < range.end)
            .map_or_else(|| graphemes::snapped(line, col), |range| range.start);
        for _ in start..col {
            self.input.move_cursor(CursorMove::Back);
        }
    }

    /// The cursor's line, kept before an edit when the draft has placeholders to protect.
    pub(super) fn line_before_edit(&self) -> Option<LineBefore> {
        if self.pastes.is_empty() {
            return None;
        }
        let (row, _, line) = self.cursor_line();
        Some(LineBefore {
            row,
            text: line.to_owned(),
            line_count: self.input.lines().len(),
        })
    }

    /// After an edit: if it deleted part of a placeholder on the line, deletes the rest of it.
    pub(super) fn keep_placeholders_whole(&mut self, before: LineBefore) {
        let (row, col, line) = self.cursor_line();
        if row != before.row || self.input.lines().len() != before.line_count {
            return;
        }
        let old: Vec<char> = before.text.chars().collect();
        let new: Vec<char> = line.chars().collect();
        if new.len() >= old.len() {
            return;
        }
        // Every deletion on one line leaves the cursor where the cut was.
        let (cut_start, cut_end) = (col, col + old.len() - new.len());
        if cut_end > old.len()
            || old[..cut_start] != new[..cut_start]
            || old[cut_end..] != new[cut_start..]
        {
            return;
        }
        let (mut start, mut end) = (cut_start, cut_end);
        for range in self.pastes.ranges(&before.text) {
            if range.start < cut_end && cut_start < range.end {
                start = start.min(range.start);
                end = end.max(range.end);
            }
        }
        if (start, end) == (cut_start, cut_end) {
            return;
        }
        let mended: String = old[..start].iter().chain(&old[end..]).collect();
        let new_length = new.len();
        let jump = |col: usize| {
            CursorMove::Jump(
                u16::try_from(row).unwrap_or(u16::MAX),
                u16::try_from(col).unwrap_or(u16::MAX),
            )
        };
        self.input.move_cursor(jump(0));
        self.input.delete_str(new_length);
        self.input.insert_str(mended);
        self.input.move_cursor(jump(start));
    }

    /// Ctrl+T: the placeholder at the cursor (or, with none there, every one in the draft)
    /// becomes the text it stands for, to edit as typed. Returns whether there was one.
    pub(super) fn expand_pastes(&mut self) -> bool {
        let (_, col, line) = self.cursor_line();
        let at_cursor = self
            .pastes
            .ranges(line)
            .into_iter()
            .find(|range| range.start <= col && col <= range.end);
        if let Some(range) = at_cursor {
            let label: String = line.chars().skip(range.start).take(range.len()).collect();
            let Some(text) = self.pastes.text_of(&label).map(str::to_owned) else {
                return false;
            };
            for _ in range.start..col {
                self.input.move_cursor(CursorMove::Back);
            }
            self.input.delete_str(range.len());
            self.input.insert_str(text);
            return true;
        }
        let draft = self.text();
        let expanded = self.pastes.expand(&draft);
        if expanded == draft {
            return false;
        }
        self.input = super::new_input();
        self.input.insert_str(expanded);
        true
    }
}
