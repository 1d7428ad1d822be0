//! The OpenAPI document says what thena and freddy do: their operations are
//! well-formed under their own names, and real answers, streamed events
//! included, fit the schemas declared for them.

use crate::openapi::{answer_fits, conforms, document};
use crate::{TestServer, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The dialect a path belongs to, as the server renders its errors.
fn dialect(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/v1/chat/") {
        Some("thena")
    } else if path.starts_with("/v1/") {
        Some("freddy")
    } else {
        None
    }
}

#[test]
fn thena_and_freddy_operations_are_well_formed() {
    let doc = document();
    let mut ids = HashSet::new();
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let at = format!("{method} {path}");
            let id = operation["operationId"].as_str().expect("an operationId");
            assert!(ids.insert(id.to_owned()), "{at}: operationId {id} twice");
            let Some(dialect) = dialect(path) else {
                continue;
            };
            count += 1;
            assert!(id.starts_with(&format!("{dialect}_")), "{at}: {id}");
            assert_eq!(operation["tags"], json!([dialect]), "{at}");
            let parameters = operation["parameters"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for parameter in &parameters {
                let name = parameter["name"].as_str().unwrap();
                let templated = path.contains(&format!("{{{name}}}"));
                assert_eq!(parameter["in"] == "path", templated, "{at}: {parameter}");
                assert_eq!(
                    parameter["required"] == true,
                    templated,
                    "{at}: {parameter}"
                );
            }
            let responses = operation["responses"].as_object().expect("responses");
            let mut expected = vec!["200", "401", "404", "422", "429"];
            if method == "post" {
                let keyed = parameters
                    .iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
                // An upload is never held, so never replayed (docs/files.md).
                let upload = path == "/v1/files";
                assert_eq!(keyed, !upload, "{at}: Idempotency-Key");
                expected.push("413");
                if keyed {
                    expected.push("409");
                }
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["413", "415"]);
                if dialect == "freddy" {
                    expected.push("400");
                }
            }
            for status in expected {
                assert!(responses.contains_key(status), "{at}: {status}");
            }
            assert!(
                responses["429"]["headers"].get("Retry-After").is_some(),
                "{at}: Retry-After"
            );
            for (status, response) in responses {
                if status.starts_with('4') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    let expected = match (dialect, status.as_str()) {
                        ("thena", "422") => "ThenaValidationError",
                        ("thena", _) => "ThenaError",
                        _ => "FreddyError",
                    };
                    assert_eq!(
                        schema,
                        &json!(format!("#/components/schemas/{expected}")),
                        "{at}: {status}"
                    );
                }
            }
            // Every schema the operation reaches has its dialect's name.
            let prefix = if dialect == "thena" {
                "Thena"
            } else {
                "Freddy"
            };
            let mut seen = HashSet::new();
            let mut pending = vec![operation.clone()];
            while let Some(value) = pending.pop() {
                match value {
                    Value::Object(map) => {
                        if let Some(Value::String(reference)) = map.get("$ref") {
                            let name = reference.trim_start_matches("#/components/schemas/");
                            assert!(name.starts_with(prefix), "{at}: {name}");
                            if seen.insert(name.to_owned()) {
                                pending.push(doc["components"]["schemas"][name].clone());
                            }
                        }
                        pending.extend(map.into_iter().map(|(_, v)| v));
                    }
                    Value::Array(items) => pending.extend(items),
                    _ => {}
                }
            }
        }
    }
    assert!(
        count >= 24,
        "8 thena and 16 freddy operations, found {count}"
    );
}

/// `event:` and `data:` of each event of a Server-Sent Events body.
fn events(text: &str) -> Vec<(String, String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(|v| v.trim_start().to_owned())
            };
            Some((field("id:")?, field("event:")?, field("data:")?))
        })
        .collect()
}

/// Each event of the stream `request` answers fits the `text/event-stream`
/// schema of `method path`: its `id`, its `event` name, and its `data`
/// against the `contentSchema` of the branch that names the event.
pub(crate) async fn stream_fits(
    doc: &Value,
    method: &str,
    path: &str,
    request: RequestBuilder,
) -> Vec<String> {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let schema = &doc["paths"][path][method]["responses"]["200"]["content"]["text/event-stream"]["schema"]
        ["$ref"];
    let name = schema
        .as_str()
        .expect("an event schema")
        .trim_start_matches("#/components/schemas/");
    let branches = doc["components"]["schemas"][name]["oneOf"]
        .as_array()
        .expect("oneOf");
    let mut names = Vec::new();
    for (id, event, data) in events(&response.text().await.unwrap()) {
        assert!(id.parse::<u64>().is_ok(), "{path}: id {id}");
        let fitting: Vec<&Value> = branches
            .iter()
            .filter(|b| {
                b["properties"]["event"]["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(event))
            })
            .collect();
        assert_eq!(fitting.len(), 1, "{path}: {event} in {name}");
        let data_schema = &fitting[0]["properties"]["data"];
        match data_schema.get("contentSchema") {
            Some(content) => {
                let value: Value = serde_json::from_str(&data).expect("JSON data");
                conforms(doc, content, &value, &event)
                    .unwrap_or_else(|problem| panic!("{path}: {problem}"));
            }
            None => assert!(
                data_schema["enum"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(data)),
                "{path}: {event} {data}"
            ),
        }
        names.push(event);
    }
    names
}

#[tokio::test]
async fn thena_answers_fit_their_schemas() {
    let doc = document();
    let server = TestServer::start().await;
    let owner = server.account("ada@example.com").await;
    let key = server.api_key(&owner).await;
    let made = crate::fixtures::agent(&server, &owner, json!({ "name": "Helper" })).await;
    let agent = made["uuid"].as_str().unwrap().to_owned();
    let threads = format!("/api/v1/chat/{agent}/threads");
    let keyed = |method: Method, path: &str| server.request(method, path).header("x-api-key", &key);

    let thread = answer_fits(
        &doc,
        "post",
        "/api/v1/chat/{agent_id}/threads",
        keyed(Method::POST, &threads)
            .json(&json!({ "agent_id": agent, "title": "Plans", "metadata": { "tier": "gold" } })),
    )
    .await;
    let id = thread["id"].as_str().unwrap().to_owned();
    let anon = answer_fits(
        &doc,
        "post",
        "/api/v1/chat/{agent_id}/threads",
        keyed(Method::POST, &threads).json(&json!({ "anon_user_id": "visitor-7" })),
    )
    .await;
    let reply = answer_fits(
        &doc,
        "post",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/messages",
        keyed(Method::POST, &format!("{threads}/{id}/messages"))
            .json(&json!({ "content": "Hello", "metadata": { "k": [1] }, "temperature": 0.5 })),
    )
    .await;
    let message = reply["id"].as_str().unwrap().to_owned();
    let names = stream_fits(
        &doc,
        "post",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/messages",
        keyed(Method::POST, &format!("{threads}/{id}/messages"))
            .json(&json!({ "content": "Stream it", "stream": true })),
    )
    .await;
    assert_eq!(names.last().map(String::as_str), Some("done"), "{names:?}");
    let feedback = format!("{threads}/{id}/messages/{message}/feedback");
    answer_fits(
        &doc,
        "post",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback",
        keyed(Method::POST, &feedback)
            .json(&json!({ "feedback_type": "negative", "comment": "Meh" })),
    )
    .await;
    answer_fits(
        &doc,
        "put",
        "/api/v1/chat/{agent_id}/threads/{thread_id}/messages/{message_id}/feedback",
        keyed(Method::PUT, &feedback).json(&json!({ "issue_type": "inaccurate" })),
    )
    .await;
    for path in [
        threads.clone(),
        format!("{threads}?limit=1&sort=created_at&order=asc&metadata[tier]=gold"),
        format!("{threads}?anon_user_id=visitor-7"),
    ] {
        answer_fits(
            &doc,
            "get",
            "/api/v1/chat/{agent_id}/threads",
            keyed(Method::GET, &path),
        )
        .await;
    }
    answer_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads/{thread_id}",
        keyed(Method::GET, &format!("{threads}/{id}")),
    )
    .await;
    for query in ["", "?limit=1&order=desc"] {
        answer_fits(
            &doc,
            "get",
            "/api/v1/chat/{agent_id}/threads/{thread_id}/messages",
            keyed(Method::GET, &format!("{threads}/{id}/messages{query}")),
        )
        .await;
    }
    // Errors in thena's shapes, with the statuses declared for them.
    let messages = "/api/v1/chat/{agent_id}/threads/{thread_id}/messages";
    answer_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads",
        server.request(Method::GET, &threads),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads/{thread_id}",
        keyed(Method::GET, &format!("{threads}/{}", uuid::Uuid::now_v7())),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/chat/{agent_id}/threads",
        keyed(Method::GET, &format!("{threads}?limit=0")),
    )
    .await;
    let path = format!("{threads}/{id}/messages");
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &path).body("{}"),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &path)
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &path).json(&json!({ "content": " " })),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &path)
            .header("idempotency-key", "k".repeat(256))
            .json(&json!({ "content": "Hi" })),
    )
    .await;
    let anon = anon["id"].as_str().unwrap();
    answer_fits(
        &doc,
        "delete",
        "/api/v1/chat/{agent_id}/threads/{thread_id}",
        keyed(
            Method::DELETE,
            &format!("{threads}/{anon}?anon_user_id=visitor-7"),
        ),
    )
    .await;
}

#[tokio::test]
async fn freddy_answers_fit_their_schemas() {
    let doc = document();
    let server = TestServer::start().await;
    let owner = server.account("ada@example.com").await;
    let key = server.api_key(&owner).await;
    let made = crate::fixtures::agent(&server, &owner, json!({ "name": "Helper" })).await;
    let agent = made["uuid"].as_str().unwrap().to_owned();
    let org = format!("org_{}", owner.workspace.to_string().replace('-', ""));
    let keyed = |method: Method, path: &str| server.request(method, path).header("X-API-Key", &key);

    let thread = answer_fits(
        &doc,
        "post",
        "/v1/threads",
        keyed(Method::POST, "/v1/threads").json(&json!({
            "organization_id": org, "assistant_id": agent, "title": "Plans",
            "metadata": { "tier": "gold", "tags": ["a"] },
        })),
    )
    .await;
    let id = thread["id"].as_str().unwrap().to_owned();
    let session = answer_fits(
        &doc,
        "post",
        "/v1/threads",
        server.post(
            "/v1/threads",
            &owner.token,
            json!({ "organization_id": org, "visible_in_ui": false }),
        ),
    )
    .await;
    let at = |tail: &str| format!("/v1/threads/{id}{tail}");
    answer_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/messages",
        keyed(Method::POST, &at("/messages")).json(&json!({ "content": "Hello", "role": "user" })),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/runs",
        keyed(Method::POST, &at("/runs")).json(&json!({ "content": "And you?", "max_tokens": 64 })),
    )
    .await;
    let names = stream_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/runs",
        keyed(Method::POST, &at("/runs")).json(&json!({ "content": "Stream it", "stream": true })),
    )
    .await;
    assert_eq!(
        names.first().map(String::as_str),
        Some("run.created"),
        "{names:?}"
    );
    answer_fits(
        &doc,
        "post",
        "/v1/threads/{thread_id}/generate-name",
        keyed(Method::POST, &at("/generate-name")),
    )
    .await;
    for (method, path, tail) in [
        ("post", "/v1/threads/{thread_id}/pin", "/pin"),
        ("post", "/v1/threads/{thread_id}/unpin", "/unpin"),
        ("get", "/v1/threads/{thread_id}", ""),
        (
            "get",
            "/v1/threads/{thread_id}/messages",
            "/messages?limit=1&order=desc",
        ),
    ] {
        let method_ = if method == "post" {
            Method::POST
        } else {
            Method::GET
        };
        answer_fits(&doc, method, path, keyed(method_, &at(tail))).await;
    }
    answer_fits(
        &doc,
        "patch",
        "/v1/threads/{thread_id}",
        keyed(Method::PATCH, &at(""))
            .json(&json!({ "title": null, "is_pinned": true, "metadata": {} })),
    )
    .await;
    for query in [
        "",
        "?limit=1&sort=created_at&pinned=true",
        "?search=Hello",
        "?metadata[tier]=gold",
    ] {
        answer_fits(
            &doc,
            "get",
            "/v1/threads",
            keyed(Method::GET, &format!("/v1/threads{query}")),
        )
        .await;
    }
    // Errors in freddy's shape, with the statuses declared for them.
    answer_fits(
        &doc,
        "get",
        "/v1/threads",
        server.request(Method::GET, "/v1/threads"),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/v1/threads",
        keyed(Method::GET, "/v1/threads?limit=101"),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/v1/threads/{thread_id}",
        keyed(Method::GET, &format!("/v1/threads/thrd_{}", "0".repeat(32))),
    )
    .await;
    let messages = "/v1/threads/{thread_id}/messages";
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &at("/messages")).body("{}"),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &at("/messages"))
            .header("content-type", "application/json")
            .body("{"),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        messages,
        keyed(Method::POST, &at("/messages")).json(&json!({})),
    )
    .await;
    answer_fits(
        &doc,
        "patch",
        "/v1/threads/{thread_id}",
        keyed(Method::PATCH, &at("?organization_id=org_1"))
            .json(&json!({ "organization_id": org })),
    )
    .await;
    let session = session["id"].as_str().unwrap();
    let (status, _) = send(keyed(Method::GET, &format!("/v1/threads/{session}"))).await;
    assert_eq!(status, StatusCode::OK);
    answer_fits(
        &doc,
        "delete",
        "/v1/threads/{thread_id}",
        keyed(Method::DELETE, &format!("/v1/threads/{session}")),
    )
    .await;
}
