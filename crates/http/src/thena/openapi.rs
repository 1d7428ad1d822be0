//! thena's part of the OpenAPI document: its operations, and its schemas
//! under `Thena…` names so that no other dialect's shape stands in for them.
//! The one document (`crate::openapi`) merges it.

use super::error::{DetailBody, ValidationBody, ValidationIssue};
use super::{feedback, messages, runs, threads, wire};
use std::borrow::Cow;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{
    Content, HeaderBuilder, OpenApi as Document, Ref, RefOr, Required, ResponseBuilder,
};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        threads::create,
        threads::list,
        threads::show,
        threads::delete,
        messages::list,
        messages::send,
        runs::events,
        feedback::create,
        feedback::update,
    ),
    components(schemas(DetailBody, ValidationBody, ValidationIssue, wire::RunBody, wire::MessageDelta, super::ToolCallSchema, RunEvent, ThreadSort, Order)),
    tags((name = "thena", description = "Chat threads under an agent (`/api/v1/chat/{agent_id}/threads…`): plain UUIDs, timestamps in whole seconds, FastAPI error bodies.")),
    modifiers(&CommonResponses, &Closed)
)]
pub struct ThenaDoc;

/// `POST …/messages` 200: the reply, or its stream.
pub const SEND_REPLY: &str = "The agent's stored reply (a failed or cancelled run's partial one, `metadata.finish_reason` saying why).

With `stream: true` or `Accept: text/event-stream`: Server-Sent Events instead, each with an `id:` (its number in the run; `GET /api/v1/chat/{agent_id}/threads/{thread_id}/runs/{run_id}/events` with `Last-Event-ID` resumes after it, from any node, for as long as run events are kept) and an `event:` name: `run.created` (data: a `ThenaRun`), `message.created` (a `ThenaMessage`), `message.delta` (`{\"delta\": {\"content\": \"…\"}}`), `message.completed` (the stored `ThenaMessage`), then one of `run.completed`, `run.failed` or `run.cancelled` (a `ThenaRun`), and `done` (data `[DONE]`). Idle streams get a `: heartbeat` comment every 15 seconds.";

/// `GET …/runs/{run_id}/events` 200.
pub const FOLLOW_RUN: &str = "The run's events after `Last-Event-ID` (all of them without it), as Server-Sent Events exactly as the first stream sent them — the same `id:`, names and data, after a restart and from any node — then live until `done`. Idle streams get a `: heartbeat` comment every 15 seconds.";

/// `POST …/messages` 409.
pub const SEND_CONFLICT: &str = "The agent is still answering an earlier message (unless `multitask` is `interrupt` or `enqueue`), the run ended before any text (`detail` says why), or a request with this Idempotency-Key is still in progress.";

/// One Server-Sent Event of a run's stream as a client reads it (`id`,
/// `event`, `data`); `data` is JSON in Thena's shapes, `[DONE]` at the end.
pub struct RunEvent;

impl utoipa::PartialSchema for RunEvent {
    fn schema() -> RefOr<Schema> {
        let event = |names: &[&str], data: ObjectBuilder| -> Schema {
            ObjectBuilder::new()
                .property(
                    "id",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some("^[0-9]+$"))
                        .description(Some("The event's number in its run, for `Last-Event-ID`.")),
                )
                .required("id")
                .property(
                    "event",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some(names.iter().copied())),
                )
                .required("event")
                .property("data", data)
                .required("data")
                .into()
        };
        let json = |schema: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .extensions(Some(Extensions::from_iter([(
                    "contentSchema",
                    serde_json::json!({ "$ref": format!("#/components/schemas/{schema}") }),
                )])))
        };
        OneOfBuilder::new()
            .item(event(
                &[
                    "run.created",
                    "run.requires_action",
                    "run.completed",
                    "run.failed",
                    "run.cancelled",
                ],
                json("ThenaRun"),
            ))
            .item(event(
                &["tool_call.created", "tool_call.completed"],
                json("ThenaToolCall"),
            ))
            .item(event(
                &["message.created", "message.completed"],
                json("ThenaMessage"),
            ))
            .item(event(&["message.delta"], json("ThenaMessageDelta")))
            .item(event(
                &["done"],
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["[DONE]"])),
            ))
            .description(Some("One event of a run's stream."))
            .into()
    }
}

impl ToSchema for RunEvent {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ThenaRunEvent")
    }
}

/// A message's author.
#[derive(ToSchema)]
#[schema(as = ThenaRole, rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
    Tool,
}

#[derive(ToSchema)]
#[schema(as = ThenaFeedbackType, rename_all = "lowercase")]
pub enum FeedbackType {
    Positive,
    Negative,
}

/// What a message sent while the agent is still answering does: `reject`
/// (409, the default), `interrupt` the running reply, or `enqueue` after it.
#[derive(ToSchema)]
#[schema(as = ThenaMultitask, rename_all = "lowercase")]
pub enum Multitask {
    Reject,
    Interrupt,
    Enqueue,
}

/// A run's state.
#[derive(ToSchema)]
#[schema(as = ThenaRunStatus, rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    InProgress,
    /// Waiting for a client's tool outputs (`POST /api/v1/runs/{uuid}/tool-outputs`).
    RequiresAction,
    Completed,
    Failed,
    Cancelled,
}

#[derive(ToSchema)]
#[schema(as = ThenaThreadSort, rename_all = "snake_case")]
pub enum ThreadSort {
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(ToSchema)]
#[schema(as = ThenaOrder, rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

/// `GET /api/v1/chat/{agent_id}/threads`: read from the query pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct ThreadListParams {
    /// Threads per page.
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// The threads after this place: a page's `next_cursor`, or a thread id
    /// (placed by its current sort key; one that names no thread of the list
    /// answers 422). Not with `before`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    after: Option<String>,
    /// The threads before this place: a page's `prev_cursor`, or a thread id.
    /// Not with `after`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    before: Option<String>,
    /// Default `last_message_at` (a thread without messages by its creation).
    sort: Option<ThreadSort>,
    /// Default `desc`.
    order: Option<Order>,
    /// `metadata[key]=value`: only threads whose metadata has these values
    /// (at most 16).
    #[param(style = DeepObject, explode, value_type = Option<HashMap<String, String>>)]
    metadata: Option<String>,
}

/// `GET …/threads/{thread_id}/messages`: read from the query pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct MessageListParams {
    /// Messages per page (fewer when they pass `list_page_max_bytes`; at least one).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// The messages after this place: a page's `next_cursor`, the thread's
    /// `messages_next_cursor`, or a message id (one that names no message of
    /// the thread answers 422). Not with `before`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    after: Option<String>,
    /// The messages before this place: a page's `prev_cursor`, or a message id.
    /// Not with `after`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    before: Option<String>,
    /// Default `asc` (thread order).
    order: Option<Order>,
}

/// The `metadata` a client writes: at most 16 keys of at most 64
/// characters; a string value at most 512 characters, any other value's JSON
/// text too. `model`, `temperature`, `tokens`, `finish_reason` and
/// `run_uuid` are the server's on messages.
pub fn metadata_input() -> Schema {
    crate::openapi::metadata_input(
        "At most 16 keys of at most 64 characters; a string value at most 512 characters, any other value's JSON text too.",
    )
}

/// The answers every thena operation can give besides its own: no or a bad
/// credential, rate limits, an agent, thread or workspace out of reach (or
/// a malformed id), a parameter that is wrong; for bodies their size and
/// type; for POSTs the `Idempotency-Key` header and its answers.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut Document) {
        for (_, op, post) in crate::openapi::operations_mut(doc) {
            complete(op, post);
        }
    }
}

/// Answers list every key the server writes: each Thena object schema with
/// properties admits no others (request bodies say so already, from
/// `deny_unknown_fields`).
struct Closed;

impl Modify for Closed {
    fn modify(&self, doc: &mut Document) {
        crate::openapi::close_objects(doc, "Thena", &[]);
    }
}

fn complete(op: &mut Operation, post: bool) {
    let with_body = op.request_body.is_some();
    let mut add = |status: &str, description: &str, schema: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description, schema));
    };
    add(
        "401",
        "No credential, or an unknown, expired or revoked one: `Not authenticated`.",
        "ThenaError",
    );
    add(
        "404",
        "The agent, thread or message is out of the caller's reach or does not exist (also a malformed id), or the organization_id names a workspace the caller may not use.",
        "ThenaError",
    );
    add(
        "422",
        "A parameter or field is invalid; `loc` says where (`[\"query\", \"limit\"]`, `[\"body\", \"title\"]`, `[\"body\", 0]` for a body that is not JSON).",
        "ThenaValidationError",
    );
    if with_body {
        add(
            "413",
            "The request body is larger than the server's limit.",
            "ThenaError",
        );
        add(
            "415",
            "The request body must be JSON, sent with `Content-Type: application/json`.",
            "ThenaError",
        );
    }
    if post {
        add(
            "409",
            "A request with this Idempotency-Key is still in progress.",
            "ThenaError",
        );
        add(
            "413",
            "The request body is larger than the server's limit.",
            "ThenaError",
        );
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(idempotency_key());
    }
    let limited = ResponseBuilder::new()
        .description("Too many requests for this credential; retry after `Retry-After` seconds.")
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ThenaError"))),
        )
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .description(Some("Seconds until the credential may send again."))
                .build(),
        )
        .build();
    op.responses
        .responses
        .entry("429".to_owned())
        .or_insert(RefOr::T(limited));
}

fn error(description: &str, schema: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name(schema))),
            )
            .build(),
    )
}

/// `Idempotency-Key`: optional, 1–255 visible ASCII characters.
fn idempotency_key() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "The same key with the same request within 24 hours replays the first response (`Idempotent-Replayed: true`); with a different request it answers 422; while the first is still running, 409.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]([ -~]*[!-~])?$")),
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn document() -> serde_json::Value {
        serde_json::to_value(ThenaDoc::openapi()).expect("the document serialises")
    }

    #[test]
    fn every_operation_has_its_own_id_and_the_common_answers() {
        let doc = document();
        let mut ids = HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            assert!(
                path.starts_with("/api/v1/chat/{agent_id}/threads"),
                "{path}"
            );
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(
                    id.starts_with("thena_") && ids.insert(id.to_owned()),
                    "{id}"
                );
                assert_eq!(op["tags"], serde_json::json!(["thena"]));
                for status in ["200", "401", "404", "422", "429"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path} {status}"
                    );
                }
                let params = op["parameters"].as_array().unwrap();
                let keyed = params
                    .iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header");
                assert_eq!(keyed, method == "post", "{method} {path}");
                for param in params {
                    let name = param["name"].as_str().unwrap();
                    let in_path = path.contains(&format!("{{{name}}}"));
                    assert_eq!(param["in"] == "path", in_path, "{method} {path} {name}");
                    assert_eq!(param["required"] == true, in_path, "{method} {path} {name}");
                }
            }
        }
        assert_eq!(ids.len(), 9);
    }

    #[test]
    fn schemas_carry_thenas_names() {
        let doc = document();
        for name in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(name.starts_with("Thena"), "{name}");
        }
        for name in [
            "ThenaError",
            "ThenaValidationError",
            "ThenaThread",
            "ThenaMessage",
            "ThenaThreadList",
        ] {
            assert!(doc["components"]["schemas"].get(name).is_some(), "{name}");
        }
    }
}
