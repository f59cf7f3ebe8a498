//! A hostile provider, end to end: the real `cairn run` against a server on 127.0.0.1 whose
//! error bodies carry escape sequences (a window title, a clear screen, an OSC 52 clipboard
//! write). Nothing of them may reach the terminal as a control sequence, and `--json` stays
//! valid JSON.

// Helpers outside `#[test]` functions panic on purpose: a failed step fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Output, Stdio};

use cairn_tests::TestEnv;

const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07gone";
const SHOWN: &str = "␛]0;pwned␇␛[2J␛]52;c;ZXZpbA==␇gone";

/// A server on 127.0.0.1 that answers each of `count` requests with `status` and `body`.
fn serve_times(
    count: usize,
    status: &'static str,
    content_type: &'static str,
    body: String,
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for _ in 0..count {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).unwrap();
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(body.as_bytes()).unwrap();
        }
    });
    base_url
}

fn run_against(base_url: &str, args: &[&str]) -> Output {
    let env = TestEnv::new();
    env.write_config(&format!(
        "[provider]\nkind = \"openai\"\nmodel = \"gpt-test\"\nbase_url = \"{base_url}\"\n\
         api_key_env = \"CAIRN_TEST_KEY\"\nmax_retries = 0\n"
    ));
    env.command()
        .args(args)
        .env_remove("CAIRN_PROVIDER")
        .env("CAIRN_TEST_KEY", "sk-test")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn assert_no_control_bytes(what: &str, bytes: &[u8]) {
    assert!(
        !bytes.iter().any(|&byte| byte == 0x1b || byte == 0x07),
        "{what} carries a control sequence: {:?}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn a_hostile_error_body_is_printed_neutralised() {
    let base_url = serve_times(
        1,
        "500 Internal Server Error",
        "text/html",
        HOSTILE.to_owned(),
    );
    let output = run_against(&base_url, &["run", "hello"]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_control_bytes("stderr", &output.stderr);
    assert_no_control_bytes("stdout", &output.stdout);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains(&format!(
            "error: the provider answered 500 after 1 attempts: {SHOWN}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_hostile_json_error_keeps_json_output_valid_and_harmless() {
    let body = serde_json::json!({
        "error": { "message": HOSTILE, "type": "invalid_request_error" }
    })
    .to_string();
    let base_url = serve_times(1, "400 Bad Request", "application/json", body);
    let output = run_against(&base_url, &["run", "--json", "hello"]);
    assert_eq!(output.status.code(), Some(1));
    assert_no_control_bytes("stderr", &output.stderr);
    assert_no_control_bytes("stdout", &output.stdout);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let error = lines
        .iter()
        .find(|line| line["type"] == "error")
        .unwrap_or_else(|| panic!("no error line in {stdout}"));
    assert_eq!(
        error["message"],
        format!("the provider rejected the request (400): {SHOWN}")
    );
}
