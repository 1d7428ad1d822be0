//! The large language model catalog, with the built-in `echo` model.

use crate::fixtures::assert_not_found;
use crate::{TestServer, send};
use reqwest::StatusCode;

#[tokio::test]
async fn the_catalog_lists_echo_as_a_development_model() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (status, list) = send(server.get("/api/v1/large-language-models", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let models = list["data"].as_array().expect("data");
    let echo = models
        .iter()
        .find(|m| m["name"] == "echo")
        .unwrap_or_else(|| panic!("echo is in the catalog: {list}"));
    let description = echo["description"]
        .as_str()
        .expect("a description")
        .to_lowercase();
    assert!(
        description.contains("development"),
        "labelled as a development model: {description}"
    );
    assert!(echo["provider"].is_string(), "{echo}");
    assert!(echo["context_window"].as_u64().unwrap() > 0, "{echo}");
    assert!(echo["max_output_tokens"].as_u64().unwrap() > 0, "{echo}");

    let uuid = echo["uuid"].as_str().expect("uuid");
    assert!(uuid::Uuid::try_parse(uuid).is_ok(), "{uuid}");
    let (status, one) =
        send(server.get(&format!("/api/v1/large-language-models/{uuid}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(&one["data"], echo);

    // The same for an API key, and the uuid is stable across servers.
    let key = server.api_key(&ada).await;
    let (status, _) = send(server.get("/api/v1/large-language-models", &key)).await;
    assert_eq!(status, StatusCode::OK);
    let other = TestServer::start().await;
    let bob = other.account("bob@example.com").await;
    let (_, list) = send(other.get("/api/v1/large-language-models", &bob.token)).await;
    let again = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "echo")
        .unwrap();
    assert_eq!(again["uuid"], uuid);
}

#[tokio::test]
async fn unknown_models_answer_404() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    for id in [
        "01890000-0000-7000-8000-000000000000",
        "gpt-17",
        "not a uuid",
    ] {
        let path = format!("/api/v1/large-language-models/{}", id.replace(' ', "%20"));
        let (status, body) = send(server.get(&path, &ada.token)).await;
        assert_not_found(status, &body, &path);
    }
}
