use super::failure::error_from_body;
use super::*;
use cairn_core::config::ProviderKind;
use pretty_assertions::assert_eq;
use reqwest::StatusCode;

#[test]
fn error_bodies_of_every_shape() {
    assert_eq!(
        error_from_body(r#"{"error":{"code":400,"message":"bad","type":"invalid_request_error"}}"#),
        Some(("invalid_request_error".into(), "bad".into()))
    );
    assert_eq!(
        error_from_body(r#"{"error":{"code":"rate_limit_exceeded","message":"slow"}}"#),
        Some(("rate_limit_exceeded".into(), "slow".into()))
    );
    assert_eq!(
        error_from_body(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
        ),
        Some(("overloaded_error".into(), "Overloaded".into()))
    );
    assert_eq!(error_from_body("Internal Server Error"), None);
}

#[test]
fn servers_refusing_tools_are_recognised_from_their_real_answers() {
    let settings = ProviderSettings::new(ProviderKind::Openai);
    let error = |status: u16, body: &str| {
        let status = StatusCode::from_u16(status).unwrap();
        classify_failure(&settings, status, body).into_error(1)
    };
    for (status, body) in [
        // Ollama's /v1 for a model without a tool template.
        (
            400,
            r#"{"error":{"message":"registry.ollama.ai/library/gemma:2b does not support tools","type":"api_error","param":null,"code":null}}"#,
        ),
        // llama.cpp's server started without --jinja: a 500, not worth retrying.
        (
            500,
            r#"{"error":{"code":500,"message":"tools param requires --jinja flag","type":"server_error"}}"#,
        ),
        // vLLM without a tool parser.
        (
            400,
            r#"{"object":"error","message":""auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}"#,
        ),
        // OpenAI reasoning models of the first generation.
        (
            400,
            r#"{"error":{"message":"tools is not supported with this model.","type":"invalid_request_error","param":"tools","code":"unsupported_parameter"}}"#,
        ),
    ] {
        let err = error(status, body);
        assert!(
            matches!(err, ProviderError::BadRequest { .. }),
            "{status} {body}: {err:?}"
        );
        assert!(err.rejects_tools(), "{body}");
    }
    for (status, body) in [
        (
            400,
            r#"{"error":{"message":"messages: too long","type":"invalid_request_error"}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"Invalid 'messages[2].tool_call_id': not found","type":"invalid_request_error"}}"#,
        ),
        (500, r#"{"error":{"message":"boom","type":"server_error"}}"#),
    ] {
        assert!(!error(status, body).rejects_tools(), "{body}");
    }
}

#[test]
fn backoff_doubles_and_caps() {
    let mut settings = ProviderSettings::new(ProviderKind::Openai);
    settings.retry.base_delay = Duration::from_millis(100);
    settings.retry.max_delay = Duration::from_millis(300);
    for (retry, low) in [(1, 100), (2, 200), (3, 300), (9, 300)] {
        let delay = backoff(&settings, retry);
        let low = Duration::from_millis(low);
        assert!(
            delay >= low && delay <= low.mul_f64(1.25),
            "{retry}: {delay:?}"
        );
    }
}

#[test]
fn retry_after_seconds_and_milliseconds() {
    let mut headers = HeaderMap::new();
    headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
    assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
    headers.insert("retry-after-ms", HeaderValue::from_static("1500"));
    assert_eq!(retry_after(&headers), Some(Duration::from_millis(1500)));
    let mut date = HeaderMap::new();
    date.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let then = httpdate::parse_http_date("Wed, 21 Oct 2015 07:27:30 GMT").unwrap();
    assert_eq!(retry_after_at(&date, then), Some(Duration::from_secs(30)));
    assert_eq!(
        retry_after(&date),
        Some(Duration::ZERO),
        "a past date means now"
    );
    date.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
    assert_eq!(retry_after(&date), None);
}
