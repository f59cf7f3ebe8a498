//! Rendering benchmarks on a long session (see BENCHMARKS.md for the figures and budgets):
//! - opening a 10,000-message session to its first frame at 120x40 (budget 100 ms);
//! - drawing one frame (budget 2 ms);
//! - a keystroke (handle + frame) at 100 and at 10,000 messages: must not grow with length;
//! - streaming: one delta + one frame, and one 60 fps frame's worth of deltas at 5,000
//!   deltas a second (84 deltas) + the frame, which must leave most of the 16 ms budget free.

// Benchmarks are test code: a failed set-up should stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;

use cairn_core::{
    Event, EventId, EventKind, InvocationId, ModelRequest, ProviderInfo, SessionId, StreamEvent,
    TokenUsage,
};
use cairn_tui::{App, AppEvent, AppInit, Origin, SessionView};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
const NOW_MS: i64 = 1_800_000_000_000;

fn generated_events(messages: usize) -> Vec<Event> {
    let session_id = SessionId::new();
    let invocation_id = InvocationId::new();
    let mut parent = None;
    (0..messages)
        .map(|index| {
            let kind = if index % 2 == 0 {
                EventKind::UserMessage {
                    text: format!("Question {index}: how do I make this faster without breaking it?"),
                }
            } else {
                EventKind::AssistantMessage {
                    text: format!(
                        "## Answer {index}\n\nMeasure first, then change **one** thing at a time. \
                         Keep `criterion` baselines and compare.\n\n- profile\n- fix the hot path\n\
                         - measure again\n\n```rust\nfn main() {{ println!(\"{index}\"); }}\n```\n\n\
                         That is the whole loop; repeat it until the numbers are good enough."
                    ),
                    usage: Some(TokenUsage {
                        input_tokens: 1000,
                        output_tokens: 80,
                    }),
                    interrupted: false,
                    model: Some("bench".into()),
                }
            };
            let id = EventId::new();
            let event = Event {
                id,
                session_id,
                parent_id: parent,
                invocation_id,
                created_at_ms: NOW_MS - 1000,
                kind,
            };
            parent = Some(id);
            event
        })
        .collect()
}

fn open(events: Vec<Event>) -> App {
    App::new(AppInit {
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
        origin: Origin::Resumed,
        provider: ProviderInfo {
            kind: "echo".into(),
            model: "echo".into(),
            offline: true,
        },
        model: "echo".into(),
        events,
        notes: vec!["Continuing previous session".into()],
        history: Vec::new(),
        now_ms: NOW_MS,
        size: (WIDTH, HEIGHT),
        loading_rest: false,
        store: None,
        title_model: None,
        tools: None,
    })
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap()
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
}

fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn streaming_app(messages: usize) -> App {
    let mut app = open(generated_events(messages));
    for c in "stream please".chars() {
        app.handle(key(KeyCode::Char(c)));
    }
    app.handle(key(KeyCode::Enter));
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

/// The n-th delta of a long answer: words, with a paragraph break every 40 deltas.
fn delta(n: u64) -> AppEvent {
    let text = if n % 40 == 39 {
        "end.\n\n".to_owned()
    } else {
        format!("word{} ", n % 7)
    };
    AppEvent::Stream {
        turn: 1,
        event: StreamEvent::TextDelta(text),
    }
}

fn benches(c: &mut Criterion) {
    let events = generated_events(10_000);

    let mut group = c.benchmark_group("open");
    group.sample_size(20);
    group.bench_function("10k_messages_to_first_frame_120x40", |b| {
        b.iter_batched(
            || (events.clone(), terminal()),
            |(events, mut terminal)| {
                let app = open(events);
                draw(&mut terminal, &app);
                black_box(app)
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.finish();

    let app = open(events.clone());
    let mut screen = terminal();
    draw(&mut screen, &app);
    c.bench_function("frame/10k_messages_120x40", |b| {
        b.iter(|| draw(&mut screen, &app));
    });

    let mut group = c.benchmark_group("keystroke_type_and_delete_plus_frames");
    for messages in [100, 10_000] {
        let mut app = open(generated_events(messages));
        let mut screen = terminal();
        draw(&mut screen, &app);
        group.bench_with_input(BenchmarkId::from_parameter(messages), &messages, |b, _| {
            b.iter(|| {
                app.handle(key(KeyCode::Char('a')));
                draw(&mut screen, &app);
                app.handle(key(KeyCode::Backspace));
                draw(&mut screen, &app);
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("streaming_10k_messages");
    let mut app = streaming_app(10_000);
    let mut screen = terminal();
    let mut n = 0u64;
    group.bench_function("one_delta_plus_frame", |b| {
        b.iter(|| {
            app.handle(delta(n));
            n += 1;
            draw(&mut screen, &app);
        });
    });
    let mut app = streaming_app(10_000);
    let mut n = 0u64;
    group.bench_function("84_deltas_plus_frame_(5000_per_s_at_60fps)", |b| {
        b.iter(|| {
            for _ in 0..84 {
                app.handle(delta(n));
                n += 1;
            }
            draw(&mut screen, &app);
        });
    });
    group.bench_function("keystroke_plus_frame_while_streaming", |b| {
        b.iter(|| {
            app.handle(key(KeyCode::Char('a')));
            draw(&mut screen, &app);
            app.handle(key(KeyCode::Backspace));
            draw(&mut screen, &app);
        });
    });
    group.finish();
}

criterion_group!(render, benches);
criterion_main!(render);
