//! The OpenAPI document says what the server does: athena's operations are
//! well-formed (unique operation ids, parameters where they are, the shared
//! answers declared), and real answers fit the schemas declared for them.

use crate::{TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

pub(crate) fn document() -> Value {
    serde_json::to_value(spool_http::openapi::document()).expect("the document serialises")
}

/// athena's operations and the ops endpoints (thena and freddy document
/// themselves): `(method, path, operation)`.
fn athena_operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let athena = path.starts_with("/api/v1/") && !path.starts_with("/api/v1/chat/");
        if !athena && !["/healthz", "/readyz"].contains(&path.as_str()) {
            continue;
        }
        for (method, operation) in item.as_object().expect("path item") {
            found.push((method.clone(), path.clone(), operation.clone()));
        }
    }
    found
}

#[test]
fn athena_operations_are_well_formed() {
    let doc = document();
    let operations = athena_operations(&doc);
    assert_eq!(operations.len(), 75, "73 athena operations and 2 ops");
    let mut ids = HashSet::new();
    for (method, path, operation) in &operations {
        let at = format!("{method} {path}");
        let id = operation["operationId"].as_str().expect("an operationId");
        assert!(ids.insert(id.to_owned()), "{at}: operationId {id} twice");
        assert!(
            id.starts_with("athena_") || id.starts_with("ops_"),
            "{at}: {id}"
        );
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let in_path: HashSet<&str> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let templated: HashSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        assert_eq!(in_path, templated, "{at}: path parameters");
        // Outside the path only the thread of a message list is required.
        for parameter in &parameters {
            let optional = parameter["in"] != "path"
                && !(path == "/api/v1/messages" && parameter["name"] == "thread_uuid");
            if optional {
                assert_ne!(parameter["required"], true, "{at}: {parameter}");
            }
        }
        let responses = operation["responses"].as_object().expect("responses");
        let authenticated = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        // A key is kept per credential: sign-in, which has none, keeps none.
        let keyed = parameters
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
        // An upload is never held, so never replayed (docs/files.md).
        let upload = path == "/api/v1/files";
        assert_eq!(
            keyed,
            method == "post" && authenticated && !upload,
            "{at}: Idempotency-Key"
        );
        if keyed {
            for status in ["409", "413", "422"] {
                assert!(responses.contains_key(status), "{at}: {status}");
            }
        }
        if authenticated {
            for status in ["401", "429"] {
                assert!(responses.contains_key(status), "{at}: {status}");
            }
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{at}: {status}");
            }
        }
        if !in_path.is_empty() {
            assert!(responses.contains_key("404"), "{at}: 404");
        }
        for (status, response) in responses {
            if status.starts_with('4') {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                let expected = if status == "422" {
                    "#/components/schemas/AthenaValidationError"
                } else {
                    "#/components/schemas/AthenaError"
                };
                assert_eq!(schema, expected, "{at}: {status}");
            }
        }
    }
    // Every schema athena's operations reach has an athena name.
    let mut seen = HashSet::new();
    let mut pending: Vec<Value> = operations.iter().map(|(_, _, op)| op.clone()).collect();
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let name = reference.trim_start_matches("#/components/schemas/");
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
    for name in &seen {
        assert!(
            name.starts_with("Athena") || ["Health", "Readiness"].contains(&name.as_str()),
            "{name}"
        );
    }
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .expect("a local schema reference");
            let found = &doc["components"]["schemas"][name];
            assert!(!found.is_null(), "{reference} is not in the document");
            resolve(doc, found)
        }
        None => schema,
    }
}

fn type_matches(name: &str, value: &Value) -> bool {
    match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown type {other}"),
    }
}

/// Whether `value` fits `schema`: the keywords the document uses for
/// answers (`$ref`, `type`, `enum`, `oneOf`, `anyOf`, `allOf`, `properties`,
/// `required`, `additionalProperties`, `items`, `minimum`, `maximum`).
pub(crate) fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    for part in schema["allOf"].as_array().into_iter().flatten() {
        conforms(doc, part, value, at)?;
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let fits = choices
            .iter()
            .filter(|choice| conforms(doc, choice, value, at).is_ok())
            .count();
        if fits != 1 {
            return Err(format!("{at}: {fits} of oneOf fit {value}"));
        }
    }
    if let Some(choices) = schema["anyOf"].as_array()
        && !choices
            .iter()
            .any(|choice| conforms(doc, choice, value, at).is_ok())
    {
        return Err(format!("{at}: no anyOf fits {value}"));
    }
    match &schema["type"] {
        Value::String(name) if !type_matches(name, value) => {
            return Err(format!("{at}: {value} is not {name}"));
        }
        Value::Array(names)
            if !names
                .iter()
                .any(|n| type_matches(n.as_str().unwrap(), value)) =>
        {
            return Err(format!("{at}: {value} is none of {names:?}"));
        }
        _ => {}
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {values:?}"));
    }
    if let (Some(minimum), Some(number)) = (schema["minimum"].as_f64(), value.as_f64())
        && number < minimum
    {
        return Err(format!("{at}: {number} < {minimum}"));
    }
    if let (Some(maximum), Some(number)) = (schema["maximum"].as_f64(), value.as_f64())
        && number > maximum
    {
        return Err(format!("{at}: {number} > {maximum}"));
    }
    if let Value::Object(fields) = value {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap();
            if !fields.contains_key(name) {
                return Err(format!("{at}: {name} is missing"));
            }
        }
        for (name, item) in fields {
            let here = format!("{at}.{name}");
            match properties.and_then(|p| p.get(name)) {
                Some(property) => conforms(doc, property, item, &here)?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("{here} is not in the schema")),
                    Value::Object(_) => {
                        conforms(doc, &schema["additionalProperties"], item, &here)?
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            conforms(doc, item_schema, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// Sends `request` and checks its answer against the schema the document
/// declares for `method path` and the status it answered.
pub(crate) async fn answer_fits(
    doc: &Value,
    method: &str,
    path: &str,
    request: reqwest::RequestBuilder,
) -> Value {
    let (status, body) = send(request).await;
    let operation = &doc["paths"][path][method];
    assert!(!operation.is_null(), "{method} {path} is not documented");
    let response = &operation["responses"][status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {path} answered {status}, which it does not declare: {body}"
    );
    if status != StatusCode::NO_CONTENT {
        let schema = &response["content"]["application/json"]["schema"];
        conforms(doc, schema, &body, "body")
            .unwrap_or_else(|problem| panic!("{method} {path} {status}: {problem}"));
    }
    body
}

#[tokio::test]
async fn athena_answers_fit_their_schemas() {
    let doc = document();
    let server = TestServer::start().await;
    let owner = server.account("ada@example.com").await;
    let key = server.api_key(&owner).await;
    let token = owner.token.as_str();
    let workspace = owner.workspace;

    let signed_in = answer_fits(
        &doc,
        "post",
        "/api/v1/auth/sign-in",
        server
            .request(Method::POST, "/api/v1/auth/sign-in")
            .json(&json!({ "email": "ada@example.com", "password": crate::PASSWORD })),
    )
    .await;
    let other_session = signed_in["data"]["token"].as_str().unwrap().to_owned();
    answer_fits(
        &doc,
        "get",
        "/api/v1/user",
        server.get("/api/v1/user", token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/user",
        server.request(Method::GET, "/api/v1/user"),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/workspaces",
        server.get("/api/v1/workspaces", token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/workspaces/{uuid}/members",
        server.get(&format!("/api/v1/workspaces/{workspace}/members"), token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/api-keys",
        server.get("/api/v1/api-keys", token),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/api-keys",
        server.post("/api/v1/api-keys", &key, json!({ "name": "from a key" })),
    )
    .await;

    let agent = answer_fits(
        &doc,
        "post",
        "/api/v1/agents",
        server.post(
            "/api/v1/agents",
            token,
            json!({ "name": "Helper", "metadata": { "role": "guide", "memory": true, "tier": 3 } }),
        ),
    )
    .await;
    let agent = agent["data"]["uuid"].as_str().unwrap().to_owned();
    answer_fits(
        &doc,
        "post",
        "/api/v1/agents/{uuid}/share",
        server.post(
            &format!("/api/v1/agents/{agent}/share"),
            token,
            json!({ "entity_type": "workspace", "entity_id": workspace.to_string(), "permission": "read" }),
        ),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/agents",
        server.get("/api/v1/agents", token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/large-language-models",
        server.get("/api/v1/large-language-models", &key),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/large-language-models/{uuid}",
        server.get("/api/v1/large-language-models/echo", &key),
    )
    .await;

    let thread = answer_fits(
        &doc,
        "post",
        "/api/v1/threads",
        server.post(
            "/api/v1/threads",
            token,
            json!({ "name": "Plans", "agent_uuid": agent, "metadata": { "tier": "gold" } }),
        ),
    )
    .await;
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    answer_fits(
        &doc,
        "post",
        "/api/v1/messages",
        server.post(
            "/api/v1/messages",
            token,
            json!({ "thread_uuid": thread, "content": "Hello **there**", "metadata": { "k": [1] } }),
        ),
    )
    .await;
    let ran = answer_fits(
        &doc,
        "post",
        "/api/v1/threads/{uuid}/run",
        server.post(
            &format!("/api/v1/threads/{thread}/run"),
            &key,
            json!({ "content": "And again", "temperature": 0.5 }),
        ),
    )
    .await;
    let run = ran["run"]["uuid"].as_str().unwrap().to_owned();
    answer_fits(
        &doc,
        "post",
        "/api/v1/agents/{uuid}/run",
        server.post(
            &format!("/api/v1/agents/{agent}/run"),
            token,
            json!({ "content": "Hi" }),
        ),
    )
    .await;
    for path in [
        "/api/v1/threads?per_page=2&metadata[tier]=gold".to_owned(),
        "/api/v1/threads?cursor=&per_page=1".to_owned(),
        format!("/api/v1/messages?thread_uuid={thread}"),
        format!("/api/v1/messages?thread_uuid={thread}&cursor=&per_page=1"),
    ] {
        let template = path.split('?').next().unwrap();
        answer_fits(&doc, "get", template, server.get(&path, token)).await;
    }
    answer_fits(
        &doc,
        "get",
        "/api/v1/threads/{uuid}/runs",
        server.get(&format!("/api/v1/threads/{thread}/runs?cursor="), token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/threads/{uuid}/runs",
        server.get(&format!("/api/v1/threads/{thread}/runs"), token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/runs/{uuid}",
        server.get(&format!("/api/v1/runs/{run}"), token),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/runs/{uuid}/cancel",
        server.post(&format!("/api/v1/runs/{run}/cancel"), token, json!({})),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/threads/{uuid}/pin",
        server.post(&format!("/api/v1/threads/{thread}/pin"), token, json!({})),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/threads/{uuid}",
        server.get(&format!("/api/v1/threads/{thread}"), token),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/metrics/messages",
        server.get("/api/v1/metrics/messages?period=week", token),
    )
    .await;
    answer_fits(
        &doc,
        "put",
        "/api/v1/threads/{uuid}",
        server
            .request(Method::PUT, &format!("/api/v1/threads/{thread}"))
            .bearer_auth(token)
            .json(&json!({ "name": "x".repeat(201) })),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/threads",
        server
            .request(Method::POST, "/api/v1/threads")
            .bearer_auth(token)
            .body("{"),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/workspaces",
        server.post(
            "/api/v1/workspaces",
            &key,
            json!({ "name": "Not by a key" }),
        ),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/api/v1/agents/{uuid}",
        server.get("/api/v1/agents/not-a-uuid", token),
    )
    .await;
    answer_fits(
        &doc,
        "post",
        "/api/v1/auth/logout",
        server.post("/api/v1/auth/logout", &other_session, json!({})),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/healthz",
        server.request(Method::GET, "/healthz"),
    )
    .await;
    answer_fits(
        &doc,
        "get",
        "/readyz",
        server.request(Method::GET, "/readyz"),
    )
    .await;
}
