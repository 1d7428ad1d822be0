//! Providers per workspace: a workspace adds its own endpoint and runs a
//! thread on it (scripted upstream, both protocols), its credentials are
//! sealed at rest and shown as hints only, the catalog is per workspace,
//! and the rules: who may change them, isolation, bad input, outbound
//! addresses.

use crate::{Account, TestServer, assert_invalid, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spool_providers::testing::{Protocol, Script, ScriptedUpstream};

const KEY: &str = "sk-team-secret-0123456789abcd";

fn openai_provider(upstream: &ScriptedUpstream) -> Value {
    json!({
        "name": "Team OpenAI",
        "type": "openai",
        "base_url": upstream.openai_base_url(),
        "authentication_config": {"type": "api_key", "api_key": KEY},
        "models": [{"name": "team-gpt", "upstream_model": "gpt-team-1", "context_window": 16000,
                    "max_output_tokens": 256, "label": "Team GPT"}],
    })
}

async fn add(server: &TestServer, token: &str, body: Value) -> Value {
    let (status, body) = send(server.post("/api/v1/providers", token, body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

async fn thread(server: &TestServer, account: &Account) -> String {
    let (status, body) = send(server.post(
        "/api/v1/threads",
        &account.token,
        json!({ "name": "On our own provider" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["uuid"].as_str().unwrap().to_owned()
}

async fn run(server: &TestServer, token: &str, thread: &str, body: Value) -> (StatusCode, Value) {
    send(server.post(&format!("/api/v1/threads/{thread}/run"), token, body)).await
}

fn model_names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_workspace_runs_a_thread_on_its_own_provider() {
    let upstream =
        ScriptedUpstream::start([Script::reply(["Hello from ", "our own model."])]).await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let provider = add(&server, &ada.token, openai_provider(&upstream)).await;
    assert_eq!(provider["type"], "openai");
    assert_eq!(provider["user_uuid"], ada.user.uuid.to_string());
    assert_eq!(provider["models"][0]["name"], "team-gpt");

    // The workspace's catalog has its model beside the server's.
    let (status, models) = send(server.get("/api/v1/large-language-models", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{models}");
    assert_eq!(model_names(&models), ["team-gpt", "echo"]);
    let ours = &models["data"][0];
    assert_eq!(ours["provider"], "Team OpenAI");
    assert_eq!(ours["provider_uuid"], provider["uuid"]);
    assert_eq!(ours["uuid"], provider["models"][0]["uuid"]);
    assert_eq!(ours["max_output_tokens"], 256);
    let (status, one) = send(server.get(
        &format!(
            "/api/v1/large-language-models/{}",
            ours["uuid"].as_str().unwrap()
        ),
        &ada.token,
    ))
    .await;
    assert_eq!(
        (status, &one["data"]["name"]),
        (StatusCode::OK, &json!("team-gpt"))
    );

    let thread = thread(&server, &ada).await;
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({"content": "Hi there", "model": "team-gpt"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["content"], "Hello from our own model.");
    assert_eq!(body["data"]["metadata"]["model"], "team-gpt");
    let sent = &upstream.requests()[0];
    assert_eq!(sent.protocol, Some(Protocol::OpenAi));
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent.body["model"], "gpt-team-1");
    assert_eq!(
        sent.body["messages"].as_array().unwrap().last().unwrap()["content"],
        "Hi there"
    );

    // A second run uses the provider built for the first.
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({"content": "Again", "model": "team-gpt"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(upstream.request_count(), 2);

    // Another workspace sees neither the provider nor its model.
    let eve = server.account("eve@example.com").await;
    let (_, models) = send(server.get("/api/v1/large-language-models", &eve.token)).await;
    assert_eq!(model_names(&models), ["echo"]);
    let eve_thread = self::thread(&server, &eve).await;
    let (status, body) = run(
        &server,
        &eve.token,
        &eve_thread,
        json!({"content": "Hi", "model": "team-gpt"}),
    )
    .await;
    assert_invalid(status, &body, "model");
    let path = format!("/api/v1/providers/{}", provider["uuid"].as_str().unwrap());
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let (status, body) = send(
            server
                .request(method.clone(), &path)
                .bearer_auth(&eve.token)
                .json(&json!({"name": "Mine now"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {body}");
    }
    let (_, listed) = send(server.get("/api/v1/providers", &eve.token)).await;
    assert_eq!(listed["meta"]["total"], 0, "{listed}");
    assert_eq!(upstream.request_count(), 2);
}

#[tokio::test]
async fn an_anthropic_provider_with_custom_headers_answers_runs() {
    let upstream = ScriptedUpstream::start([Script::reply(["Claude-like ", "reply."])]).await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let provider = add(
        &server,
        &ada.token,
        json!({
            "name": "Gateway",
            "type": "anthropic",
            "base_url": upstream.url(),
            "authentication_config": {"type": "headers",
                "headers": {"x-api-key": "anthropic-key-abcdef123456", "x-team": "research-team-7"}},
            "models": [{"name": "team-claude", "upstream_model": "claude-team", "context_window": 200000}],
        }),
    )
    .await;
    assert_eq!(
        provider["authentication_config"],
        json!({"type": "headers", "headers": {"x-api-key": "…3456", "x-team": "…am-7"}})
    );
    let thread = thread(&server, &ada).await;
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({"content": "Hello", "model": "team-claude"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["content"], "Claude-like reply.");
    let sent = &upstream.requests()[0];
    assert_eq!(sent.protocol, Some(Protocol::Anthropic));
    assert_eq!(sent.header("x-api-key"), Some("anthropic-key-abcdef123456"));
    assert_eq!(sent.header("x-team"), Some("research-team-7"));
    assert_eq!(sent.body["model"], "claude-team");
}

#[tokio::test]
async fn credentials_are_sealed_at_rest_and_answered_as_hints_only() {
    let upstream = ScriptedUpstream::start([]).await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let provider = add(&server, &ada.token, openai_provider(&upstream)).await;
    assert_eq!(
        provider["authentication_config"],
        json!({"type": "api_key", "hint": "…abcd"})
    );
    let path = format!("/api/v1/providers/{}", provider["uuid"].as_str().unwrap());
    let (_, shown) = send(server.get(&path, &ada.token)).await;
    let (_, listed) = send(server.get("/api/v1/providers", &ada.token)).await;
    for body in [&provider, &shown, &listed] {
        assert!(!body.to_string().contains(KEY), "{body}");
    }

    // The stored column is the sealed key, not the key.
    let id = spool_core::ProviderId::parse(provider["uuid"].as_str().unwrap()).unwrap();
    let stored = server
        .spool
        .store()
        .provider(ada.workspace, id)
        .await
        .unwrap()
        .unwrap();
    let sealed = stored.secret.expect("sealed credentials");
    assert_eq!(sealed.key_id, "test-1");
    assert!(!sealed.ciphertext.contains(KEY) && !sealed.ciphertext.contains("sk-team"));
    let keyring = spool_core::sealing::Keyring::parse(&[crate::TEST_SEALING_KEY.as_str()]).unwrap();
    let opened = keyring
        .open(&sealed, format!("spool-provider:{id}").as_bytes())
        .unwrap();
    assert!(String::from_utf8(opened).unwrap().contains(KEY));
    // Nowhere in the SQLite files either (the PostgreSQL run checks the column).
    if std::env::var("SPOOL_TEST_BACKEND").as_deref() != Ok("postgres") {
        let dir = server.files_dir();
        let dir = dir.parent().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                let bytes = std::fs::read(&path).unwrap();
                assert!(
                    !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "the key is in {}",
                    path.display()
                );
            }
        }
    }

    // New credentials replace the old, and the next run sends them.
    let (status, body) = send(server.request(Method::PUT, &path).bearer_auth(&ada.token).json(
        &json!({"authentication_config": {"type": "api_key", "api_key": "sk-rotated-key-9876wxyz",
                "header": "api-key"}}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["authentication_config"],
        json!({"type": "api_key", "header": "api-key", "hint": "…wxyz"})
    );
    let thread = thread(&server, &ada).await;
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({"content": "Hi", "model": "team-gpt"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent = &upstream.requests()[0];
    assert_eq!(sent.header("api-key"), Some("sk-rotated-key-9876wxyz"));
    assert_eq!(sent.header("authorization"), None);
}

#[tokio::test]
async fn owners_admins_and_api_keys_change_providers_members_read_them() {
    let upstream = ScriptedUpstream::start([]).await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let cy = server.member(&ada, "cy@example.com", "admin").await;
    let key = server.api_key(&ada).await;

    let (status, body) =
        send(server.post("/api/v1/providers", &bob, openai_provider(&upstream))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let provider = add(&server, &cy, openai_provider(&upstream)).await;
    let path = format!("/api/v1/providers/{}", provider["uuid"].as_str().unwrap());
    let (status, listed) = send(server.get("/api/v1/providers", &bob)).await;
    assert_eq!(
        (status, &listed["meta"]["total"]),
        (StatusCode::OK, &json!(1))
    );
    let (status, _) = send(server.get(&path, &bob)).await;
    assert_eq!(status, StatusCode::OK);
    for method in [Method::PUT, Method::DELETE] {
        let (status, body) = send(
            server
                .request(method.clone(), &path)
                .bearer_auth(&bob)
                .json(&json!({"name": "Bob's"})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {body}");
    }
    let (status, body) = send(
        server
            .request(Method::PUT, &path)
            .bearer_auth(&key)
            .json(&json!({"name": "Renamed", "description": "Our endpoint"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(body["data"]["authentication_config"]["hint"], "…abcd");

    // Deleted: the model leaves the catalog and runs naming it are refused.
    let (status, _) = send(
        server
            .request(Method::DELETE, &path)
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, models) = send(server.get("/api/v1/large-language-models", &ada.token)).await;
    assert_eq!(model_names(&models), ["echo"]);
    let thread = thread(&server, &ada).await;
    let (status, body) = run(
        &server,
        &ada.token,
        &thread,
        json!({"content": "Hi", "model": "team-gpt"}),
    )
    .await;
    assert_invalid(status, &body, "model");
}

#[tokio::test]
async fn bad_provider_input_is_refused_naming_the_field_and_changes_nothing() {
    let upstream = ScriptedUpstream::start([]).await;
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let good = openai_provider(&upstream);
    let with = |patch: Value| {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (body, field) in [
        (with(json!({"type": "gemini"})), "type"),
        (with(json!({"name": "  "})), "name"),
        (with(json!({"base_url": "ftp://example.com"})), "base_url"),
        (with(json!({"base_url": "not a url"})), "base_url"),
        (with(json!({"models": []})), "models"),
        (
            with(json!({"models": [{"name": "echo", "context_window": 1000}]})),
            "models.0.name",
        ),
        (
            with(
                json!({"models": [{"name": "a", "context_window": 1000, "max_output_tokens": 1000}]}),
            ),
            "models.0.max_output_tokens",
        ),
        (
            with(json!({"models": [{"name": "a", "context_window": 0}]})),
            "models.0.context_window",
        ),
        (
            with(
                json!({"models": [{"name": "a", "context_window": 10}, {"name": "a", "context_window": 10}]}),
            ),
            "models.1.name",
        ),
        (
            with(json!({"authentication_config": {"type": "api_key"}})),
            "authentication_config.api_key",
        ),
        (
            with(json!({"authentication_config": {"type": "api_key", "api_key": ""}})),
            "authentication_config.api_key",
        ),
        (
            with(json!({"authentication_config": {"type": "none", "api_key": "x"}})),
            "authentication_config.api_key",
        ),
        (
            with(json!({"authentication_config": {"type": "headers", "headers": {}}})),
            "authentication_config.headers",
        ),
        (
            with(
                json!({"authentication_config": {"type": "api_key", "api_key": "sk-abc", "header": "bad header"}}),
            ),
            "authentication_config",
        ),
        (
            with(json!({"authentication_config": {"type": "magic"}})),
            "authentication_config.type",
        ),
    ] {
        let (status, answer) =
            send(server.post("/api/v1/providers", &ada.token, body.clone())).await;
        assert_invalid(status, &answer, field);
        assert!(!answer.to_string().contains("sk-abc"), "{answer}");
    }
    for body in [
        json!({"name": "x"}),
        json!([]),
        with(json!({"unknown": 1})),
        with(json!({"models": [{"name": "a", "context_window": 1.5}]})),
    ] {
        let (status, answer) = send(server.post("/api/v1/providers", &ada.token, body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    let (_, listed) = send(server.get("/api/v1/providers", &ada.token)).await;
    assert_eq!(listed["meta"]["total"], 0, "{listed}");

    // A taken name, a model another provider of the workspace has: 409.
    let first = add(&server, &ada.token, good.clone()).await;
    let (status, answer) = send(server.post(
        "/api/v1/providers",
        &ada.token,
        with(json!({"name": "Second"})),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["message"].as_str().unwrap().contains("team-gpt"),
        "{answer}"
    );
    let (status, answer) = send(server.post(
        "/api/v1/providers",
        &ada.token,
        with(json!({"models": [{"name": "other", "context_window": 1000}]})),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");

    // A new address needs the credentials again.
    let path = format!("/api/v1/providers/{}", first["uuid"].as_str().unwrap());
    let (status, answer) = send(
        server
            .request(Method::PUT, &path)
            .bearer_auth(&ada.token)
            .json(&json!({"base_url": "http://127.0.0.1:1/v1"})),
    )
    .await;
    assert_invalid(status, &answer, "authentication_config");
    let (_, shown) = send(server.get(&path, &ada.token)).await;
    assert_eq!(shown["data"]["base_url"], upstream.openai_base_url());

    // Credentials and ids: 401 without one, 404 for a malformed id.
    let (status, _) = send(server.request(Method::GET, "/api/v1/providers")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get("/api/v1/providers", "sps_not-a-session")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get("/api/v1/providers/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let eve = server.account("eve@example.com").await;
    let (status, _) = send(server.get(
        &format!("/api/v1/providers?workspace_uuid={}", eve.workspace),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn provider_urls_follow_the_outbound_address_rules() {
    let server = TestServer::start_with_provider_hosts(&["models.internal"]).await;
    let ada = server.account("ada@example.com").await;
    for url in [
        "http://127.0.0.1:8080/v1",
        "http://localhost:8080/v1",
        "http://169.254.169.254/latest",
        "http://10.1.2.3/v1",
        "http://[::1]:8080/v1",
    ] {
        let (status, body) = send(server.post(
            "/api/v1/providers",
            &ada.token,
            json!({"name": "Local", "type": "openai", "base_url": url,
                   "models": [{"name": "local", "context_window": 8000}]}),
        ))
        .await;
        assert_invalid(status, &body, "base_url");
    }
    let (_, listed) = send(server.get("/api/v1/providers", &ada.token)).await;
    assert_eq!(listed["meta"]["total"], 0);
}

#[tokio::test]
async fn a_user_in_no_workspace_sees_the_server_s_models() {
    let server = TestServer::start().await;
    server.user("nomad@example.com").await;
    let token = server.sign_in("nomad@example.com").await;
    let (status, models) = send(server.get("/api/v1/large-language-models", &token)).await;
    assert_eq!(status, StatusCode::OK, "{models}");
    assert_eq!(model_names(&models), ["echo"]);
    let (status, one) = send(server.get("/api/v1/large-language-models/echo", &token)).await;
    assert_eq!(
        (status, &one["data"]["provider_uuid"]),
        (StatusCode::OK, &Value::Null)
    );
}
