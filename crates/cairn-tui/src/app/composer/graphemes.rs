//! Grapheme clusters for the editor. `ratatui-textarea` draws by grapheme but moves and
//! deletes by code point, so a family emoji took five Backspaces and the cursor could stop
//! between a letter and its combining accent (typing there detached it). The composer asks
//! here where the clusters around the cursor begin and end, in the editor's own unit (code
//! points along a line), and moves or deletes that many code points at once.

use unicode_segmentation::UnicodeSegmentation;

/// The cluster boundaries of `line` in code points: 0, then the end of every cluster.
fn boundaries(line: &str) -> impl Iterator<Item = usize> + '_ {
    let mut offset = 0;
    std::iter::once(0).chain(line.graphemes(/*extended*/ true).map(move |grapheme| {
        offset += grapheme.chars().count();
        offset
    }))
}

/// The start of the cluster before `col` (`col` itself at the start of the line).
pub(super) fn previous_boundary(line: &str, col: usize) -> usize {
    boundaries(line)
        .take_while(|boundary| *boundary < col)
        .last()
        .unwrap_or(col)
}

/// The end of the cluster at `col` (`col` itself at the end of the line).
pub(super) fn next_boundary(line: &str, col: usize) -> usize {
    boundaries(line)
        .find(|boundary| *boundary > col)
        .unwrap_or(col)
}

/// The start of the cluster `col` is inside of, or `col` when it is on a boundary.
pub(super) fn snapped(line: &str, col: usize) -> usize {
    boundaries(line)
        .take_while(|boundary| *boundary <= col)
        .last()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const FAMILY: &str = "👩\u{200d}👩\u{200d}👧";

    #[test]
    fn a_cluster_is_one_step() {
        let line = format!("a{FAMILY}e\u{301}z");
        // a | family (5 code points) | e + accent (2) | z
        assert_eq!(
            [
                next_boundary(&line, 0),
                next_boundary(&line, 1),
                next_boundary(&line, 6),
                next_boundary(&line, 8),
                next_boundary(&line, 9),
            ],
            [1, 6, 8, 9, 9]
        );
        assert_eq!(
            [
                previous_boundary(&line, 9),
                previous_boundary(&line, 8),
                previous_boundary(&line, 6),
                previous_boundary(&line, 1),
                previous_boundary(&line, 0),
            ],
            [8, 6, 1, 0, 0]
        );
        assert_eq!(
            [snapped(&line, 3), snapped(&line, 7), snapped(&line, 8)],
            [1, 6, 8]
        );
    }
}
