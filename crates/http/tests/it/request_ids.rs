//! A client's `X-Request-Id` is kept only when it is 1–64 characters of
//! `A–Z a–z 0–9 . _ : -`; anything else is replaced by a generated id, which
//! the response carries, so that no client text reaches the logs as an id.

use crate::TestServer;
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};

/// The `X-Request-Id` answered to a request that sent `sent`.
async fn answered(server: &TestServer, sent: &[HeaderValue]) -> String {
    let mut request = server.request(Method::GET, "/healthz");
    for value in sent {
        request = request.header("x-request-id", value.clone());
    }
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].to_str().expect("an ASCII request id").to_owned()
}

fn generated(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok()
}

#[tokio::test]
async fn unacceptable_request_ids_are_replaced_by_generated_ones() {
    let server = TestServer::start().await;
    let forged = HeaderValue::from_static("abc status=500 path=/admin");
    let non_ascii = HeaderValue::from_bytes("café-42".as_bytes()).unwrap();
    let quote = HeaderValue::from_static("a\"b");
    let long = HeaderValue::from_str(&"a".repeat(65)).unwrap();
    for sent in [forged, non_ascii, quote, long] {
        let id = answered(&server, std::slice::from_ref(&sent)).await;
        assert!(generated(&id), "{sent:?} answered {id}");
    }

    let twice = [
        HeaderValue::from_static("one"),
        HeaderValue::from_static("two"),
    ];
    assert!(generated(&answered(&server, &twice).await));
    assert!(generated(&answered(&server, &[]).await));
}

#[tokio::test]
async fn acceptable_request_ids_are_echoed() {
    let server = TestServer::start().await;
    let longest = format!("{}.:_-", "Az09".repeat(15));
    assert_eq!(longest.len(), 64);
    for sent in [
        "trace-me-42",
        "0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f",
        "x",
        &longest,
    ] {
        let id = answered(&server, &[HeaderValue::from_str(sent).unwrap()]).await;
        assert_eq!(id, sent);
    }
}
