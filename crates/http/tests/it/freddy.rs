//! The freddy dialect over HTTP: seed 004 as documented, every documented
//! limit at the edge and one past, the neighbouring endpoints, prefixed
//! ids, OpenAI-style errors, isolation, and one thread seen through all
//! three dialects.

use crate::fixtures::{agent, message, uuid};
use crate::shape::assert_same_shape_except;
use crate::{Account, TestServer, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Map, Value, json};

/// Seed 004: the request after `-d '`, the response after `Response:`.
fn seed_004() -> (Value, Value) {
    let (_, text) = crate::seeds::seed_text("004");
    let after = |marker: &str| -> Value {
        let start = text.find(marker).expect("marker") + marker.len();
        let start = start + text[start..].find('{').expect("an object");
        serde_json::Deserializer::from_str(&text[start..])
            .into_iter::<Value>()
            .next()
            .expect("a value")
            .expect("JSON")
    };
    (after("-d '"), after("Response:"))
}

fn hex(id: &str) -> String {
    id.replace('-', "")
}

fn org(account: &Account) -> String {
    format!("org_{}", hex(&account.workspace.to_string()))
}

/// An OpenAI-style error with `status`; `param` when given.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, param: Option<&str>) {
    assert_eq!(status, expected, "{body}");
    let error = body["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{body}"));
    for key in ["type", "code", "message"] {
        assert!(error[key].is_string(), "{key}: {body}");
    }
    assert!(error.contains_key("param"), "{body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(1), "{body}");
    if let Some(param) = param {
        assert_eq!(error["param"], param, "{body}");
    }
}

struct Freddy {
    server: TestServer,
    ada: Account,
    key: String,
}

async fn freddy() -> Freddy {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let key = server.api_key(&ada).await;
    Freddy { server, ada, key }
}

impl Freddy {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.server
            .request(method, path)
            .header("X-API-Key", &self.key)
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.request(Method::POST, path).json(&body)).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        send(self.request(Method::GET, path)).await
    }

    async fn create(&self, mut body: Value) -> Value {
        body["organization_id"] = json!(org(&self.ada));
        let (status, body) = self.post("/v1/threads", body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn try_create(&self, mut body: Value) -> (StatusCode, Value) {
        body["organization_id"] = json!(org(&self.ada));
        self.post("/v1/threads", body).await
    }
}

fn assert_seconds(value: &Value, what: &str) {
    let text = value.as_str().unwrap_or_else(|| panic!("{what}: {value}"));
    assert!(
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{what}: whole seconds, UTC: {text}"
    );
}

#[tokio::test]
async fn seed_004_create_thread() {
    let (mut request, response) = seed_004();
    let f = freddy().await;
    request["organization_id"] = json!(org(&f.ada));
    let (status, body) = f.post("/v1/threads", request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_same_shape_except(&response, &body, &["metadata"]);
    let id = body["id"].as_str().unwrap();
    assert!(id.starts_with("thrd_") && id.len() == 37, "{id}");
    assert_eq!(body["object"], "thread");
    assert_eq!(body["organization_id"], org(&f.ada));
    assert_eq!(body["user_id"], format!("usr_{}", f.ada.user.uuid.simple()));
    assert_eq!(body["status"], "inactive");
    assert_eq!(body["message_count"], 0);
    assert_eq!(body["visible_in_ui"], true);
    assert_eq!(body["is_pinned"], false);
    assert_eq!(body["metadata"], json!({}));
    assert_eq!(body["space_ids"], json!([]));
    for field in ["created_at", "updated_at", "last_message_at"] {
        assert_seconds(&body[field], field);
    }

    // Every documented field, with the raw UUID form of organization_id.
    let assistant = uuid(&agent(&f.server, &f.ada, json!({ "name": "Helper" })).await);
    let (status, full) = f
        .post(
            "/v1/threads",
            json!({
                "organization_id": f.ada.workspace.to_string(),
                "assistant_id": format!("asst_{}", hex(&assistant)),
                "title": "Billing",
                "metadata": {"category": "support", "priority": "high", "tags": ["billing", "urgent"]},
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{full}");
    assert_eq!(full["assistant_id"], format!("asst_{}", hex(&assistant)));
    assert_eq!(full["title"], "Billing");
    assert_eq!(full["metadata"]["tags"], json!(["billing", "urgent"]));
}

#[tokio::test]
async fn documented_limits_hold_at_the_edge_and_fail_one_past() {
    let f = freddy().await;
    let pairs = |n: usize| -> Map<String, Value> {
        (0..n).map(|i| (format!("k{i}"), json!("v"))).collect()
    };
    let cases = [
        (
            json!({ "metadata": pairs(16) }),
            json!({ "metadata": pairs(17) }),
            "metadata",
        ),
        (
            json!({ "metadata": { "k".repeat(64): "v" } }),
            json!({ "metadata": { "k".repeat(65): "v" } }),
            "metadata.",
        ),
        (
            json!({ "metadata": { "k": "é".repeat(512) } }),
            json!({ "metadata": { "k": "é".repeat(513) } }),
            "metadata.k",
        ),
        (
            json!({ "title": "漢".repeat(200) }),
            json!({ "title": "漢".repeat(201) }),
            "title",
        ),
    ];
    for (edge, past, param) in cases {
        let (status, body) = f.try_create(edge).await;
        assert_eq!(status, StatusCode::OK, "{param}: {body}");
        let (status, body) = f.try_create(past).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, None);
        let named = body["error"]["param"].as_str().unwrap();
        assert!(named.starts_with(param), "{param}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn organization_is_required_and_must_be_the_callers() {
    let f = freddy().await;
    let (status, body) = f.post("/v1/threads", json!({})).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("organization_id"),
    );
    assert_eq!(body["error"]["code"], "missing_required_field");
    let (status, body) = f
        .post("/v1/threads", json!({ "organization_id": "org_12345" }))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("organization_id"),
    );
    let eve = f.server.account("eve@example.com").await;
    let (status, body) = f
        .post("/v1/threads", json!({ "organization_id": org(&eve) }))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
    let (status, body) = f
        .post(
            "/v1/threads",
            json!({ "organization_id": org(&f.ada), "assistant_id": "asst_nope" }),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("assistant_id"),
    );
}

#[tokio::test]
async fn visible_in_ui_needs_a_session_token() {
    let f = freddy().await;
    let (status, body) = f.try_create(json!({ "visible_in_ui": false })).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("visible_in_ui"),
    );
    // The key as a Bearer credential is still a key.
    let (status, body) = send(
        f.server
            .request(Method::POST, "/v1/threads")
            .bearer_auth(&f.key)
            .json(&json!({ "organization_id": org(&f.ada), "visible_in_ui": false })),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("visible_in_ui"),
    );
    let (status, body) = send(
        f.server
            .request(Method::POST, "/v1/threads")
            .bearer_auth(&f.ada.token)
            .json(&json!({ "organization_id": org(&f.ada), "visible_in_ui": false })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["visible_in_ui"], false);
}

#[tokio::test]
async fn threads_read_change_pin_and_delete() {
    let f = freddy().await;
    let thread = f.create(json!({ "title": "first" })).await;
    let id = thread["id"].as_str().unwrap().to_owned();
    let raw = uuid::Uuid::try_parse(&id["thrd_".len()..])
        .unwrap()
        .to_string();
    for path in [format!("/v1/threads/{id}"), format!("/v1/threads/{raw}")] {
        let (status, body) = f.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["id"], id);
    }
    let (status, body) = send(
        f.request(Method::PATCH, &format!("/v1/threads/{id}"))
            .json(&json!({ "title": "renamed", "metadata": { "tier": "gold" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "renamed");
    assert_eq!(body["metadata"], json!({ "tier": "gold" }));
    let (status, body) = send(
        f.request(Method::PATCH, &format!("/v1/threads/{id}"))
            .json(&json!({ "title": null })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], Value::Null);
    let (status, body) = send(
        f.request(Method::PATCH, &format!("/v1/threads/{id}"))
            .json(&json!({ "title": "t".repeat(201) })),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("title"),
    );

    let (status, body) = f.post(&format!("/v1/threads/{id}/pin"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_pinned"], true);
    assert_seconds(&body["pinned_at"], "pinned_at");
    let (_, body) = f.get("/v1/threads?pinned=true").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "{body}");
    let (status, body) = f.post(&format!("/v1/threads/{id}/unpin"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["is_pinned"], false);
    assert_eq!(body["pinned_at"], Value::Null);

    let (status, body) = send(f.request(Method::DELETE, &format!("/v1/threads/{id}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({ "id": id, "object": "thread.deleted", "deleted": true })
    );
    let (status, body) = f.get(&format!("/v1/threads/{id}")).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
    // A message id is no thread id.
    let (status, body) = f
        .get(&format!("/v1/threads/msg_{}", &id["thrd_".len()..]))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
}

#[tokio::test]
async fn lists_page_and_filter() {
    let f = freddy().await;
    let assistant = uuid(&agent(&f.server, &f.ada, json!({ "name": "Helper" })).await);
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut body = json!({ "title": format!("t{n}"), "metadata": { "n": n.to_string() } });
        if n % 2 == 0 {
            body["assistant_id"] = json!(assistant);
        }
        ids.push(f.create(body).await["id"].as_str().unwrap().to_owned());
    }
    let page_ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, first) = f.get("/v1/threads?limit=2&sort=created_at").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["object"], "list");
    assert_eq!(page_ids(&first), [ids[4].clone(), ids[3].clone()]);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["first_id"], ids[4]);
    assert_eq!(first["last_id"], ids[3]);
    let (_, second) = f
        .get(&format!(
            "/v1/threads?limit=2&sort=created_at&after={}",
            first["last_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page_ids(&second), [ids[2].clone(), ids[1].clone()]);
    let (_, third) = f
        .get(&format!(
            "/v1/threads?limit=2&sort=created_at&after={}",
            second["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page_ids(&third), [ids[0].clone()]);
    assert_eq!(third["has_more"], false);
    let (_, back) = f
        .get(&format!(
            "/v1/threads?limit=2&sort=created_at&before={}",
            ids[0]
        ))
        .await;
    assert_eq!(page_ids(&back), [ids[2].clone(), ids[1].clone()]);
    assert_eq!(back["has_more"], true);

    let (_, by_assistant) = f
        .get(&format!(
            "/v1/threads?sort=created_at&assistant_id=asst_{}",
            hex(&assistant)
        ))
        .await;
    assert_eq!(
        page_ids(&by_assistant),
        [ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let (_, by_metadata) = f.get("/v1/threads?metadata[n]=3").await;
    assert_eq!(page_ids(&by_metadata), [ids[3].clone()]);
    let (_, searched) = f.get("/v1/threads?search=t1&limit=10").await;
    assert_eq!(page_ids(&searched), [ids[1].clone()]);
    assert_eq!(searched["has_more"], false);
    // A search pages by its own cursors, never by a thread id.
    let walruses = [
        f.create(json!({ "title": "walrus one" })).await["id"].clone(),
        f.create(json!({ "title": "walrus two" })).await["id"].clone(),
    ];
    let (_, first_hit) = f.get("/v1/threads?search=walrus&limit=1").await;
    assert_eq!(first_hit["has_more"], true, "{first_hit}");
    let (status, second_hit) = f
        .get(&format!(
            "/v1/threads?search=walrus&limit=1&after={}",
            first_hit["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{second_hit}");
    assert_eq!(second_hit["has_more"], false, "{second_hit}");
    let mut both = [page_ids(&first_hit), page_ids(&second_hit)].concat();
    both.sort();
    let mut expected: Vec<String> = walruses
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    assert_eq!(both, expected);
    let (status, body) = f
        .get(&format!("/v1/threads?search=walrus&after={}", ids[1]))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("after"),
    );

    for (query, param) in [
        ("limit=101", "limit"),
        ("after=thrd_00000000000000000000000000000000", "after"),
        ("before=garbage", "before"),
        ("sort=size", "sort"),
    ] {
        let (status, body) = f.get(&format!("/v1/threads?{query}")).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, Some(param));
    }
}

#[tokio::test]
async fn messages_are_appended_and_listed_in_order() {
    let f = freddy().await;
    let thread = f.create(json!({})).await;
    let id = thread["id"].as_str().unwrap();
    let path = format!("/v1/threads/{id}/messages");
    let mut ids = Vec::new();
    for n in 0..3 {
        let (status, body) = f
            .post(
                &path,
                json!({ "content": format!("m{n}"), "metadata": { "n": n } }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["object"], "thread.message");
        assert_eq!(body["thread_id"], id);
        assert_eq!(body["role"], "user");
        assert!(body["id"].as_str().unwrap().starts_with("msg_"), "{body}");
        assert_seconds(&body["created_at"], "created_at");
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    let (_, list) = f.get(&format!("{path}?limit=2")).await;
    let contents: Vec<_> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].clone())
        .collect();
    assert_eq!(contents, [json!("m0"), json!("m1")]);
    assert_eq!(list["has_more"], true);
    let (_, rest) = f.get(&format!("{path}?after={}", ids[1])).await;
    assert_eq!(rest["data"][0]["id"], ids[2]);
    assert_eq!(rest["has_more"], false);
    let (_, newest) = f.get(&format!("{path}?order=desc&limit=1")).await;
    assert_eq!(newest["data"][0]["id"], ids[2]);

    let (_, thread) = f.get(&format!("/v1/threads/{id}")).await;
    assert_eq!(thread["message_count"], 3);
    assert_eq!(thread["last_message_at"], newest["data"][0]["created_at"]);

    let (status, body) = f.post(&path, json!({ "content": "" })).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("content"),
    );
    let (status, body) = f
        .post(&path, json!({ "content": "x", "role": "wizard" }))
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("role"),
    );
}

#[tokio::test]
async fn problems_answer_as_openai_errors() {
    let f = freddy().await;
    let raw = |body: &str| {
        f.request(Method::POST, "/v1/threads")
            .header("content-type", "application/json")
            .body(body.to_owned())
    };
    let (status, body) = send(raw("{\"organization_id\": ")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, None);
    let (status, body) = send(raw(r#"{"organization_id": 7}"#)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("organization_id"),
    );
    let (status, body) = send(raw(r#"{"organization_id": "x", "colour": 1}"#)).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("colour"),
    );
    let (status, body) = send(
        f.request(Method::POST, "/v1/threads")
            .header("content-type", "text/plain")
            .body("hi"),
    )
    .await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, None);
    let (status, body) = send(f.server.request(Method::GET, "/v1/threads")).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, None);
    assert_eq!(body["error"]["type"], "authentication_error");
    let (status, body) = f.get("/v1/nothing-here").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
    let (status, body) = send(f.request(Method::PUT, "/v1/threads")).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, None);
}

#[tokio::test]
async fn every_credential_header_form_works() {
    let f = freddy().await;
    let forms = [
        f.server
            .request(Method::GET, "/v1/threads")
            .header("X-API-Key", &f.key),
        f.server
            .request(Method::GET, "/v1/threads")
            .header("x-api-key", &f.key),
        f.server
            .request(Method::GET, "/v1/threads")
            .bearer_auth(&f.key),
        f.server
            .request(Method::GET, "/v1/threads")
            .header("authorization", format!("bearer {}", f.ada.token)),
    ];
    for request in forms {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn other_workspaces_are_not_found() {
    let f = freddy().await;
    let thread = f.create(json!({ "title": "private" })).await;
    let id = thread["id"].as_str().unwrap();
    let eve = f.server.account("eve@example.com").await;
    let eve_key = f.server.api_key(&eve).await;
    let requests = [
        (Method::GET, format!("/v1/threads/{id}"), None),
        (
            Method::PATCH,
            format!("/v1/threads/{id}"),
            Some(json!({ "title": "mine" })),
        ),
        (Method::DELETE, format!("/v1/threads/{id}"), None),
        (Method::POST, format!("/v1/threads/{id}/pin"), None),
        (Method::POST, format!("/v1/threads/{id}/unpin"), None),
        (Method::GET, format!("/v1/threads/{id}/messages"), None),
        (
            Method::POST,
            format!("/v1/threads/{id}/messages"),
            Some(json!({ "content": "hi" })),
        ),
        (
            Method::GET,
            format!("/v1/threads?organization_id={}", org(&f.ada)),
            None,
        ),
        (
            Method::POST,
            format!("/v1/threads/{id}/runs"),
            Some(json!({ "content": "hi" })),
        ),
        (
            Method::POST,
            format!("/v1/threads/{id}/generate-name"),
            None,
        ),
    ];
    for (method, path, body) in requests {
        for credential in [eve_key.as_str(), eve.token.as_str()] {
            let mut request = f
                .server
                .request(method.clone(), &path)
                .bearer_auth(credential);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let (status, answer) = send(request).await;
            assert_error(status, &answer, StatusCode::NOT_FOUND, None);
        }
    }
    let (_, list) = send(
        f.server
            .request(Method::GET, "/v1/threads")
            .bearer_auth(&eve_key),
    )
    .await;
    assert_eq!(list["data"], json!([]));
    let (status, _) = f.get(&format!("/v1/threads/{id}")).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_thread_through_three_dialects() {
    let f = freddy().await;
    let assistant = uuid(&agent(&f.server, &f.ada, json!({ "name": "Helper" })).await);
    let created = f
        .create(json!({
            "assistant_id": format!("asst_{}", hex(&assistant)),
            "title": "Shared",
            "metadata": { "source": "freddy" },
        }))
        .await;
    let thrd = created["id"].as_str().unwrap();
    let thread = uuid::Uuid::try_parse(&thrd["thrd_".len()..])
        .unwrap()
        .to_string();

    let added = message(
        &f.server,
        &f.key,
        &thread,
        json!({ "content": "from athena" }),
    )
    .await;

    let (status, thena) = send(
        f.server
            .request(
                Method::GET,
                &format!("/api/v1/chat/{assistant}/threads/{thread}"),
            )
            .header("x-api-key", &f.key),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{thena}");
    assert_eq!(thena["id"], thread);
    assert_eq!(thena["title"], "Shared");
    assert_eq!(thena["metadata"], json!({ "source": "freddy" }));
    assert_eq!(thena["agent_id"], assistant);
    assert_eq!(thena["organization_id"], f.ada.workspace.to_string());
    assert_eq!(thena["user_id"], f.ada.user.uuid.to_string());
    assert_eq!(thena["messages"][0]["id"], uuid(&added));
    assert_eq!(thena["messages"][0]["content"], "from athena");
    assert_eq!(thena["messages"][0]["content_html"], added["content_html"]);

    let (_, athena) = send(f.server.get(&format!("/api/v1/threads/{thread}"), &f.key)).await;
    assert_eq!(athena["data"]["name"], "Shared");
    assert_eq!(athena["data"]["message_count"], 1);
    let (_, freddy) = f.get(&format!("/v1/threads/{thrd}")).await;
    assert_eq!(freddy["message_count"], 1);
    assert_eq!(
        freddy["last_message_at"].as_str().unwrap()[..19],
        athena["data"]["last_message_at"].as_str().unwrap()[..19]
    );
    let (_, messages) = f.get(&format!("/v1/threads/{thrd}/messages")).await;
    assert_eq!(
        messages["data"][0]["id"],
        format!("msg_{}", hex(&uuid(&added)))
    );
    assert_eq!(messages["data"][0]["content"], "from athena");
}

#[tokio::test]
async fn a_run_answers_in_the_thread() {
    let f = freddy().await;
    let thread = f.create(json!({ "title": "Ask" })).await;
    let id = thread["id"].as_str().unwrap();
    let (status, run) = f
        .post(
            &format!("/v1/threads/{id}/runs"),
            json!({ "content": "Tell me about keyset paging", "metadata": { "k": "v" } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["object"], "thread.run");
    assert!(run["id"].as_str().unwrap().starts_with("run_"), "{run}");
    assert_eq!(run["thread_id"], id);
    assert_eq!(run["status"], "completed");
    assert_eq!(run["model"], "echo");
    assert!(run["usage"]["total_tokens"].is_u64(), "{run}");
    let reply = &run["message"];
    assert_eq!(reply["object"], "thread.message");
    assert_eq!(reply["role"], "assistant");
    assert_eq!(reply["id"], run["message_id"]);
    assert!(!reply["content"].as_str().unwrap().is_empty(), "{run}");
    assert_eq!(reply["run_id"], run["id"], "the reply names its run: {run}");

    let (_, after) = f.get(&format!("/v1/threads/{id}")).await;
    assert_eq!(after["status"], "inactive");
    assert_eq!(after["message_count"], 2);
    assert_eq!(after["last_model_used"], "echo");
    let (_, messages) = f.get(&format!("/v1/threads/{id}/messages")).await;
    let roles: Vec<_> = messages["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, [json!("user"), json!("assistant")]);
    assert_eq!(messages["data"][0]["metadata"]["k"], "v");

    // Streamed: the same run, as events in freddy's shapes.
    let response = f
        .request(Method::POST, &format!("/v1/threads/{id}/runs"))
        .json(&json!({ "content": "again", "stream": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("event:"))
        .map(str::trim)
        .collect();
    assert_eq!(names.first(), Some(&"run.created"), "{text}");
    assert_eq!(
        names[names.len() - 2..],
        ["run.completed", "done"],
        "{text}"
    );
    assert!(text.contains("\"object\":\"thread.run\""), "{text}");
    assert!(text.contains("\"object\":\"thread.message\""), "{text}");

    let (status, body) = f
        .post(
            &format!("/v1/threads/{id}/runs"),
            json!({ "model": "nope" }),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("model"),
    );
    let (status, body) = f
        .post(
            &format!("/v1/threads/{id}/runs"),
            json!({ "temperature": 3 }),
        )
        .await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("temperature"),
    );
}

#[tokio::test]
async fn generate_name_titles_the_thread() {
    let f = freddy().await;
    let thread = f.create(json!({})).await;
    let id = thread["id"].as_str().unwrap();
    let path = format!("/v1/threads/{id}/generate-name");
    let (status, body) = send(f.request(Method::POST, &path)).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY, None);
    let (status, _) = f
        .post(
            &format!("/v1/threads/{id}/messages"),
            json!({ "content": "Planning a trip to Lisbon in May" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, named) = send(f.request(Method::POST, &path)).await;
    assert_eq!(status, StatusCode::OK, "{named}");
    assert_eq!(named["id"], id);
    let title = named["title"].as_str().expect("a title");
    assert!(!title.is_empty() && title.chars().count() <= 200, "{title}");
    assert!(!title.starts_with('"'), "{title}");
    let (_, read) = f.get(&format!("/v1/threads/{id}")).await;
    assert_eq!(read["title"], title);
}

#[tokio::test]
async fn a_run_is_read_followed_and_cancelled_by_its_freddy_id() {
    let f = freddy().await;
    let thread = f.create(json!({})).await;
    let id = thread["id"].as_str().unwrap();
    let text = f
        .request(Method::POST, &format!("/v1/threads/{id}/runs"))
        .json(&json!({ "content": "one two", "stream": true }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first = crate::runs::parse_sse(&text);
    let run: Value = serde_json::from_str(&first[0].data).unwrap();
    let run_id = run["id"].as_str().unwrap();
    assert!(run_id.starts_with("run_"), "{run}");

    let (status, read) = f.get(&format!("/v1/threads/{id}/runs/{run_id}")).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(
        (read["id"].as_str(), read["status"].as_str()),
        (Some(run_id), Some("completed"))
    );
    let events = format!("/v1/threads/{id}/runs/{run_id}/events");
    for last in 0..first.len() as u64 {
        let resumed = f
            .request(Method::GET, &events)
            .header("Last-Event-ID", last.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resumed.status(), StatusCode::OK);
        let resumed = crate::runs::parse_sse(&resumed.text().await.unwrap());
        assert_eq!(resumed, first[last as usize..], "after {last}");
    }
    // Raw UUIDs too; a finished run's cancel leaves it as it is.
    let raw = run_id.strip_prefix("run_").unwrap();
    let (status, cancelled) = f
        .post(&format!("/v1/threads/{id}/runs/{raw}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "completed");
    // Under another thread the run is not found.
    let other = f.create(json!({})).await;
    let (status, body) = f
        .get(&format!(
            "/v1/threads/{}/runs/{run_id}",
            other["id"].as_str().unwrap()
        ))
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, None);
}
