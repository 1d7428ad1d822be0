//! Who may see what (DESIGN §3): another workspace's ids are 404 on every
//! endpoint, members see only their own threads, shares and visibility
//! decide who may read, use or change an agent.

use crate::fixtures::{agent, agent_in, assert_not_found, message, put, thread, thread_in, uuid};
use crate::{TestServer, send};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

/// Every thread, message and agent endpoint that takes an id, as `token`;
/// `query` (`?workspace_uuid=...`) is appended to each path.
fn requests_on(
    server: &TestServer,
    token: &str,
    thread: &str,
    message: &str,
    agent: &str,
    share_with: &str,
    query: &str,
) -> Vec<(String, RequestBuilder)> {
    let auth = |method: Method, path: String| {
        let path = match query.strip_prefix('?') {
            Some(rest) if path.contains('?') => format!("{path}&{rest}"),
            _ => format!("{path}{query}"),
        };
        (
            format!("{method} {path}"),
            server.request(method, &path).bearer_auth(token),
        )
    };
    let with_body =
        |(what, request): (String, RequestBuilder), body: Value| (what, request.json(&body));
    vec![
        auth(Method::GET, format!("/api/v1/threads/{thread}")),
        with_body(
            auth(Method::PUT, format!("/api/v1/threads/{thread}")),
            json!({ "name": "taken over" }),
        ),
        auth(Method::POST, format!("/api/v1/threads/{thread}/pin")),
        auth(Method::POST, format!("/api/v1/threads/{thread}/unpin")),
        auth(Method::DELETE, format!("/api/v1/threads/{thread}")),
        auth(
            Method::GET,
            format!("/api/v1/messages?thread_uuid={thread}"),
        ),
        with_body(
            auth(
                Method::POST,
                format!("/api/v1/messages?thread_uuid={thread}"),
            ),
            json!({ "content": "sneaked in" }),
        ),
        auth(Method::GET, format!("/api/v1/messages/{message}")),
        with_body(
            auth(Method::PUT, format!("/api/v1/messages/{message}")),
            json!({ "content": "rewritten" }),
        ),
        auth(Method::DELETE, format!("/api/v1/messages/{message}")),
        auth(Method::GET, format!("/api/v1/agents/{agent}")),
        with_body(
            auth(Method::PUT, format!("/api/v1/agents/{agent}")),
            json!({ "name": "taken over" }),
        ),
        with_body(
            auth(Method::POST, format!("/api/v1/agents/{agent}/share")),
            json!({ "entity_type": "workspace", "entity_id": share_with, "permission": "write" }),
        ),
        auth(Method::DELETE, format!("/api/v1/agents/{agent}")),
    ]
}

#[tokio::test]
async fn another_workspaces_ids_answer_404_on_every_endpoint() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let eve_key = server.api_key(&eve).await;
    let ada_agent = uuid(
        &agent(
            &server,
            &ada,
            json!({ "name": "Ada's", "visibility": "workspace" }),
        )
        .await,
    );
    let ada_thread = thread_in(
        &server,
        &ada.token,
        &ada.workspace.to_string(),
        json!({ "name": "Ada's thread", "agent_uuid": ada_agent }),
    )
    .await;
    let ada_thread = uuid(&ada_thread);
    let ada_message = uuid(
        &message(
            &server,
            &ada.token,
            &ada_thread,
            json!({ "content": "private" }),
        )
        .await,
    );
    let eve_workspace = eve.workspace.to_string();

    for token in [&eve.token, &eve_key] {
        let requests = requests_on(
            &server,
            token,
            &ada_thread,
            &ada_message,
            &ada_agent,
            &eve_workspace,
            "",
        );
        for (what, request) in requests {
            let (status, body) = send(request).await;
            assert_not_found(status, &body, &what);
        }
    }
    // Naming Ada's workspace does not help: it is not Eve's to use.
    let requests = requests_on(
        &server,
        &eve.token,
        &ada_thread,
        &ada_message,
        &ada_agent,
        &eve_workspace,
        &format!("?workspace_uuid={}", ada.workspace),
    );
    for (what, request) in requests {
        let (status, body) = send(request).await;
        assert_not_found(status, &body, &what);
    }
    for path in [
        format!("/api/v1/threads?workspace_uuid={}", ada.workspace),
        format!("/api/v1/agents?workspace_uuid={}", ada.workspace),
        format!("/api/v1/metrics/threads?workspace_uuid={}", ada.workspace),
    ] {
        let (status, body) = send(server.get(&path, &eve.token)).await;
        assert_not_found(status, &body, &path);
        let (status, body) = send(server.post(&path, &eve.token, json!({ "name": "x" }))).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {status} {body}"
        );
    }

    // Eve's own lists do not show Ada's things.
    let (_, threads) = send(server.get("/api/v1/threads", &eve.token)).await;
    assert_eq!(threads["meta"]["total"], 0, "{threads}");
    let (_, agents) = send(server.get("/api/v1/agents", &eve_key)).await;
    assert_eq!(agents["meta"]["total"], 0, "{agents}");

    // And nothing of Ada's changed.
    let (status, body) =
        send(server.get(&format!("/api/v1/threads/{ada_thread}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Ada's thread");
    assert_eq!(body["data"]["is_pinned"], false);
    assert_eq!(body["data"]["message_count"], 1);
    let (_, body) = send(server.get(&format!("/api/v1/messages/{ada_message}"), &ada.token)).await;
    assert_eq!(body["data"]["content"], "private");
    let (_, body) = send(server.get(&format!("/api/v1/agents/{ada_agent}"), &ada.token)).await;
    assert_eq!(body["data"]["name"], "Ada's");
    assert_eq!(body["data"]["shares"], json!([]));
}

#[tokio::test]
async fn members_see_only_their_own_threads_owners_and_keys_see_all() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let carol = server.member(&ada, "carol@example.com", "member").await;
    let key = server.api_key(&ada).await;
    let carols = uuid(&thread_in(&server, &carol, &workspace, json!({ "name": "Carol's" })).await);
    let carols_message =
        uuid(&message(&server, &carol, &carols, json!({ "content": "mine" })).await);
    let bobs = uuid(&thread_in(&server, &bob, &workspace, json!({ "name": "Bob's" })).await);
    let query = format!("?workspace_uuid={workspace}");

    let requests = requests_on(
        &server,
        &bob,
        &carols,
        &carols_message,
        "",
        &workspace,
        &query,
    );
    for (what, request) in requests
        .into_iter()
        .filter(|(what, _)| !what.contains("/agents"))
    {
        let (status, body) = send(request).await;
        assert_not_found(status, &body, &what);
    }
    let list = format!("/api/v1/threads{query}");
    let (_, page) = send(server.get(&list, &bob)).await;
    assert_eq!(crate::fixtures::uuids(&page), [bobs.as_str()], "{page}");

    // The owner and an API key see, change and delete every thread.
    for token in [&ada.token, &key] {
        let (_, page) = send(server.get(&list, token)).await;
        let mut seen = crate::fixtures::uuids(&page);
        seen.sort();
        let mut both = vec![carols.clone(), bobs.clone()];
        both.sort();
        assert_eq!(seen, both, "{page}");
        let (status, body) =
            send(server.get(&format!("/api/v1/threads/{carols}{query}"), token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let messages = format!("/api/v1/messages?thread_uuid={carols}&workspace_uuid={workspace}");
        let (status, body) = send(server.get(&messages, token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(crate::fixtures::uuids(&body), [carols_message.as_str()]);
    }
    let (status, body) = send(put(
        &server,
        &format!("/api/v1/threads/{carols}{query}"),
        &ada.token,
        json!({ "name": "Renamed by the owner" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(put(
        &server,
        &format!("/api/v1/messages/{carols_message}"),
        &key,
        json!({ "content": "edited by a key" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(crate::fixtures::delete(
        &server,
        &format!("/api/v1/threads/{bobs}"),
        &key,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = send(crate::fixtures::delete(
        &server,
        &format!("/api/v1/threads/{carols}{query}"),
        &ada.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

#[tokio::test]
async fn an_agent_shared_read_only_is_usable_but_not_editable() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let frank = server.account("frank@example.com").await;
    let shared = uuid(
        &agent(
            &server,
            &ada,
            json!({ "name": "Shared", "visibility": "workspace" }),
        )
        .await,
    );
    let path = format!("/api/v1/agents/{shared}");
    let (status, body) = send(server.post(
        &format!("{path}/share"),
        &ada.token,
        json!({ "entity_type": "workspace", "entity_id": eve.workspace.to_string(), "permission": "read" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = send(server.get(&path, &eve.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["is_owner"], false);
    let (_, list) = send(server.get("/api/v1/agents", &eve.token)).await;
    assert_eq!(crate::fixtures::uuids(&list), [shared.as_str()], "{list}");
    let used = thread_in(
        &server,
        &eve.token,
        &eve.workspace.to_string(),
        json!({ "name": "With a borrowed agent", "agent_uuid": shared }),
    )
    .await;
    assert_eq!(used["agent"]["uuid"], shared);
    assert_eq!(used["workspace_uuid"], eve.workspace.to_string());

    for request in [
        put(&server, &path, &eve.token, json!({ "name": "Mine now" })),
        put(&server, &path, &eve.token, json!({ "visibility": "public" })),
        crate::fixtures::delete(&server, &path, &eve.token),
        server.post(
            &format!("{path}/share"),
            &eve.token,
            json!({ "entity_type": "workspace", "entity_id": frank.workspace.to_string(), "permission": "read" }),
        ),
    ] {
        let (status, body) = send(request).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(body["message"].is_string(), "{body}");
    }
    let (_, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(body["data"]["name"], "Shared");
    assert_eq!(body["data"]["shares"].as_array().unwrap().len(), 1);

    // A workspace it was not shared with does not see it at all.
    let (status, body) = send(server.get(&path, &frank.token)).await;
    assert_not_found(status, &body, "unshared agent");
    let (status, body) = send(server.post(
        "/api/v1/threads",
        &frank.token,
        json!({ "name": "t", "agent_uuid": shared }),
    ))
    .await;
    crate::assert_invalid(status, &body, "agent_uuid");
}

#[tokio::test]
async fn a_private_agent_is_seen_by_its_creator_and_not_by_other_members() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let workspace = ada.workspace.to_string();
    let bob = server.member(&ada, "bob@example.com", "member").await;
    let carol = server.member(&ada, "carol@example.com", "member").await;
    let private = uuid(
        &agent_in(
            &server,
            &bob,
            &workspace,
            json!({ "name": "Bob's secret", "visibility": "private" }),
        )
        .await,
    );
    let open = uuid(
        &agent_in(
            &server,
            &bob,
            &workspace,
            json!({ "name": "Bob's open", "visibility": "workspace" }),
        )
        .await,
    );
    let query = format!("?workspace_uuid={workspace}");
    let path = format!("/api/v1/agents/{private}{query}");

    let (status, body) = send(server.get(&path, &carol)).await;
    assert_not_found(status, &body, "a private agent to another member");
    let (status, body) = send(put(&server, &path, &carol, json!({ "name": "x" }))).await;
    assert_not_found(status, &body, "a private agent to another member");
    let (_, list) = send(server.get(&format!("/api/v1/agents{query}"), &carol)).await;
    assert_eq!(crate::fixtures::uuids(&list), [open.as_str()], "{list}");
    let (status, body) = send(server.post(
        &format!("/api/v1/threads{query}"),
        &carol,
        json!({ "name": "t", "agent_uuid": private }),
    ))
    .await;
    crate::assert_invalid(status, &body, "agent_uuid");

    for token in [&bob, &ada.token] {
        let (status, body) = send(server.get(&path, token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["visibility"], "private");
        let (_, list) = send(server.get(&format!("/api/v1/agents{query}"), token)).await;
        assert_eq!(list["meta"]["total"], 2, "{list}");
    }
    let (status, body) = send(server.get(&path, &bob)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["is_owner"], true);
}

#[tokio::test]
async fn no_credential_answers_401_everywhere() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let agent = uuid(&agent(&server, &ada, json!({ "name": "a" })).await);
    let thread = uuid(&thread(&server, &ada, "t").await);
    let message = uuid(&message(&server, &ada.token, &thread, json!({ "content": "m" })).await);
    let id = |p: &str| {
        p.replace("{agent}", &agent)
            .replace("{thread}", &thread)
            .replace("{message}", &message)
    };
    let endpoints = [
        (Method::GET, "/api/v1/agents"),
        (Method::POST, "/api/v1/agents"),
        (Method::GET, "/api/v1/agents/{agent}"),
        (Method::PUT, "/api/v1/agents/{agent}"),
        (Method::DELETE, "/api/v1/agents/{agent}"),
        (Method::POST, "/api/v1/agents/{agent}/share"),
        (Method::GET, "/api/v1/large-language-models"),
        (Method::GET, "/api/v1/large-language-models/echo"),
        (Method::GET, "/api/v1/threads"),
        (Method::POST, "/api/v1/threads"),
        (Method::GET, "/api/v1/threads/{thread}"),
        (Method::PUT, "/api/v1/threads/{thread}"),
        (Method::DELETE, "/api/v1/threads/{thread}"),
        (Method::POST, "/api/v1/threads/{thread}/pin"),
        (Method::POST, "/api/v1/threads/{thread}/unpin"),
        (Method::GET, "/api/v1/messages?thread_uuid={thread}"),
        (Method::POST, "/api/v1/messages?thread_uuid={thread}"),
        (Method::GET, "/api/v1/messages/{message}"),
        (Method::PUT, "/api/v1/messages/{message}"),
        (Method::DELETE, "/api/v1/messages/{message}"),
        (Method::GET, "/api/v1/metrics/threads"),
        (Method::GET, "/api/v1/metrics/messages"),
        (Method::GET, "/api/v1/metrics/agents"),
    ];
    for (method, path) in endpoints {
        let path = id(path);
        for credential in [None, Some("not-a-token"), Some("spk_not_a_key")] {
            let mut request = server
                .request(method.clone(), &path)
                .json(&json!({ "name": "x", "content": "x" }));
            if let Some(token) = credential {
                request = request.bearer_auth(token);
            }
            let (status, body) = send(request).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {credential:?}: {body}"
            );
            assert!(body["message"].is_string(), "{body}");
        }
    }
    // Nothing was changed by any of them.
    let (status, body) = send(server.get(&format!("/api/v1/threads/{thread}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["message_count"], 1);
}
