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
    /// Everything the model said so far, raw: text, tool calls, usage, finish reason.
    pub(super) answer: AnswerAccumulator,
    /// Byte offset up to which the answer text has been committed to transcript cells.
    pub(super) committed: usize,
    /// "retrying in 2s: ..." while the provider retries.
    pub(crate) retrying: Option<String>,
    /// When the session task was last asked to renew the lease and save the draft.
    pub(super) last_heartbeat_ms: i64,
}

impl ActiveTurn {
    /// Turn `id`, started at `started_ms`, waiting for its request to be built.
    pub(super) fn new(id: u64, started_ms: i64) -> Self {
        Self {
            id,
            started_ms,
            streaming: false,
            answer: AnswerAccumulator::new(),
            committed: 0,
            retrying: None,
            last_heartbeat_ms: started_ms,
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
    /// indented continuations stay with what they belong to).
    fn commit_paragraphs(&mut self, transcript: &mut Transcript, live: &mut Option<Cell>) {
        let tail = &self.answer.text[self.committed..];
        let mut in_fence = false;
        let mut boundaries = Vec::new();
        let mut offset = 0;
        let mut previous_blank = false;
        for line in tail.split_inclusive('\n') {
            if previous_blank
                && !in_fence
                && offset > 0
                && !line.starts_with([' ', '\t'])
                && !line.trim().is_empty()
            {
                boundaries.push(offset);
            }
            let complete = line.ends_with('\n');
            let trimmed = line.trim_start_matches(' ');
            if complete && (trimmed.starts_with("```") || trimmed.starts_with("~~~")) {
                in_fence = !in_fence;
            }
            previous_blank = complete && line.trim().is_empty();
            offset += line.len();
        }
        let base = self.committed;
        let mut start = 0;
        for boundary in boundaries {
            let chunk = tail[start..boundary].trim_end();
            transcript.push(Cell::new(
                CellKind::Assistant {
                    first: base + start == 0,
                    interrupted: false,
                },
                chunk,
            ));
            start = boundary;
        }
        self.committed = base + start;
        let first = self.committed == 0;
        let tail = &self.answer.text[self.committed..];
        match live {
            Some(cell) => {
                cell.set_kind(CellKind::Assistant {
                    first,
                    interrupted: false,
                });
                cell.set_text(tail);
            }
            None => {
                *live = Some(Cell::new(
                    CellKind::Assistant {
                        first,
                        interrupted: false,
                    },
                    tail,
                ));
            }
        }
    }
}
