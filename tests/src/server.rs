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

    /// The first `keep` bytes of an event stream, then the connection drops.
    pub fn cut_sse(mut body: Vec<u8>, keep: usize) -> Self {
        body.truncate(keep);
        Self {
            cut: true,
            ..Self::sse(body)
        }
    }
}

/// A running scripted server. It stops accepting once its script is used up.
pub struct ScriptedServer {
    /// `http://127.0.0.1:PORT/v1`, for a provider's `base_url`.
    pub base_url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let base_url = format!(
            "http://{}/v1",
            listener.local_addr().expect("local address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            for reply in script {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let Some(body) = read_request(&stream) else {
                    return;
                };
                seen.lock().expect("requests lock").push(body);
                write_reply(stream, &reply);
            }
        });
        Self { base_url, requests }
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
        Self { base_url, requests }
    }

    /// The bodies of the requests received so far, oldest first.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests lock").clone()
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
