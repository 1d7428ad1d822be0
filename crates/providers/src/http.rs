//! Sending a request and turning what goes wrong into a `ProviderError`,
//! shared by the OpenAI-compatible and Anthropic providers.

use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, Response};
use spool_core::provider::{ProviderError, TimeoutKind};
use std::error::Error as _;
use std::time::{Duration, SystemTime};

/// How much of an error body we read to find the provider's message.
const ERROR_BODY_LIMIT: usize = 16 * 1024;

/// Sends the request; answers the response when its status is a success and
/// it looks like an event stream.
pub(crate) async fn send(request: RequestBuilder) -> Result<Response, ProviderError> {
    let response = request.send().await.map_err(transport_error)?;
    if !response.status().is_success() {
        return Err(status_error(response).await);
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        let body = read_bounded(response).await;
        return Err(ProviderError::Protocol(format!(
            "expected an event stream, got JSON: {}",
            error_message(&body).unwrap_or_else(|| truncate(&body, 300))
        )));
    }
    Ok(response)
}

/// A reqwest error as a `ProviderError`; the URL is left out, since a base
/// URL may carry a key in its query string.
pub(crate) fn transport_error(err: reqwest::Error) -> ProviderError {
    let err = err.without_url();
    if err.is_connect() && err.is_timeout() {
        ProviderError::Timeout(TimeoutKind::Connect)
    } else if err.is_connect() {
        ProviderError::Connect(describe(&err))
    } else {
        ProviderError::Disconnected(describe(&err))
    }
}

/// An error with its causes, which reqwest keeps out of its `Display`.
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn status_error(response: Response) -> ProviderError {
    let status = response.status();
    let retry_after = retry_after(response.headers(), SystemTime::now());
    let body = read_bounded(response).await;
    let message = error_message(&body)
        .or_else(|| (!body.trim().is_empty()).then(|| truncate(body.trim(), 300)))
        .unwrap_or_else(|| {
            status
                .canonical_reason()
                .unwrap_or("no reason given")
                .to_owned()
        });
    ProviderError::Status {
        status: status.as_u16(),
        retry_after,
        message,
    }
}

async fn read_bounded(response: Response) -> String {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(Ok(chunk)) = chunks.next().await {
        body.extend_from_slice(&chunk);
        if body.len() >= ERROR_BODY_LIMIT {
            body.truncate(ERROR_BODY_LIMIT);
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// `retry-after-ms` (Azure, OpenAI) or `Retry-After` in seconds or as an
/// HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(millis) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        return duration_from_secs(millis / 1000.0);
    }
    let value = header(RETRY_AFTER.as_str())?;
    if let Ok(secs) = value.parse::<f64>() {
        return duration_from_secs(secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn duration_from_secs(secs: f64) -> Option<Duration> {
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// The human-readable message in a provider's JSON error body:
/// `{"error": {"message": …}}` (OpenAI, Anthropic and most compatible
/// servers), `{"error": "…"}`, `{"message": …}` or `{"detail": …}`.
pub(crate) fn error_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let error = value.get("error");
    error
        .and_then(|e| e.get("message"))
        .and_then(text)
        .or_else(|| error.and_then(text))
        .or_else(|| value.get("message").and_then(text))
        .or_else(|| value.get("detail").and_then(text))
        .or_else(|| value.get("detail").map(|d| d.to_string()))
}

pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn retry_after_reads_seconds_dates_and_milliseconds() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let secs = headers(&[("retry-after", "7")]);
        assert_eq!(retry_after(&secs, now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        let date = headers(&[("retry-after", &date)]);
        assert_eq!(retry_after(&date, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)]), now),
            Some(Duration::ZERO)
        );
        let ms = headers(&[("retry-after-ms", "1500"), ("retry-after", "2")]);
        assert_eq!(retry_after(&ms, now), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn error_message_finds_the_common_shapes() {
        let openai = r#"{"error": {"message": "Rate limit reached", "type": "requests"}}"#;
        assert_eq!(error_message(openai).as_deref(), Some("Rate limit reached"));
        let anthropic =
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        assert_eq!(error_message(anthropic).as_deref(), Some("Overloaded"));
        assert_eq!(
            error_message(r#"{"error": "model not found"}"#).as_deref(),
            Some("model not found")
        );
        assert_eq!(
            error_message(r#"{"detail": "Not Found"}"#).as_deref(),
            Some("Not Found")
        );
        assert_eq!(error_message("<html>bad gateway</html>"), None);
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("héllo", 2), "hé…");
        assert_eq!(truncate("hi", 2), "hi");
    }
}
