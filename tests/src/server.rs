//! A scripted HTTP server on 127.0.0.1 standing in for a model provider: it answers each
//! request with the next reply of its script and keeps every request body it received, so a
//! test can check what Cairn sent as well as what it did with the answer.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// Send the body without a length and close the connection after it, like a server that
    /// dies mid-answer.
    pub cut: bool,
}

impl Reply {
    /// A complete server-sent-events answer.
    pub fn sse(body: Vec<u8>) -> Self {
        Self {
            status: "200 OK",
            content_type: "text/event-stream",
            body,
            cut: false,
        }
    }

    /// An OpenAI-compatible streamed answer whose text arrives in `deltas`.
    pub fn openai_text(deltas: &[&str]) -> Self {
        let mut body = String::new();
        for delta in deltas {
            let chunk = serde_json::json!({
                "id": "chatcmpl-test",
                "object": "chat.completion.chunk",
                "model": "gpt-test",
                "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": null}],
            });
            body.push_str(&format!("data: {chunk}\n\n"));
        }
        let last = serde_json::json!({
            "id": "chatcmpl-test",
            "object": "chat.completion.chunk",
            "model": "gpt-test",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        });
        body.push_str(&format!("data: {last}\n\ndata: [DONE]\n\n"));
        Self::sse(body.into_bytes())
    }

    /// The provider does not know the request (what an unscripted title request gets).
    pub fn not_found() -> Self {
        Self {
            status: "404 Not Found",
            content_type: "application/json",
            body: br#"{"error":{"message":"nothing scripted","type":"invalid_request_error"}}"#
                .to_vec(),
            cut: false,
        }
    }

    /// The first `keep` bytes of an event stream, then the connection drops.
    pub fn cut_sse(mut body: Vec<u8>, keep: usize) -> Self {
        body.truncate(keep);
        Self {
            cut: true,
            ..Self::sse(body)
        }
    }
}

/// A running scripted server. It stops accepting once its scripts are used up.
///
/// Requests that ask for a session's title (Cairn sends them beside the conversation, after
/// the first answer) are told apart by their instructions and answered from a script of
/// their own, so a conversation's script is never consumed by them; once the titles
/// scripted are used up they get a 404 (or, with the conversation's script used up too, no
/// connection), either of which leaves the first line as the title.
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT/v1`, for a provider's `base_url`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<String>>>,
    title_requests: Arc<Mutex<Vec<String>>>,
}

/// What only a title request holds: the start of its instructions.
const TITLE_REQUEST_MARK: &str = "You name conversations";

impl ScriptedServer {
    pub fn start(script: Vec<Reply>) -> Self {
        Self::start_with_titles(script, Vec::new())
    }

    /// A server answering the conversation from `script` and title requests from `titles`.
    pub fn start_with_titles(script: Vec<Reply>, titles: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base_url = format!(
            "http://{}/v1",
            listener.local_addr().expect("local address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let title_requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let titles_seen = Arc::clone(&title_requests);
        thread::spawn(move || {
            let mut script = std::collections::VecDeque::from(script);
            let mut titles = std::collections::VecDeque::from(titles);
            while !script.is_empty() || !titles.is_empty() {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let Some(body) = read_request(&stream) else {
                    continue;
                };
                if body.contains(TITLE_REQUEST_MARK) {
                    titles_seen.lock().expect("requests lock").push(body);
                    let reply = titles.pop_front().unwrap_or_else(Reply::not_found);
                    write_reply(stream, &reply);
                } else {
                    seen.lock().expect("requests lock").push(body);
                    // Past the end of its script, a conversation request is dropped.
                    if let Some(reply) = script.pop_front() {
                        write_reply(stream, &reply);
                    }
                }
            }
        });
        Self {
            base_url,
            requests,
            title_requests,
        }
    }

    /// A server that reads each request and never answers: a provider stuck before its
    /// first byte.
    pub fn start_silent() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base_url = format!(
            "http://{}/v1",
            listener.local_addr().expect("local address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming().take(8) {
                let Ok(stream) = stream else { return };
                if let Some(body) = read_request(&stream) {
                    seen.lock().expect("requests lock").push(body);
                }
                // Kept open, unanswered, until the test ends.
                held.push(stream);
            }
        });
        Self {
            base_url,
            requests,
            title_requests: Arc::default(),
        }
    }

    /// The bodies of the conversation's requests received so far, oldest first.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// The bodies of the title requests received so far, oldest first.
    pub fn title_requests(&self) -> Vec<String> {
        self.title_requests.lock().expect("requests lock").clone()
    }

    /// The config text that points an OpenAI-compatible provider at this server.
    pub fn openai_config(&self) -> String {
        format!(
            "[provider]\nkind = \"openai\"\nmodel = \"gpt-test\"\nbase_url = \"{}\"\napi_key_env = \"CAIRN_TEST_KEY\"\n",
            self.base_url
        )
    }
}

fn read_request(stream: &std::net::TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

fn write_reply(mut stream: std::net::TcpStream, reply: &Reply) {
    let length = if reply.cut {
        String::new()
    } else {
        format!("content-length: {}\r\n", reply.body.len())
    };
    let head = format!(
        "HTTP/1.1 {}\r\ncontent-type: {}\r\n{length}connection: close\r\n\r\n",
        reply.status, reply.content_type
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
