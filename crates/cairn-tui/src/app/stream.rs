//! The stream controller: the answer in flight ([`ActiveTurn`]) and how its text reaches the
//! transcript while it streams.
//!
//! Finished paragraphs are committed to transcript cells as soon as they are complete, and
//! only the unfinished tail stays in the live cell, so each delta lays out a little text,
//! not the whole answer so far.
//!
//! Invariant: `answer.text[..committed]` is in transcript cells, `answer.text[committed..]`
//! is in the live cell; together they are everything the model said, in order.

use cairn_core::StreamEvent;
use cairn_core::turn::AnswerAccumulator;

use crate::transcript::{Cell, CellKind, Transcript};

/// The request in flight.
#[derive(Debug)]
pub(crate) struct ActiveTurn {
    pub(crate) id: u64,
    pub(crate) started_ms: i64,
    /// The stream was started (the request is with the provider).
    pub(crate) streaming: bool,
    /// The request declared the tools (so a refusal of them can be recognised).
    pub(crate) declared_tools: bool,
    /// Everything the model said so far, raw: text, tool calls, usage, finish reason.
    pub(super) answer: AnswerAccumulator,
    /// Byte offset up to which the answer text has been committed to transcript cells.
    pub(super) committed: usize,
    /// "retrying in 2s: ..." while the provider retries.
    pub(crate) retrying: Option<String>,
    /// When the session task was last asked to renew the lease and save the draft.
    pub(super) last_heartbeat_ms: i64,
    /// The conversation was compacted once for this turn after the model said it was too
    /// long; a second such error ends the turn.
    pub(crate) compacted: bool,
    /// Where paragraph detection stands, so each delta scans only new text.
    scan: ParagraphScan,
    /// How much of the answer text the live cell holds.
    live_len: usize,
}

/// Paragraph detection carried from one delta to the next. Every complete line is looked at
/// once; the unfinished last line only at its start, so one very long line costs nothing
/// per delta.
#[derive(Debug, Default)]
struct ParagraphScan {
    /// Start of the line not yet complete; everything before it was scanned.
    line_start: usize,
    /// How far the text was searched for the end of that line.
    searched_to: usize,
    in_fence: bool,
    previous_blank: bool,
}

impl ActiveTurn {
    /// Turn `id`, started at `started_ms`, waiting for its request to be built.
    pub(super) fn new(id: u64, started_ms: i64) -> Self {
        Self {
            id,
            started_ms,
            streaming: false,
            declared_tools: false,
            answer: AnswerAccumulator::new(),
            committed: 0,
            retrying: None,
            last_heartbeat_ms: started_ms,
            compacted: false,
            scan: ParagraphScan::default(),
            live_len: 0,
        }
    }

    /// Whether any answer text has arrived.
    pub(crate) fn has_text(&self) -> bool {
        !self.answer.text.is_empty()
    }

    /// Folds one stream event into the answer, moving finished paragraphs into `transcript`
    /// and the rest into `live`. Returns whether the model said the answer is finished.
    pub(super) fn apply(
        &mut self,
        event: StreamEvent,
        transcript: &mut Transcript,
        live: &mut Option<Cell>,
    ) -> bool {
        self.answer.push(&event);
        match event {
            StreamEvent::TextDelta(_) => {
                self.retrying = None;
                self.commit_paragraphs(transcript, live);
            }
            StreamEvent::ToolCallDelta { .. } => self.retrying = None,
            StreamEvent::Usage(_) => {}
            StreamEvent::Retrying {
                attempt,
                max_attempts,
                delay,
                reason,
            } => {
                self.retrying = Some(format!(
                    "retrying in {}s: {} ({attempt}/{max_attempts})",
                    delay.as_secs_f64().ceil(),
                    crate::sanitize::sanitize(&reason)
                ));
            }
            StreamEvent::Finished(_) => return true,
        }
        false
    }

    /// Moves finished paragraphs of the streaming answer into transcript cells, so only the
    /// tail is laid out again on each delta. A paragraph is finished at a blank line outside
    /// a code fence that is followed by a line starting at the margin (so list items and
    /// indented continuations stay with what they belong to). Scans only what is new: the
    /// cost of a delta is proportional to the delta, however long the answer.
    fn commit_paragraphs(&mut self, transcript: &mut Transcript, live: &mut Option<Cell>) {
        let text = self.answer.text.as_str();
        let scan = &mut self.scan;
        let mut boundaries = Vec::new();
        let starts_paragraph = |line: &str, scan: &ParagraphScan, committed: usize| {
            scan.previous_blank
                && !scan.in_fence
                && scan.line_start > committed
                && !line.starts_with([' ', '\t'])
                && line.chars().any(|c| !c.is_whitespace())
        };
        loop {
            let from = scan.searched_to.max(scan.line_start);
            let Some(found) = text[from..].find('\n') else {
                scan.searched_to = text.len();
                break;
            };
            let end = from + found + 1;
            let line = &text[scan.line_start..end];
            let committed = boundaries.last().copied().unwrap_or(self.committed);
            if starts_paragraph(line, scan, committed) {
                boundaries.push(scan.line_start);
            }
            let trimmed = line.trim_start_matches(' ');
            if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
                scan.in_fence = !scan.in_fence;
            }
            scan.previous_blank = line.trim().is_empty();
            scan.line_start = end;
            scan.searched_to = end;
        }
        // The unfinished last line starts a paragraph as soon as its first character shows
        // it; its own state is taken when it completes.
        let committed = boundaries.last().copied().unwrap_or(self.committed);
        if scan.line_start < text.len()
            && starts_paragraph(&text[scan.line_start..], scan, committed)
        {
            boundaries.push(scan.line_start);
        }

        let mut start = self.committed;
        for boundary in boundaries {
            transcript.push(Cell::new(
                CellKind::Assistant {
                    first: start == 0,
                    interrupted: false,
                },
                text[start..boundary].trim_end(),
            ));
            start = boundary;
        }
        let moved = start != self.committed;
        self.committed = start;
        let first = self.committed == 0;
        let kind = CellKind::Assistant {
            first,
            interrupted: false,
        };
        match live {
            Some(cell) if !moved && self.live_len >= self.committed => {
                cell.append_text(&text[self.live_len..]);
            }
            Some(cell) => {
                cell.set_kind(kind);
                cell.set_text(&text[self.committed..]);
            }
            None => *live = Some(Cell::new(kind, &text[self.committed..])),
        }
        self.live_len = text.len();
    }
}
