//! What a model is given of attached files, asserted on the upstream side.

use crate::files::{PNG, pdf, thread, upload_one};
use crate::{TestServer, send};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use spool_providers::testing::{Script, ScriptedUpstream};

/// A scripted OpenAI-compatible provider with a vision model and one
/// without; `anthropic`: the same over the Messages API.
fn models(upstream: &ScriptedUpstream, anthropic: bool) -> Value {
    let provider = if anthropic {
        json!({ "kind": "anthropic", "name": "scripted", "base_url": upstream.url(), "api_key": "sk-test", "max_retries": 0 })
    } else {
        json!({ "kind": "openai", "name": "scripted", "base_url": upstream.openai_base_url(), "max_retries": 0 })
    };
    json!({
        "providers": [{ "kind": "echo", "name": "echo", "piece_delay_ms": 0 }, provider],
        "models": [
            { "name": "echo", "provider": "echo", "context_window": 128000 },
            { "name": "seeing", "provider": "scripted", "upstream_model": "gpt-vision", "context_window": 64000,
              "max_output_tokens": 64, "vision": true },
            { "name": "blind", "provider": "scripted", "upstream_model": "gpt-text", "context_window": 64000,
              "max_output_tokens": 64 }
        ]
    })
}

async fn run_with_files(anthropic: bool, model: &str) -> Value {
    let upstream = ScriptedUpstream::start([Script::reply(["Seen."])]).await;
    let server = TestServer::start_with_models(models(&upstream, anthropic)).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada).await;
    let image = upload_one(&server, &ada.token, "chart.png", PNG).await;
    let document = upload_one(
        &server,
        &ada.token,
        "q3.pdf",
        &pdf("Quarterly revenue rose"),
    )
    .await;
    let notes = upload_one(
        &server,
        &ada.token,
        "notes.csv",
        b"region,revenue\nnorth,12\n",
    )
    .await;
    let binary = upload_one(&server, &ada.token, "blob.bin", b"\x00\x01\x02").await;
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{thread}/run"),
        &ada.token,
        json!({
            "content": "What do these show?",
            "model": model,
            "files": [{ "key": image }, { "key": document, "name": "Q3 report.pdf" }, { "key": notes }, { "key": binary }],
        }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let requests = upstream.requests();
    assert_eq!(requests.len(), 1);
    let last = requests[0].body["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["role"], "user", "{last}");
    last
}

fn png_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(PNG)
}

/// Every text part of a message's content, joined.
fn text_of(message: &Value) -> String {
    match &message["content"] {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("content: {other}"),
    }
}

#[tokio::test]
async fn a_vision_model_receives_the_image_and_the_pdfs_text() {
    let message = run_with_files(false, "seeing").await;
    let parts = message["content"].as_array().expect("content parts");
    let images: Vec<&Value> = parts.iter().filter(|p| p["type"] == "image_url").collect();
    assert_eq!(images.len(), 1, "{message}");
    assert_eq!(
        images[0]["image_url"]["url"],
        format!("data:image/png;base64,{}", png_base64())
    );
    let text = text_of(&message);
    assert!(text.starts_with("What do these show?"), "{text}");
    assert!(
        text.contains("Quarterly revenue rose"),
        "the PDF's text: {text}"
    );
    assert!(
        text.contains("Q3 report.pdf"),
        "under the name given: {text}"
    );
    assert!(text.contains("north,12"), "the CSV inline: {text}");
    assert!(
        text.contains("blob.bin") && text.contains("not shown"),
        "other files named only: {text}"
    );
}

#[tokio::test]
async fn anthropic_gets_image_blocks() {
    let message = run_with_files(true, "seeing").await;
    let blocks = message["content"].as_array().expect("content blocks");
    let image = blocks
        .iter()
        .find(|b| b["type"] == "image")
        .unwrap_or_else(|| panic!("{message}"));
    assert_eq!(image["source"]["type"], "base64");
    assert_eq!(image["source"]["media_type"], "image/png");
    assert_eq!(image["source"]["data"], png_base64());
    assert!(text_of(&message).contains("Quarterly revenue rose"));
}

#[tokio::test]
async fn a_model_without_vision_gets_a_note_instead_of_the_image() {
    let message = run_with_files(false, "blind").await;
    let text = text_of(&message);
    assert!(message["content"].is_string(), "no image parts: {message}");
    assert!(
        text.contains("chart.png") && text.contains("does not take images"),
        "{text}"
    );
    assert!(text.contains("Quarterly revenue rose"), "{text}");
}
