//! The streaming path, bytes to deltas: an OpenAI-compatible stream of 5,000 one-token
//! chunks served by the loopback test server, parsed by the real provider.
//!
//! Criterion reports the time per 5,000-token answer and the tokens per second; the summary
//! printed at the end turns that into the share of one core needed to keep up with a model
//! producing 5,000 tokens per second. The server runs on the same single-threaded runtime,
//! so the figure includes serving the bytes too: it is an upper bound for the parsing.

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

const TOKENS: usize = 5_000;

/// Chunks shaped like OpenAI's own (ids, model, fingerprint, logprobs), one token each.
fn body() -> String {
    let mut body = String::new();
    for index in 0..TOKENS {
        body.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-ABfw3Cz2b5NE7UmBQpCUGUr9ZUbu0\",\"object\":\"chat.completion.chunk\",\
\"created\":1727346171,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_b40fb1c6fb\",\
\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" tok{index}\"}},\"logprobs\":null,\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    body.push_str(
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5000}}\n\n",
    );
    body.push_str("data: [DONE]\n\n");
    body
}

fn request() -> ModelRequest {
    ModelRequest {
        model: "bench".into(),
        system: String::new(),
        messages: vec![Message::text(Role::User, "go")],
        max_output_tokens: None,
        tools: Vec::new(),
    }
}

async fn stream_once(provider: &OpenAiProvider) -> usize {
    let mut stream = provider.stream(request()).await.unwrap();
    let mut deltas = 0;
    while let Some(item) = stream.next().await {
        if let Ok(StreamEvent::TextDelta(_)) = item {
            deltas += 1;
        }
    }
    deltas
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = body();
    let body_bytes = body.len();
    // 4 KiB writes, like a server flushing its buffer.
    let server = runtime.block_on(Server::start(vec![
        Reply::sse(body).in_writes_of(4096, Duration::ZERO),
    ]));
    let mut settings = ProviderSettings::new(ProviderKind::Openai);
    settings.base_url = format!("{}/v1", server.url());
    let provider = OpenAiProvider::new(settings).unwrap();
    assert_eq!(runtime.block_on(stream_once(&provider)), TOKENS);

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("openai_stream");
    group.throughput(Throughput::Elements(TOKENS as u64));
    group.bench_function("5000_tokens_over_loopback", |b| {
        b.iter(|| runtime.block_on(stream_once(&provider)));
    });
    group.finish();

    // A plain measurement for the summary: whole answers, wall time on one thread.
    let rounds = 20;
    let started = Instant::now();
    for _ in 0..rounds {
        runtime.block_on(stream_once(&provider));
    }
    let per_answer = started.elapsed() / rounds;
    let per_token = per_answer.as_secs_f64() / TOKENS as f64;
    println!(
        "summary: {TOKENS} tokens ({body_bytes} bytes) in {per_answer:?} per answer; \
         {:.0} tokens/s; {:.1}% of one core for 5,000 tokens/s",
        1.0 / per_token,
        per_token * 5000.0 * 100.0
    );
    criterion.final_summary();
}
