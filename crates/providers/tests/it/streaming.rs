//! Replies arriving whole, and what the requests look like on the wire.

use crate::support::{both_protocols, provider, request, run};
use serde_json::json;
use spool_core::provider::{FinishReason, Usage};
use spool_providers::build;
use spool_providers::testing::{Protocol, Script, ScriptedUpstream};
use std::time::Duration;

both_protocols!(chunks_reassemble_with_usage_and_finish);
async fn chunks_reassemble_with_usage_and_finish(protocol: Protocol) {
    let usage = Usage {
        input_tokens: 12,
        output_tokens: 4,
    };
    let upstream = ScriptedUpstream::start([Script::reply(["Hel", "lo", " wor", "ld"])
        .with_delay(Duration::from_millis(20))
        .with_usage(Some(usage))])
    .await;
    let outcome = run(&*provider(protocol, &upstream, ""), request("Hi")).await;
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.deltas, ["Hel", "lo", " wor", "ld"]);
    assert_eq!(outcome.text(), "Hello world");
    assert_eq!(outcome.usage, Some(usage));
    assert_eq!(outcome.finish, Some(FinishReason::Stop));
    assert_eq!(upstream.request_count(), 1);
}

both_protocols!(finish_reasons_map);
async fn finish_reasons_map(protocol: Protocol) {
    for reason in [FinishReason::Length, FinishReason::ContentFilter] {
        let upstream = ScriptedUpstream::start([Script::reply(["cut"]).with_finish(reason)]).await;
        let outcome = run(&*provider(protocol, &upstream, ""), request("Hi")).await;
        assert_eq!(outcome.finish, Some(reason));
        assert_eq!(outcome.text(), "cut");
    }
}

#[tokio::test]
async fn openai_requests_carry_the_conversation_and_the_key() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    run(&*provider(Protocol::OpenAi, &upstream, ""), request("Hi")).await;
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path_and_query, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(sent.body["model"], "scripted-model");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent.body["temperature"], 0.2);
    assert_eq!(
        sent.body["messages"],
        json!([
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Hi"},
        ])
    );
    assert!(sent.body.get("max_tokens").is_none());
}

#[tokio::test]
async fn anthropic_requests_put_the_system_prompt_on_top() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    run(
        &*provider(Protocol::Anthropic, &upstream, ""),
        request("Hi"),
    )
    .await;
    let sent = &upstream.requests()[0];
    assert_eq!(sent.path_and_query, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-test"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.body["system"], "You are terse.");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "Hi"}])
    );
    assert_eq!(sent.body["max_tokens"], 4096, "the configured default");
    assert_eq!(sent.body["stream"], true);
}

#[tokio::test]
async fn max_tokens_goes_where_the_config_says() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    let mut limited = request("Hi");
    limited.max_tokens = Some(50);
    run(&*provider(Protocol::OpenAi, &upstream, ""), limited.clone()).await;
    let reasoning = "max_tokens_field = \"max_completion_tokens\"";
    run(
        &*provider(Protocol::OpenAi, &upstream, reasoning),
        limited.clone(),
    )
    .await;
    run(&*provider(Protocol::Anthropic, &upstream, ""), limited).await;
    let sent = upstream.requests();
    assert_eq!(sent[0].body["max_tokens"], 50);
    assert_eq!(sent[1].body["max_completion_tokens"], 50);
    assert!(sent[1].body.get("max_tokens").is_none());
    assert_eq!(sent[2].body["max_tokens"], 50);
}

#[tokio::test]
async fn azure_style_endpoints_keep_their_query_and_key_header() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    let text = format!(
        r#"
        kind = "openai"
        name = "azure"
        base_url = "{}/openai/deployments/gpt-4o?api-version=2024-10-21"
        api_key = "azure-secret"
        api_key_header = "api-key"
        headers = {{ "x-tenant" = "spool" }}
        "#,
        upstream.url()
    );
    let provider = build(&toml::from_str(&text).unwrap()).unwrap();
    let outcome = run(&*provider, request("Hi")).await;
    assert_eq!(outcome.text(), "ok");
    let sent = &upstream.requests()[0];
    assert_eq!(
        sent.path_and_query,
        "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(sent.header("api-key"), Some("azure-secret"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("x-tenant"), Some("spool"));
}

#[tokio::test]
async fn local_servers_need_no_key_and_may_skip_usage() {
    let upstream = ScriptedUpstream::start([Script::reply(["ok"])]).await;
    let text = format!(
        "kind = \"openai\"\nname = \"ollama\"\nbase_url = \"{}\"\nstream_usage = false\n",
        upstream.openai_base_url()
    );
    let provider = build(&toml::from_str(&text).unwrap()).unwrap();
    let outcome = run(&*provider, request("Hi")).await;
    assert_eq!(outcome.text(), "ok");
    assert_eq!(outcome.usage, None, "usage only when asked for");
    assert_eq!(outcome.finish, Some(FinishReason::Stop));
    let sent = &upstream.requests()[0];
    assert_eq!(sent.header("authorization"), None);
    assert!(sent.body.get("stream_options").is_none());
}
