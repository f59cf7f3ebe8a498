//! A tiny HTTP/1.1 server on 127.0.0.1 for testing providers against real sockets.
//!
//! It reads each request in full (headers and `Content-Length` body) and records it, then
//! answers with the next configured [`Reply`] (the last one repeats): status, headers and body
//! bytes exactly as given, chunked or delimited by closing the connection, optionally split
//! into small writes with a delay between them, optionally cut off mid-body. One request per
//! connection. While answering it watches the socket, so a test can tell when the client
//! hung up before the body was complete.

// Test scaffolding: a panic here is how a broken test setup reports itself.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// How the body is framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Transfer-Encoding: chunked`, one HTTP chunk per write.
    Chunked,
    /// No length; the body ends when the server closes the connection.
    Close,
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// Bytes per write; 0 writes the body at once.
    pub write_size: usize,
    /// Pause before each write after the first.
    pub write_delay: Duration,
    /// Send only this many body bytes, then drop the connection without ending the body.
    pub cut_after: Option<usize>,
}

impl Reply {
    pub fn sse(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            body: body.into(),
            framing: Framing::Chunked,
            write_size: 0,
            write_delay: Duration::ZERO,
            cut_after: None,
        }
    }

    pub fn status(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            ..Self::sse(body)
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn in_writes_of(mut self, size: usize, delay: Duration) -> Self {
        self.write_size = size;
        self.write_delay = delay;
        self
    }

    pub fn framing(mut self, framing: Framing) -> Self {
        self.framing = framing;
        self
    }

    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

#[derive(Default)]
struct Shared {
    replies: Vec<Reply>,
    requests: Vec<Recorded>,
    /// Answers the client abandoned before the body was complete.
    hang_ups: usize,
}

pub struct Server {
    pub addr: std::net::SocketAddr,
    shared: Arc<Mutex<Shared>>,
    hung_up: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(replies: Vec<Reply>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Mutex::new(Shared {
            replies,
            ..Shared::default()
        }));
        let hung_up = Arc::new(Notify::new());
        let task = {
            let shared = shared.clone();
            let hung_up = hung_up.clone();
            tokio::spawn(async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let shared = shared.clone();
                    let hung_up = hung_up.clone();
                    tokio::spawn(async move {
                        let _ = serve(socket, shared, hung_up).await;
                    });
                }
            })
        };
        Server {
            addr,
            shared,
            hung_up,
            task,
        }
    }

    /// `http://127.0.0.1:port`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().expect("lock").requests.clone()
    }

    pub fn hang_ups(&self) -> usize {
        self.shared.lock().expect("lock").hang_ups
    }

    /// Waits until the client has abandoned an answer; false if it did not within `limit`.
    pub async fn wait_for_hang_up(&self, limit: Duration) -> bool {
        let notified = self.hung_up.notified();
        if self.hang_ups() > 0 {
            return true;
        }
        tokio::time::timeout(limit, notified).await.is_ok() || self.hang_ups() > 0
    }
}

async fn serve(
    mut socket: TcpStream,
    shared: Arc<Mutex<Shared>>,
    hung_up: Arc<Notify>,
) -> std::io::Result<()> {
    let request = read_request(&mut socket).await?;
    let reply = {
        let mut shared = shared.lock().expect("lock");
        let index = shared
            .requests
            .len()
            .min(shared.replies.len().saturating_sub(1));
        shared.requests.push(request);
        shared.replies[index].clone()
    };

    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        reply.status,
        reason_phrase(reply.status)
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match reply.framing {
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::Close => {}
    }
    head.push_str("Connection: close\r\n\r\n");

    let (mut reader, mut writer) = socket.into_split();
    writer.write_all(head.as_bytes()).await?;

    let body = match reply.cut_after {
        Some(cut) => &reply.body[..cut.min(reply.body.len())],
        None => &reply.body[..],
    };
    let size = if reply.write_size == 0 {
        body.len().max(1)
    } else {
        reply.write_size
    };

    // Watch for the client closing its end while we write.
    let watcher = tokio::spawn(async move {
        let mut buf = [0u8; 256];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });

    let mut result = Ok(());
    for (index, piece) in body.chunks(size).enumerate() {
        if index > 0 && !reply.write_delay.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(reply.write_delay) => {}
                _ = wait_finished(&watcher) => {
                    result = Err(std::io::ErrorKind::ConnectionAborted.into());
                    break;
                }
            }
        }
        let written = match reply.framing {
            Framing::Chunked => {
                let mut frame = format!("{:x}\r\n", piece.len()).into_bytes();
                frame.extend_from_slice(piece);
                frame.extend_from_slice(b"\r\n");
                writer.write_all(&frame).await
            }
            Framing::Close => writer.write_all(piece).await,
        };
        if let Err(err) = written {
            result = Err(err);
            break;
        }
        let _ = writer.flush().await;
    }
    if result.is_err() {
        shared.lock().expect("lock").hang_ups += 1;
        hung_up.notify_waiters();
        watcher.abort();
        return Ok(());
    }
    if reply.cut_after.is_some() {
        // Drop without the final chunk: the client sees the connection die mid-body.
        watcher.abort();
        return Ok(());
    }
    if reply.framing == Framing::Chunked {
        writer.write_all(b"0\r\n\r\n").await?;
    }
    writer.shutdown().await?;
    watcher.abort();
    Ok(())
}

/// Resolves when the watcher task has seen the client hang up.
async fn wait_finished(watcher: &tokio::task::JoinHandle<()>) {
    while !watcher.is_finished() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn read_request(socket: &mut TcpStream) -> std::io::Result<Recorded> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        let read = socket.read(&mut buf).await?;
        if read == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..read]);
        if let Some(pos) = data.windows(4).position(|window| window == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = data[header_end..].to_vec();
    while body.len() < length {
        let read = socket.read(&mut buf).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&buf[..read]);
    }
    Ok(Recorded {
        method,
        path,
        headers,
        body,
    })
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}
