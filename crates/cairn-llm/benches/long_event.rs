//! One enormous event: a 20 MB text delta in a single SSE line, served by the loopback test
//! server in 16 KiB writes and parsed by the real provider (budget: 1 s). Framing must be
//! linear in the bytes; a parser that re-scans its buffer per chunk takes about a minute.

// A benchmark harness: a panic is how a broken setup reports itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/loopback.rs"]
mod loopback;

use std::time::{Duration, Instant};

use cairn_core::config::ProviderKind;
use cairn_core::provider::{Message, ModelProvider, ModelRequest, Role, StreamEvent};
use cairn_llm::{OpenAiProvider, ProviderSettings};
use criterion::{Criterion, Throughput};
use futures::StreamExt;
use loopback::{Reply, Server};

const DELTA_BYTES: usize = 20 * 1000 * 1000;

fn body() -> String {
    let text = "x".repeat(DELTA_BYTES);
    format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":\"stop\"}}]}}\n\n\
         data: [DONE]\n\n"
    )
}

async fn stream_once(provider: &OpenAiProvider) -> usize {
    let request = ModelRequest {
        model: "bench".into(),
        system: String::new(),
        messages: vec![Message::text(Role::User, "go")],
        max_output_tokens: None,
        tools: Vec::new(),
    };
    let mut stream = provider.stream(request).await.unwrap();
    let mut bytes = 0;
    while let Some(item) = stream.next().await {
        if let StreamEvent::TextDelta(text) = item.unwrap() {
            bytes += text.len();
        }
    }
    bytes
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(Server::start(vec![
        Reply::sse(body()).in_writes_of(16 * 1024, Duration::ZERO),
    ]));
    let mut settings = ProviderSettings::new(ProviderKind::Openai);
    settings.base_url = format!("{}/v1", server.url());
    let provider = OpenAiProvider::new(settings).unwrap();
    assert_eq!(runtime.block_on(stream_once(&provider)), DELTA_BYTES);

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("sse");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(DELTA_BYTES as u64));
    group.bench_function("one_20_mb_event_over_loopback", |b| {
        b.iter(|| runtime.block_on(stream_once(&provider)));
    });
    group.finish();

    let rounds = 5;
    let started = Instant::now();
    for _ in 0..rounds {
        runtime.block_on(stream_once(&provider));
    }
    let per_event = started.elapsed() / rounds;
    println!("summary: one 20 MB event in {per_event:?} (budget 1 s)");
    criterion.final_summary();
}
