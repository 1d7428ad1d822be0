//! Upstream faults over real sockets: each ends in the documented error,
//! retries happen only before the first delta, and the upstream never sees
//! more than 1 + max_retries requests. Only outcomes are asserted here; when
//! a timeout fires and how long a retry waits are proven on a paused clock
//! in clock.rs.

use crate::support::{both_protocols, provider, request, run};
use spool_core::provider::{FinishReason, ProviderError, TimeoutKind};
use spool_providers::testing::{Protocol, Script, ScriptedUpstream};
use std::time::Duration;

/// A stall no test outlasts: only a timeout can end it.
const FOREVER: Duration = Duration::from_secs(3600);

both_protocols!(rate_limit_waits_for_retry_after_then_succeeds);
async fn rate_limit_waits_for_retry_after_then_succeeds(protocol: Protocol) {
    let upstream =
        ScriptedUpstream::start([Script::rate_limited(1), Script::reply(["after", " wait"])]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.text(), "after wait");
    // That the Retry-After is read off the wire shows in
    // retry_after_beyond_the_cap_fails_at_once; that it is waited out
    // exactly, in clock.rs (a_retry_waits_exactly_the_retry_after).
    assert_eq!(upstream.request_count(), 2);
}

both_protocols!(retry_after_beyond_the_cap_fails_at_once);
async fn retry_after_beyond_the_cap_fails_at_once(protocol: Protocol) {
    let upstream =
        ScriptedUpstream::start([Script::rate_limited(120), Script::reply(["never"])]).await;
    let extra = "max_retries = 2\nmax_retry_wait_secs = 5";
    let outcome = run(&*provider(protocol, &upstream, extra), request("Hi")).await;
    let Some(ProviderError::Status {
        status: 429,
        retry_after,
        message,
    }) = outcome.error
    else {
        panic!("expected a 429, got {outcome:?}");
    };
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
    assert_eq!(message, "scripted rate limit");
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(server_errors_are_retried_up_to_max_retries);
async fn server_errors_are_retried_up_to_max_retries(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::status(500)]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert!(
        matches!(&outcome.error, Some(ProviderError::Status { status: 500, message, .. }) if message == "scripted 500"),
        "{outcome:?}"
    );
    assert_eq!(upstream.request_count(), 3, "one attempt and two retries");
}

both_protocols!(a_server_error_then_success_is_a_success);
async fn a_server_error_then_success_is_a_success(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::status(503), Script::reply(["fine"])]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 1"),
        request("Hi"),
    )
    .await;
    assert_eq!(outcome.text(), "fine");
    assert_eq!(outcome.finish, Some(FinishReason::Stop));
    assert_eq!(upstream.request_count(), 2);
}

both_protocols!(client_errors_are_not_retried);
async fn client_errors_are_not_retried(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::status(400)]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert!(matches!(
        outcome.error,
        Some(ProviderError::Status { status: 400, .. })
    ));
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(stall_before_first_byte_times_out);
async fn stall_before_first_byte_times_out(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::stall_before_first_byte(FOREVER)]).await;
    let extra = "max_retries = 0\ntimeouts = { first_token_secs = 1 }";
    let outcome = run(&*provider(protocol, &upstream, extra), request("Hi")).await;
    assert_eq!(
        outcome.error,
        Some(ProviderError::Timeout(TimeoutKind::FirstToken))
    );
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(first_token_timeouts_are_retried_within_the_count);
async fn first_token_timeouts_are_retried_within_the_count(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::stall_before_first_byte(FOREVER)]).await;
    let extra = "max_retries = 1\ntimeouts = { first_token_secs = 0.5 }";
    let outcome = run(&*provider(protocol, &upstream, extra), request("Hi")).await;
    assert_eq!(
        outcome.error,
        Some(ProviderError::Timeout(TimeoutKind::FirstToken))
    );
    assert_eq!(upstream.request_count(), 2);
}

both_protocols!(stall_mid_stream_times_out_without_retry);
async fn stall_mid_stream_times_out_without_retry(protocol: Protocol) {
    let upstream =
        ScriptedUpstream::start([Script::stall_mid_stream(["Hel", "lo"], FOREVER)]).await;
    let extra = "max_retries = 2\ntimeouts = { between_chunks_secs = 1 }";
    let outcome = run(&*provider(protocol, &upstream, extra), request("Hi")).await;
    assert_eq!(outcome.deltas, ["Hel", "lo"]);
    assert_eq!(
        outcome.error,
        Some(ProviderError::Timeout(TimeoutKind::BetweenChunks))
    );
    assert_eq!(outcome.finish, None);
    assert_eq!(
        upstream.request_count(),
        1,
        "no retry once text was handed out"
    );
}

both_protocols!(dropped_connection_after_partial_deltas_is_disconnected);
async fn dropped_connection_after_partial_deltas_is_disconnected(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::drop_mid_stream(["Hel", "lo"])]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert_eq!(outcome.deltas, ["Hel", "lo"]);
    assert!(
        matches!(outcome.error, Some(ProviderError::Disconnected(_))),
        "{outcome:?}"
    );
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(dropped_connection_before_any_text_is_retried);
async fn dropped_connection_before_any_text_is_retried(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([
        Script::drop_mid_stream(Vec::<String>::new()),
        Script::reply(["again"]),
    ])
    .await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 1"),
        request("Hi"),
    )
    .await;
    assert_eq!(outcome.error, None);
    assert_eq!(
        outcome.text(),
        "again",
        "nothing of the failed attempt leaks"
    );
    assert_eq!(upstream.request_count(), 2);
}

both_protocols!(malformed_chunk_is_a_protocol_error);
async fn malformed_chunk_is_a_protocol_error(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::malformed_chunk(["Hel"])]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert_eq!(outcome.deltas, ["Hel"]);
    assert!(
        matches!(outcome.error, Some(ProviderError::Protocol(_))),
        "{outcome:?}"
    );
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(malformed_first_chunk_is_not_retried);
async fn malformed_first_chunk_is_not_retried(protocol: Protocol) {
    let upstream = ScriptedUpstream::start([Script::malformed_chunk(Vec::<String>::new())]).await;
    let outcome = run(
        &*provider(protocol, &upstream, "max_retries = 2"),
        request("Hi"),
    )
    .await;
    assert!(outcome.deltas.is_empty());
    assert!(
        matches!(outcome.error, Some(ProviderError::Protocol(_))),
        "{outcome:?}"
    );
    assert_eq!(
        upstream.request_count(),
        1,
        "garbage does not improve with retries"
    );
}

#[tokio::test]
async fn unreachable_upstream_is_a_connect_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = format!(
        "kind = \"openai\"\nname = \"gone\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nmax_retries = 1\n"
    );
    let provider = spool_providers::build(&toml::from_str(&text).unwrap()).unwrap();
    let outcome = run(&*provider, request("Hi")).await;
    assert!(
        matches!(outcome.error, Some(ProviderError::Connect(_))),
        "{outcome:?}"
    );
}
