//! Where `cairn run`'s answer goes: plain text on standard output (neutralised when it is a
//! terminal) or JSON lines with `--json`; notes and retries on standard error.

use std::io::{IsTerminal, Write};

use cairn_core::SessionManager;
use cairn_core::provider::{FinishReason, StreamEvent};
use cairn_core::text::neutralize_controls;
use cairn_core::turn::AnswerAccumulator;
use serde_json::json;

/// Where the answer goes: plain text (neutralised when it is a terminal) or JSON lines.
pub(super) struct Output {
    pub(super) json: bool,
    terminal: bool,
    wrote_text: bool,
    stdout: std::io::Stdout,
    /// The first failure to write the answer (a closed pipe, a full disk); nothing more is
    /// written after it, but the answer is still read to its end and saved.
    pub(super) write_error: Option<std::io::Error>,
}

impl Output {
    pub(super) fn new(json: bool) -> Self {
        let stdout = std::io::stdout();
        Self {
            json,
            terminal: stdout.is_terminal(),
            wrote_text: false,
            stdout,
            write_error: None,
        }
    }

    pub(super) fn line(&mut self, value: serde_json::Value) {
        self.write(format!("{value}\n").as_bytes());
    }

    pub(super) fn write(&mut self, bytes: &[u8]) {
        if self.write_error.is_some() {
            return;
        }
        let mut lock = self.stdout.lock();
        if let Err(error) = lock.write_all(bytes).and_then(|()| lock.flush()) {
            self.write_error = Some(error);
        }
    }

    pub(super) fn session(&mut self, manager: &SessionManager, resumed: bool, provider: &str) {
        if self.json {
            self.line(json!({
                "type": "session",
                "session_id": manager.session().id.to_string(),
                "resumed": resumed,
                "provider": provider,
            }));
        }
    }

    pub(super) fn stream_event(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(text) => self.delta(text),
            StreamEvent::Retrying {
                attempt,
                max_attempts,
                delay,
                reason,
            } => {
                self.retry(*attempt, *max_attempts, delay.as_secs_f64(), reason);
            }
            StreamEvent::ToolCallDelta { .. }
            | StreamEvent::Usage(_)
            | StreamEvent::Finished(_) => {}
        }
    }

    pub(super) fn delta(&mut self, text: &str) {
        if self.json {
            self.line(json!({ "type": "delta", "text": text }));
            return;
        }
        let shown = if self.terminal {
            neutralize_controls(text)
        } else {
            text.to_owned()
        };
        self.write(shown.as_bytes());
        self.wrote_text |= !text.is_empty();
    }

    pub(super) fn end_of_text(&mut self) {
        if !self.json && self.wrote_text {
            self.write(b"\n");
        }
    }

    pub(super) fn retry(&mut self, attempt: u32, max_attempts: u32, delay_secs: f64, reason: &str) {
        if self.json {
            self.line(json!({
                "type": "retry",
                "attempt": attempt,
                "max_attempts": max_attempts,
                "delay_secs": delay_secs,
                "reason": reason,
            }));
        } else {
            // The reason can quote a server's error body: never raw on the terminal.
            let reason = neutralize_controls(reason);
            errln!("{reason}; retrying in {delay_secs:.1}s ({attempt}/{max_attempts})");
        }
    }

    pub(super) fn message(
        &mut self,
        manager: &SessionManager,
        event_id: cairn_core::EventId,
        answer: &AnswerAccumulator,
        interrupted: bool,
        model: &str,
    ) {
        if !self.json {
            return;
        }
        let finish = answer.finish_reason.as_ref().map(FinishReason::as_str);
        let tool_calls: Vec<_> = answer
            .tool_calls
            .iter()
            .map(|call| json!({ "id": call.id, "name": call.name, "arguments": call.arguments }))
            .collect();
        self.line(json!({
            "type": "message",
            "session_id": manager.session().id.to_string(),
            "event_id": event_id.to_string(),
            "role": "assistant",
            "model": model,
            "text": answer.text,
            "interrupted": interrupted,
            "finish_reason": finish,
            "usage": answer.usage.map(|usage| json!({
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
            })),
            "tool_calls": tool_calls,
        }));
    }

    /// A note from Cairn (not the model): a JSON line, or a line on standard error.
    pub(super) fn note(&mut self, text: &str) {
        if self.json {
            self.line(json!({ "type": "note", "text": text }));
        } else {
            errln!("{text}");
        }
    }

    pub(super) fn error(&mut self, message: &str) {
        if self.json {
            self.line(json!({ "type": "error", "message": message }));
        }
    }
}
