//! Text-format logs as the binary writes them: what a client sends (a request
//! id, a path) cannot add a field or a line of its own.

use crate::support::Site;
use std::io::{Read, Write};
use std::net::TcpStream;

/// A line split at the spaces outside double quotes, as a logfmt reader
/// splits it (`\"` inside quotes does not end them).
fn logfmt_words(line: &str) -> Vec<String> {
    let (mut words, mut word) = (Vec::new(), String::new());
    let (mut quoted, mut escaped) = (false, false);
    for c in line.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Sends raw bytes (reqwest would percent-encode the path) and returns the
/// response head.
fn raw_get(base: &str, path: &[u8], request_id: &[u8]) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(path);
    request.extend_from_slice(b" HTTP/1.1\r\nHost: spool\r\nConnection: close\r\nX-Request-Id: ");
    request.extend_from_slice(request_id);
    request.extend_from_slice(b"\r\n\r\n");
    stream.write_all(&request).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let response = String::from_utf8_lossy(&response).into_owned();
    response
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_paths_and_request_ids_cannot_forge_log_fields() {
    let site = Site::new().await;
    let mut command = site.spool();
    command
        .env("SPOOL_LOG_FORMAT", "text")
        .env("SPOOL_ADMIN_EMAIL", crate::support::ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", crate::support::ADMIN_PASSWORD);
    let server = crate::support::Server::start(command);

    let head = raw_get(
        &server.base,
        "/nope/\"x\"}:status=500/caf\u{e9}".as_bytes(),
        b"abc status=500 path=/admin",
    );
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let kept = raw_get(&server.base, b"/nope", b"client-id.7");
    assert!(
        kept.to_ascii_lowercase()
            .contains("x-request-id: client-id.7"),
        "{kept}"
    );

    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    let requests: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("finished processing request"))
        .collect();
    assert_eq!(requests.len(), 2, "{stderr}");
    for line in &stderr.lines().collect::<Vec<_>>() {
        let words = logfmt_words(line);
        assert!(
            !words.iter().any(|w| w.starts_with("status=500")),
            "a forged field: {line}"
        );
        assert!(
            !words.iter().any(|w| w.starts_with("path=/admin")),
            "a forged field: {line}"
        );
    }
    assert!(requests[0].contains("status=404"), "{}", requests[0]);
    assert!(
        requests[0].contains(r#"path="/nope/\"x\"}:status=500/caf\u{e9}""#),
        "{}",
        requests[0]
    );
    assert!(
        !requests[0].contains("abc"),
        "an unacceptable request id was logged: {}",
        requests[0]
    );
    assert!(
        requests[1].contains("request_id=client-id.7 "),
        "{}",
        requests[1]
    );
}
