//! One very long answer line, streamed: 1 MB with no spaces (base64, minified JSON, a hash),
//! and 1 MB as one line of a Markdown code block. Each arrives as 100-byte deltas, 84 of
//! them per 16 ms frame (5,000 deltas a second), and every frame is drawn at 120x40.
//!
//! Budgets (see docs/benchmarks.md): the whole answer, deltas and frames, within 1 s of CPU;
//! a frame at the end within 2x of a frame at the start. Wrapping and drawing must be linear
//! in the text and the frame proportional to what is visible; a quadratic wrap never finished.

// Benchmarks are test code: a failed set-up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cairn_core::{ModelRequest, ProviderInfo, SessionId, StreamEvent};
use cairn_tui::{App, AppEvent, AppInit, Origin, SessionView};
use criterion::Criterion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
const ANSWER_BYTES: usize = 1_000_000;
const DELTA_BYTES: usize = 100;
const DELTAS_PER_FRAME: usize = 84;

fn streaming_app() -> App {
    let mut app = App::new(AppInit {
        session: SessionView {
            id: SessionId::new(),
            short_id: "01234567".into(),
            title: "bench".into(),
            directory: PathBuf::from("/tmp/bench"),
            display_directory: "/tmp/bench".into(),
            stored: true,
            model: None,
            branches: 1,
        },
        origin: Origin::New,
        provider: ProviderInfo {
            kind: "echo".into(),
            model: "echo".into(),
            offline: true,
        },
        model: "echo".into(),
        events: Vec::new(),
        notes: Vec::new(),
        history: Vec::new(),
        now_ms: 1_800_000_000_000,
        size: (WIDTH, HEIGHT),
        loading_rest: false,
        store: None,
        title_model: None,
        tools: None,
    });
    app.handle(AppEvent::Key(KeyEvent::new(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
    )));
    app.handle(AppEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: ModelRequest {
            model: "echo".into(),
            system: String::new(),
            messages: Vec::new(),
            max_output_tokens: None,
            tools: Vec::new(),
        },
    });
    app
}

/// The answer's deltas: `opening`, then base64-like text up to [`ANSWER_BYTES`].
fn deltas(opening: &str) -> Vec<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut text = opening.to_owned();
    let mut n = 0usize;
    while text.len() < ANSWER_BYTES {
        text.push(char::from(ALPHABET[(n * 7 + n / 64) % ALPHABET.len()]));
        n += 1;
    }
    text.as_bytes()
        .chunks(DELTA_BYTES)
        .map(|chunk| String::from_utf8(chunk.to_vec()).unwrap())
        .collect()
}

/// What streaming one answer cost.
struct Run {
    total: Duration,
    first_frame: Duration,
    last_frame: Duration,
}

fn stream(deltas: &[String]) -> Run {
    let mut app = streaming_app();
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let mut frames = Vec::new();
    let started = Instant::now();
    for batch in deltas.chunks(DELTAS_PER_FRAME) {
        for delta in batch {
            app.handle(AppEvent::Stream {
                turn: 1,
                event: StreamEvent::TextDelta(delta.clone()),
            });
        }
        let frame = Instant::now();
        terminal
            .draw(|frame| frame.render_widget(&app, frame.area()))
            .unwrap();
        frames.push(frame.elapsed());
    }
    let total = started.elapsed();
    // The median of the first and last ten frames, so one hiccup does not decide.
    let median = |frames: &[Duration]| {
        let mut frames = frames.to_vec();
        frames.sort();
        frames[frames.len() / 2]
    };
    Run {
        total,
        first_frame: median(&frames[..10]),
        last_frame: median(&frames[frames.len() - 10..]),
    }
}

fn main() {
    let cases = [
        ("no_spaces_1mb", deltas("")),
        ("code_line_1mb", deltas("```\n")),
    ];
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("long_answer_streamed_in_100_byte_deltas");
    group.sample_size(10);
    for (name, deltas) in &cases {
        group.bench_function(*name, |b| b.iter(|| stream(deltas)));
    }
    group.finish();

    for (name, deltas) in &cases {
        let runs: Vec<Run> = (0..3).map(|_| stream(deltas)).collect();
        let best = |pick: fn(&Run) -> Duration| runs.iter().map(pick).min().unwrap();
        let (total, first, last) = (
            best(|run| run.total),
            best(|run| run.first_frame),
            best(|run| run.last_frame),
        );
        println!(
            "summary: {name}: whole answer {total:?} (budget 1 s); frame at the start {first:?}, \
             at the end {last:?} ({:.2}x, budget 2x)",
            last.as_secs_f64() / first.as_secs_f64()
        );
    }
    criterion.final_summary();
}
