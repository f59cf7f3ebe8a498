//! Folding what a summary stands for: after `/compact` (or a session loaded with a summary)
//! the cells before the summary are kept, but drawn as one line
//! "120 earlier messages summarised · Enter to expand". Enter on an empty input expands them
//! and again folds them (the line then reads "· Enter to fold").
//!
//! Nothing is removed: the cells stay in [`Transcript::cells`] (so rewinding, copying and
//! focusing a search match find them); only drawing skips them while folded. A later summary
//! folds everything before it, the earlier fold included.

use cairn_core::text::plural;

use super::{Cell, CellKind, Transcript};

#[derive(Debug)]
pub(super) struct Fold {
    /// How many cells from the start the fold covers.
    cells: usize,
    /// How many messages the summary stands for, for the line.
    messages: u64,
    expanded: bool,
    line: Cell,
}

fn fold_line(messages: u64, expanded: bool) -> Cell {
    let action = if expanded {
        "Enter to fold"
    } else {
        "Enter to expand"
    };
    Cell::new(
        CellKind::Fold,
        &format!(
            "{} summarised · {action}",
            plural(messages, "earlier message")
        ),
    )
}

impl Transcript {
    /// Folds the first `cells` cells behind one line saying `messages` were summarised.
    pub fn fold_first(&mut self, cells: usize, messages: u64) {
        if cells == 0 {
            return;
        }
        self.fold = Some(Fold {
            cells: cells.min(self.cells.len()),
            messages,
            expanded: false,
            line: fold_line(messages, false),
        });
    }

    /// Expands folded cells, or folds them again; false when nothing is folded.
    pub fn toggle_fold(&mut self) -> bool {
        let Some(fold) = &mut self.fold else {
            return false;
        };
        fold.expanded = !fold.expanded;
        fold.line = fold_line(fold.messages, fold.expanded);
        true
    }

    /// Expands the fold if the cell at `index` is behind it (a search match to show).
    pub fn reveal(&mut self, index: usize) {
        if let Some(fold) = &mut self.fold
            && index < fold.cells
            && !fold.expanded
        {
            self.toggle_fold();
        }
    }

    /// Whether cells are folded out of sight now.
    pub fn is_folded(&self) -> bool {
        self.fold.as_ref().is_some_and(|fold| !fold.expanded)
    }

    /// The cells drawn, newest first: the fold line in place of the folded cells, or before
    /// them when they are expanded.
    pub(super) fn shown_bottom_up(&self) -> Box<dyn Iterator<Item = &Cell> + '_> {
        let Some(fold) = &self.fold else {
            return Box::new(self.cells.iter().rev());
        };
        // The cells may have been cut below the fold (a rewind): it covers what is left.
        let split = fold.cells.min(self.cells.len());
        let (before, after) = self.cells.split_at(split);
        let before = if fold.expanded { before } else { &[] };
        Box::new(
            after
                .iter()
                .rev()
                .chain(std::iter::once(&fold.line))
                .chain(before.iter().rev()),
        )
    }
}
