//! The HTTP side shared by both dialects: sending with retries, SSE framing, timeouts, and
//! turning HTTP failures into [`ProviderError`]s.
//!
//! Invariants:
//! - Everything after the first attempt happens inside the returned stream, which is polled
//!   by the caller: dropping the stream drops the response body and closes the connection at
//!   once, wherever it was (sending, backing off, or reading).
//! - Retries are items: each one yields [`StreamEvent::Retrying`] before its backoff sleep,
//!   with `attempt` the retry's number (1-based) and `max_attempts` the retry limit
//!   (`max_retries`), so a front end can show "retrying in 2s (429 rate limited) 1/4".
//!   `stream()` performs the first attempt itself, so errors that will never succeed (auth,
//!   bad request, connection refused, connect timeout) come back from `stream()`; errors
//!   after retries come through the stream.
//! - Only 429, 5xx, 529 and an `overloaded_error` body are retried, at most
//!   `max_retries` times, never once the answer has started.
//! - A stream ends with exactly one terminal item: `Finished`, or an `Err`.
//! - Nothing here panics on what a server sends: numbers in headers are read through
//!   [`crate::server_numbers`], the body is framed by [`crate::sse`] (linear, and bounded to
//!   [`crate::sse::MAX_EVENT_BYTES`] per line and event), and every text a server sent goes
//!   through [`ProviderSettings::scrub`] (no API key, no control characters) before it is
//!   put into an error.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Once;
use std::time::Duration;

use bytes::Bytes;
use cairn_core::provider::{ModelStream, ProviderError, StreamEvent};
use futures::{Stream, StreamExt};
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};

use crate::server_numbers::seconds_from_server;
use crate::settings::{ProviderSettings, shorten};
use crate::sse::{SseError, SseEvent, SseParser};

mod failure;

use failure::{classify_failure, error_chain};
pub(crate) use failure::{dropped_before_end, error_from_value, malformed, send_error};

/// Longest excerpt of a server's text put into an error.
pub(crate) const EXCERPT_CHARS: usize = 120;
/// Longest error body read from a failed response.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

pub(crate) type Item = Result<StreamEvent, ProviderError>;

/// What a dialect does with the events of one answer.
pub(crate) trait DialectParser: Send + 'static {
    /// Handles one SSE event, pushing what it yields. Returns `true` when the answer is
    /// complete (the stream then ends after the pushed items).
    fn on_event(&mut self, event: &SseEvent, attempts: u32, out: &mut VecDeque<Item>) -> bool;

    /// The body ended without the dialect's end marker. Pushes `Finished` when the answer is
    /// nonetheless complete (a finish reason arrived), else a `StreamDropped` error.
    fn on_eof(&mut self, out: &mut VecDeque<Item>);
}

/// Builds the HTTP client. rustls with the ring provider, installed once as the process
/// default because reqwest's `*-no-provider` features expect one.
/// The headers every streaming request sends, plus the API key (if any) under `key_header`
/// as `key_prefix` + key, marked sensitive so it is never logged by the HTTP stack.
pub(crate) fn stream_headers(
    settings: &ProviderSettings,
    key_header: reqwest::header::HeaderName,
    key_prefix: &str,
) -> Result<HeaderMap, ProviderError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if let Some(key) = &settings.api_key {
        let mut value =
            HeaderValue::from_str(&format!("{key_prefix}{}", key.expose())).map_err(|_| {
                ProviderError::Config(format!(
                    "the API key in {} contains characters not allowed in a header",
                    settings.api_key_env
                ))
            })?;
        value.set_sensitive(true);
        headers.insert(key_header, value);
    }
    Ok(headers)
}

pub(crate) fn build_client(settings: &ProviderSettings) -> Result<reqwest::Client, ProviderError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(settings.connect_timeout)
        .build()
        .map_err(|err| ProviderError::Config(format!("cannot build the HTTP client: {err}")))
}

fn install_crypto_provider() {
    static INSTALL_RING: Once = Once::new();
    INSTALL_RING.call_once(|| {
        // Err means another provider is already the default, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A client for quick probes: everything, connect to last byte, within `timeout`.
pub(crate) fn probe_client(timeout: Duration) -> Option<reqwest::Client> {
    install_crypto_provider();
    reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(timeout)
        .build()
        .ok()
}

/// One request, ready to be sent as many times as retries need.
pub(crate) struct Exchange {
    pub client: reqwest::Client,
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub settings: ProviderSettings,
}

type BodyStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send + 'static>>;

/// A response body framed as server-sent events.
struct SseReader {
    body: BodyStream,
    parser: SseParser,
    ready: VecDeque<SseEvent>,
    body_ended: bool,
}

/// Why the next event could not be read.
enum ReadError {
    Transport(reqwest::Error),
    Framing(SseError),
}

impl SseReader {
    fn new(response: reqwest::Response) -> Self {
        Self {
            body: Box::pin(response.bytes_stream()),
            parser: SseParser::default(),
            ready: VecDeque::new(),
            body_ended: false,
        }
    }

    /// The next event; `None` once the body has ended and every event was taken. Cancel
    /// safe (the idle timeout drops it between chunks): state lives in `self`.
    async fn next(&mut self) -> Option<Result<SseEvent, ReadError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if self.body_ended {
                return None;
            }
            let framed = match self.body.next().await {
                Some(Ok(bytes)) => self.parser.push(&bytes, &mut self.ready),
                Some(Err(err)) => {
                    self.body_ended = true;
                    return Some(Err(ReadError::Transport(err)));
                }
                None => {
                    // A clean end of body also ends the last event, which some servers leave
                    // without its blank line (five of the Anthropic SDK's own fixtures do).
                    self.body_ended = true;
                    self.parser.finish(&mut self.ready)
                }
            };
            if let Err(err) = framed {
                self.body_ended = true;
                self.ready.clear();
                return Some(Err(ReadError::Framing(err)));
            }
        }
    }
}

enum Phase {
    Send,
    Backoff(Duration),
    Streaming(SseReader),
    Done,
}

/// The state behind a [`ModelStream`].
pub(crate) struct Driver<P> {
    exchange: Exchange,
    parser: P,
    phase: Phase,
    pending: VecDeque<Item>,
    /// Requests sent so far.
    attempts: u32,
}

/// What came of one attempt.
enum Attempt {
    Streaming(SseReader),
    Retry { delay: Duration, reason: String },
    Fail(ProviderError),
}

impl<P: DialectParser> Driver<P> {
    /// Sends the first attempt and returns the stream, or the error if it can never succeed.
    pub(crate) async fn start(exchange: Exchange, parser: P) -> Result<ModelStream, ProviderError> {
        let mut driver = Driver {
            exchange,
            parser,
            phase: Phase::Send,
            pending: VecDeque::new(),
            attempts: 0,
        };
        match driver.attempt().await {
            Attempt::Streaming(sse) => driver.phase = Phase::Streaming(sse),
            Attempt::Retry { delay, reason } => driver.schedule_retry(delay, reason),
            Attempt::Fail(err) => return Err(err),
        }
        Ok(Box::pin(futures::stream::unfold(
            driver,
            |mut driver| async move { driver.next_item().await.map(|item| (item, driver)) },
        )))
    }

    fn schedule_retry(&mut self, delay: Duration, reason: String) {
        self.pending.push_back(Ok(StreamEvent::Retrying {
            attempt: self.attempts,
            max_attempts: self.exchange.settings.retry.max_retries,
            delay,
            reason,
        }));
        self.phase = Phase::Backoff(delay);
    }

    async fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return None,
                Phase::Backoff(delay) => {
                    tokio::time::sleep(delay).await;
                    self.phase = Phase::Send;
                }
                Phase::Send => match self.attempt().await {
                    Attempt::Streaming(sse) => self.phase = Phase::Streaming(sse),
                    Attempt::Retry { delay, reason } => self.schedule_retry(delay, reason),
                    Attempt::Fail(err) => return Some(Err(err)),
                },
                Phase::Streaming(mut sse) => {
                    let idle = self.exchange.settings.idle_timeout;
                    match tokio::time::timeout(idle, sse.next()).await {
                        Err(_) => {
                            return Some(Err(ProviderError::Timeout {
                                what: "waiting for the next part of the answer".into(),
                                seconds: idle.as_secs(),
                            }));
                        }
                        Ok(None) => self.parser.on_eof(&mut self.pending),
                        Ok(Some(Err(err))) => return Some(Err(self.sse_error(err))),
                        Ok(Some(Ok(event))) => {
                            if !self
                                .parser
                                .on_event(&event, self.attempts, &mut self.pending)
                            {
                                self.phase = Phase::Streaming(sse);
                            }
                        }
                    }
                }
            }
        }
    }

    fn sse_error(&self, err: ReadError) -> ProviderError {
        let settings = &self.exchange.settings;
        match err {
            ReadError::Transport(err) => ProviderError::StreamDropped {
                reason: settings.scrub(&format!("the connection broke: {}", error_chain(&err))),
            },
            ReadError::Framing(SseError::InvalidUtf8 { excerpt }) => ProviderError::Malformed {
                reason: "invalid UTF-8".into(),
                excerpt: settings.scrub(&shorten(&excerpt, EXCERPT_CHARS)),
            },
            ReadError::Framing(err @ SseError::TooLong { .. }) => ProviderError::Malformed {
                reason: err.to_string(),
                excerpt: "(not shown)".into(),
            },
        }
    }

    /// Sends the request once and sorts out what came back.
    async fn attempt(&mut self) -> Attempt {
        self.attempts += 1;
        let exchange = &self.exchange;
        let settings = &exchange.settings;
        let request = exchange
            .client
            .post(&exchange.url)
            .headers(exchange.headers.clone())
            .body(exchange.body.clone());
        let response =
            match tokio::time::timeout(settings.idle_timeout + settings.connect_timeout, async {
                request.send().await
            })
            .await
            {
                Err(_) => {
                    return Attempt::Fail(ProviderError::Timeout {
                        what: format!("waiting for a response from {}", exchange.url),
                        seconds: (settings.idle_timeout + settings.connect_timeout).as_secs(),
                    });
                }
                Ok(Err(err)) => return Attempt::Fail(send_error(settings, &exchange.url, &err)),
                Ok(Ok(response)) => response,
            };

        let status = response.status();
        if status.is_success() {
            if is_json(response.headers()) {
                // A server that ignored `stream: true`: say so instead of parsing nothing.
                let body = read_body(response).await;
                return Attempt::Fail(ProviderError::Malformed {
                    reason: "expected an event stream, got a JSON body".into(),
                    excerpt: settings.scrub(&shorten(&body, EXCERPT_CHARS)),
                });
            }
            return Attempt::Streaming(SseReader::new(response));
        }

        let retry_after = retry_after(response.headers());
        let body = read_body(response).await;
        let failure = classify_failure(settings, status, &body);
        match failure.retry_reason {
            Some(reason) if self.attempts <= settings.retry.max_retries => {
                let delay = match retry_after {
                    Some(wanted) => wanted.min(settings.retry.max_retry_after),
                    None => backoff(settings, self.attempts),
                };
                tracing::warn!(status = status.as_u16(), ?delay, "retrying: {reason}");
                Attempt::Retry { delay, reason }
            }
            Some(_) | None => Attempt::Fail(failure.into_error(self.attempts)),
        }
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

async fn read_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    // Chunk by chunk so a huge or endless error body cannot eat memory.
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= MAX_ERROR_BODY_BYTES {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// `Retry-After` in seconds or as an HTTP date (OpenAI also sends `retry-after-ms`, which is
/// more precise). A value that is not a number of seconds at all (`NaN`, `-5`, `soon`) is
/// ignored and the usual backoff applies; a huge one is read as the longest delay a server
/// can ask for, and the caller caps it again at the retry policy's `max_retry_after`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let now_ms = cairn_core::Clock::now_ms(&cairn_core::SystemClock);
    let now = std::time::UNIX_EPOCH + Duration::from_millis(now_ms.max(0).unsigned_abs());
    retry_after_at(headers, now)
}

fn retry_after_at(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let text = |value: &HeaderValue| value.to_str().ok().map(str::trim).map(str::to_owned);
    if let Some(delay) = headers
        .get("retry-after-ms")
        .and_then(text)
        .and_then(|value| value.parse::<f64>().ok())
        .and_then(|ms| seconds_from_server(ms / 1000.0))
    {
        return Some(delay);
    }
    let value = headers.get(RETRY_AFTER).and_then(text)?;
    if let Ok(secs) = value.parse::<f64>() {
        return seconds_from_server(secs);
    }
    // A date already past means "now".
    let date = httpdate::parse_http_date(&value).ok()?;
    let delay = date.duration_since(now).unwrap_or(Duration::ZERO);
    Some(delay.min(crate::server_numbers::LONGEST_SERVER_DELAY))
}

/// Exponential backoff for retry number `retry` (1-based) with up to 25% jitter.
fn backoff(settings: &ProviderSettings, retry: u32) -> Duration {
    let policy = &settings.retry;
    let exponential = policy
        .base_delay
        .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
        .min(policy.max_delay);
    let jitter = rand::rng().random_range(0.0..0.25);
    exponential + exponential.mul_f64(jitter)
}

#[cfg(test)]
mod tests;
