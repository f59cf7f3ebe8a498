//! Server-sent events framing: bytes in, events out, as the HTML standard's event-stream
//! format defines it (lines end with CRLF, LF or CR; `:` starts a comment; `data:` lines add
//! up to an event, which a blank line ends; `event:` names it; a leading BOM is skipped).
//!
//! Invariants:
//! - Linear in the input: each byte is looked at once when it arrives. Only the unfinished
//!   last line is kept between chunks and it is never scanned again, so one huge line costs
//!   what its bytes cost, however it is split.
//! - Bounded: a line, or the data of one event, longer than [`MAX_EVENT_BYTES`] is an error
//!   ([`SseError::TooLong`]) instead of memory growing for as long as a server keeps sending.
//! - `id:` and `retry:` are read and ignored: a provider stream is never resumed.

use std::collections::VecDeque;

/// The longest line, and the most data one event may carry (64 MiB). Real events are a few
/// hundred bytes; the largest legitimate ones (a whole answer or a big tool argument in one
/// event) stay far below this, and the cap is what keeps a hostile server from using all the
/// memory there is.
pub(crate) const MAX_EVENT_BYTES: usize = 64 * 1024 * 1024;

/// One event: its name (`message` when none was given) and its data lines joined by `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SseEvent {
    pub event: String,
    pub data: String,
}

/// Why a stream cannot be framed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SseError {
    /// A line that is not UTF-8; carries the start of it.
    InvalidUtf8 { excerpt: String },
    /// A line or an event longer than [`MAX_EVENT_BYTES`].
    TooLong { limit: usize },
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidUtf8 { .. } => f.write_str("invalid UTF-8 in the event stream"),
            Self::TooLong { limit } => write!(
                f,
                "an event-stream line or event is longer than {} MiB",
                limit / (1024 * 1024)
            ),
        }
    }
}

/// Bytes of a line start kept in an [`SseError::InvalidUtf8`] excerpt.
const EXCERPT_BYTES: usize = 120;

/// The framing state between chunks.
#[derive(Debug)]
pub(crate) struct SseParser {
    /// The line being received (without its terminator).
    line: Vec<u8>,
    /// The previous chunk ended with CR: a LF that starts the next one belongs to it.
    after_cr: bool,
    /// Nothing has been read yet (a BOM may come first).
    at_start: bool,
    event: String,
    data: String,
    /// At least one `data` field arrived for the event being built.
    has_data: bool,
    limit: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser that refuses lines and events longer than `limit` bytes.
    pub(crate) fn with_limit(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            at_start: true,
            event: String::new(),
            data: String::new(),
            has_data: false,
            limit,
        }
    }

    /// Frames `chunk`, pushing every event it completes.
    pub(crate) fn push(
        &mut self,
        mut chunk: &[u8],
        out: &mut VecDeque<SseEvent>,
    ) -> Result<(), SseError> {
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
        }
        while let Some(end) = chunk
            .iter()
            .position(|&byte| byte == b'\n' || byte == b'\r')
        {
            self.extend_line(&chunk[..end])?;
            self.end_line(out)?;
            let crlf = chunk[end] == b'\r' && chunk.get(end + 1) == Some(&b'\n');
            if chunk[end] == b'\r' && end + 1 == chunk.len() {
                self.after_cr = true;
            }
            chunk = &chunk[end + if crlf { 2 } else { 1 }..];
        }
        self.extend_line(chunk)
    }

    /// The body ended: an unfinished line and an event without its blank line still count
    /// (some servers end the last event with the body alone).
    pub(crate) fn finish(&mut self, out: &mut VecDeque<SseEvent>) -> Result<(), SseError> {
        if !self.line.is_empty() {
            self.end_line(out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), SseError> {
        if self.line.len() + bytes.len() > self.limit {
            return Err(SseError::TooLong { limit: self.limit });
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    fn end_line(&mut self, out: &mut VecDeque<SseEvent>) -> Result<(), SseError> {
        let bytes = std::mem::take(&mut self.line);
        let mut line = match std::str::from_utf8(&bytes) {
            Ok(line) => line,
            Err(_) => {
                let start = &bytes[..bytes.len().min(EXCERPT_BYTES)];
                return Err(SseError::InvalidUtf8 {
                    excerpt: String::from_utf8_lossy(start).into_owned(),
                });
            }
        };
        if std::mem::take(&mut self.at_start) {
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.data.len() + value.len() + 1 > self.limit {
                    return Err(SseError::TooLong { limit: self.limit });
                }
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => value.clone_into(&mut self.event),
            // `id`, `retry` and unknown fields: nothing Cairn uses.
            _ => {}
        }
        // Keep the line's allocation for the next one.
        self.line = bytes;
        self.line.clear();
        Ok(())
    }

    /// Ends the event being built (a blank line): pushes it if it had data.
    fn dispatch(&mut self, out: &mut VecDeque<SseEvent>) {
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop();
        out.push_back(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn event(name: &str, data: &str) -> SseEvent {
        SseEvent {
            event: name.to_owned(),
            data: data.to_owned(),
        }
    }

    fn parse_in_chunks(chunks: &[&[u8]]) -> Result<Vec<SseEvent>, SseError> {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.push(chunk, &mut out)?;
        }
        parser.finish(&mut out)?;
        Ok(out.into())
    }

    fn parse(input: &str) -> Vec<SseEvent> {
        parse_in_chunks(&[input.as_bytes()]).unwrap()
    }

    #[test]
    fn every_line_ending() {
        let expected = vec![event("message", "a"), event("message", "b")];
        assert_eq!(parse("data: a\n\ndata: b\n\n"), expected);
        assert_eq!(parse("data: a\r\n\r\ndata: b\r\n\r\n"), expected);
        assert_eq!(parse("data: a\r\rdata: b\r\r"), expected);
        assert_eq!(parse("data: a\r\n\rdata: b\n\r\n"), expected);
    }

    #[test]
    fn comments_names_ids_and_multi_line_data() {
        let input = "\u{feff}: keep-alive\nid: 7\nretry: 100\nevent: content_block_delta\n\
                     data: {\"a\":\ndata:1}\ndata\n\n:only a comment\n\nevent: ping\n\n\
                     data:no space\nunknown: x\n\n";
        assert_eq!(
            parse(input),
            vec![
                event("content_block_delta", "{\"a\":\n1}\n"),
                event("message", "no space"),
            ]
        );
    }

    #[test]
    fn the_end_of_the_body_ends_the_last_event() {
        assert_eq!(parse("data: [DONE]"), vec![event("message", "[DONE]")]);
        assert_eq!(parse("data: x\n"), vec![event("message", "x")]);
        assert_eq!(parse(""), vec![]);
    }

    /// Whatever the split, the events are the same: CR LF cut between its bytes, a
    /// multi-byte character cut in the middle, a name cut before its colon.
    #[test]
    fn split_anywhere_gives_the_same_events() {
        let input = "event: a\r\ndata: h\u{e9}llo \u{1f600}\r\ndata: two\r\n\r\n: c\r\
                     data: b\rdata: c\r\rdata: [DONE]\n\n"
            .as_bytes();
        let whole = parse_in_chunks(&[input]).unwrap();
        assert_eq!(
            whole,
            vec![
                event("a", "h\u{e9}llo \u{1f600}\ntwo"),
                event("message", "b\nc"),
                event("message", "[DONE]"),
            ]
        );
        for cut in 0..=input.len() {
            let (left, right) = input.split_at(cut);
            assert_eq!(
                parse_in_chunks(&[left, right]).unwrap(),
                whole,
                "cut at {cut}"
            );
        }
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        assert_eq!(parse_in_chunks(&bytes).unwrap(), whole);
    }

    #[test]
    fn a_line_over_the_limit_is_an_error() {
        let mut parser = SseParser::with_limit(16);
        let mut out = VecDeque::new();
        parser.push(b"data: 0123456789", &mut out).unwrap();
        assert_eq!(
            parser.push(b"abcdef", &mut out),
            Err(SseError::TooLong { limit: 16 })
        );
    }

    #[test]
    fn an_event_over_the_limit_is_an_error() {
        let mut parser = SseParser::with_limit(16);
        let mut out = VecDeque::new();
        assert_eq!(
            parser.push(b"data: 0123456\ndata: 0123456\ndata: 0", &mut out),
            Ok(())
        );
        assert_eq!(
            parser.push(b"\n", &mut out),
            Err(SseError::TooLong { limit: 16 })
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(
            parse_in_chunks(&[b"data: \xff\n\n"]),
            Err(SseError::InvalidUtf8 {
                excerpt: "data: \u{fffd}".to_owned()
            })
        );
    }

    #[test]
    fn one_long_line_in_many_chunks() {
        let data = "x".repeat(1_000_000);
        let input = format!("data: {data}\n\n");
        let chunks: Vec<&[u8]> = input.as_bytes().chunks(100).collect();
        assert_eq!(
            parse_in_chunks(&chunks).unwrap(),
            vec![event("message", &data)]
        );
    }
}
