//! freddy's part of the OpenAPI document: its operations, and its schemas
//! under `Freddy…` names so that no other dialect's shape stands in for them.
//! The one document (`crate::openapi`) merges it.

use super::error::{ErrorBody, ErrorDetail};
use super::{messages, run_events, runs, threads};
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
        threads::update,
        threads::delete,
        threads::pin,
        threads::unpin,
        messages::list,
        messages::create,
        super::files::upload,
        super::files::list,
        super::files::show,
        super::files::content,
        super::files::delete,
        runs::create,
        run_events::show,
        run_events::cancel,
        run_events::events,
        run_events::submit_tool_outputs,
        runs::generate_name,
    ),
    components(schemas(ErrorBody, ErrorDetail, runs::RunObject, runs::MessageDelta, super::wire::ToolCallObject, RunEvent, ThreadSort, Order)),
    tags((name = "freddy", description = "OpenAI-style threads (`/v1/threads…`): ids with a type prefix (`thrd_`, `org_`, `usr_`, `asst_`, `msg_`, `run_`) and the 32 hex digits of a UUID — raw UUIDs are accepted on input —, timestamps in whole seconds, `{\"error\": {…}}` bodies.")),
    modifiers(&CommonResponses, &Closed)
)]
pub struct FreddyDoc;

/// `POST …/runs` 200: the run, or its stream.
pub const RUN_REPLY: &str = "The finished run with its stored reply (a failed or cancelled run keeps its partial one).

With `stream: true` or `Accept: text/event-stream`: Server-Sent Events instead, each with an `id:` (its number in the run; `GET /v1/threads/{thread_id}/runs/{run_id}/events` with `Last-Event-ID` resumes after it, from any node, for as long as run events are kept) and an `event:` name: `run.created` (data: a `FreddyRun`), `message.created` (a `FreddyMessage`), `message.delta` (`{\"delta\": {\"content\": \"…\"}}`), `message.completed` (the stored `FreddyMessage`); a step that calls tools then sends `tool_call.created` (a `FreddyToolCall`) per call, `run.requires_action` (a `FreddyRun` with its `required_action`) when the client must answer some, `tool_call.completed` per result, and the next step's `message.created`…; at the end one of `run.completed`, `run.failed` or `run.cancelled` (a `FreddyRun`), and `done` (data `[DONE]`). Idle streams get a `: heartbeat` comment every 15 seconds.";

/// `GET …/runs/{run_id}/events` 200.
pub const FOLLOW_RUN: &str = "The run's events after `Last-Event-ID` (all of them without it), as Server-Sent Events exactly as the first stream sent them — the same `id:`, names and data, after a restart and from any node — then live until `done`. Idle streams get a `: heartbeat` comment every 15 seconds.";

/// `{run_id}` of the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct RunIdParam {
    /// `run_…` or a UUID: a run of the thread; another (or a malformed id) answers 404.
    #[param(
        pattern = "^(run_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    run_id: String,
}

/// `POST …/runs` 409.
pub const RUN_CONFLICT: &str = "A run of the thread is still active (unless `multitask` is `interrupt` or `enqueue`), or a request with this Idempotency-Key is still in progress.";

/// One Server-Sent Event of a run's stream as a client reads it (`id`,
/// `event`, `data`); `data` is JSON in Freddy's shapes, `[DONE]` at the end.
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
                json("FreddyRun"),
            ))
            .item(event(
                &["tool_call.created", "tool_call.completed"],
                json("FreddyToolCall"),
            ))
            .item(event(
                &["message.created", "message.completed"],
                json("FreddyMessage"),
            ))
            .item(event(&["message.delta"], json("FreddyMessageDelta")))
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
        Cow::Borrowed("FreddyRunEvent")
    }
}

/// A message's author.
#[derive(ToSchema)]
#[schema(as = FreddyRole, rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
    Tool,
}

/// `active` while a run of the thread is in progress.
#[derive(ToSchema)]
#[schema(as = FreddyThreadStatus, rename_all = "lowercase")]
pub enum ThreadStatus {
    Inactive,
    Active,
}

/// A run's state.
#[derive(ToSchema)]
#[schema(as = FreddyRunStatus, rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    InProgress,
    /// Waiting for the client's tool outputs (`…/submit_tool_outputs`).
    RequiresAction,
    Completed,
    Failed,
    Cancelled,
}

/// What a run started while another is active does: `reject` (409, the
/// default), `interrupt` the active one, or `enqueue` after it.
#[derive(ToSchema)]
#[schema(as = FreddyMultitask, rename_all = "lowercase")]
pub enum Multitask {
    Reject,
    Interrupt,
    Enqueue,
}

#[derive(ToSchema)]
#[schema(as = FreddyThreadSort, rename_all = "snake_case")]
pub enum ThreadSort {
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(ToSchema)]
#[schema(as = FreddyOrder, rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

/// An error's kind.
#[derive(ToSchema)]
#[schema(as = FreddyErrorType, rename_all = "snake_case")]
pub enum ErrorType {
    InvalidRequestError,
    AuthenticationError,
    PermissionError,
    NotFoundError,
    ConflictError,
    RateLimitError,
    ServerError,
}

/// `{thread_id}` of the path.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct ThreadIdParam {
    /// `thrd_…` or a UUID; one out of reach (or malformed) answers 404.
    #[param(
        pattern = "^(thrd_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    thread_id: String,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct FileIdParam {
    /// `file_…` or a UUID; one out of reach (or malformed) answers 404.
    #[param(
        pattern = "^(file_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    file_id: String,
}

/// `GET /v1/files`: read from the query pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct FileListParams {
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
    /// `next_cursor` of the page before.
    #[param(pattern = "^([0-9a-fA-F]{2})*$")]
    after: Option<String>,
}

/// `GET /v1/threads`: read from the query pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct ThreadListParams {
    /// Threads per page (with `search`: the best this many).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// The threads after this place: a list's `next_cursor`, or a thread id
    /// (`thrd_…` or a UUID, placed by its current sort key; one that names no
    /// thread of the list answers 422). Not with `before`; with `search`, only
    /// the search's `next_cursor`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|thrd_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    after: Option<String>,
    /// The threads before this place: a list's `prev_cursor`, or a thread id.
    /// Not with `after`; with `search`, only the search's `prev_cursor`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|thrd_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    before: Option<String>,
    /// Only the threads of this assistant (`asst_…` or a UUID).
    #[param(
        pattern = "^(asst_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    assistant_id: Option<String>,
    /// Only pinned (`true`) or unpinned (`false`) threads.
    pinned: Option<bool>,
    /// Full text over titles and messages, best match first, paged by the
    /// search's own cursors.
    #[param(max_length = 500)]
    search: Option<String>,
    /// Default `last_message_at` (a thread without messages by its creation).
    sort: Option<ThreadSort>,
    /// Default `desc`.
    order: Option<Order>,
    /// `metadata[key]=value`: only threads whose metadata has these values
    /// (at most 16).
    #[param(style = DeepObject, explode, value_type = Option<HashMap<String, String>>)]
    metadata: Option<String>,
}

/// `GET …/messages`: read from the query pairs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "only described in the OpenAPI document")]
pub struct MessageListParams {
    /// Messages per page (fewer when they pass `list_page_max_bytes`; at least one).
    #[param(minimum = 1, maximum = 100, default = 20)]
    limit: Option<u32>,
    /// The messages after this place: a list's `next_cursor`, or a message
    /// id (`msg_…` or a UUID; one that names no message of the thread
    /// answers 422). Not with `before`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|msg_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    after: Option<String>,
    /// The messages before this place: a list's `prev_cursor`, or a message
    /// id. Not with `after`.
    #[param(
        pattern = "^(((2d)?(3[0-9]){1,18}2e(3[0-9]|4[1-6]|6[1-6]){32}|msg_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}))?$"
    )]
    before: Option<String>,
    /// Default `asc` (thread order).
    order: Option<Order>,
}

/// The `metadata` a client writes, within the limits of `validate`.
pub fn metadata_input() -> Schema {
    crate::openapi::metadata_input(
        "At most 16 keys of at most 64 characters; a string value at most 512 characters, any other value's JSON text too. Each one past answers 422 with `param` naming it (`metadata`, `metadata.<key>`). On messages `model`, `temperature`, `tokens`, `finish_reason` and `run_uuid` are the server's.",
    )
}

/// The answers every freddy operation can give besides its own: no or a
/// bad credential, rate limits, a thread, assistant or organization out of
/// reach (or a malformed id), a parameter that is wrong; for bodies their
/// syntax, size and type; for POSTs the `Idempotency-Key` header and its
/// answers.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, doc: &mut Document) {
        for (path, op, post) in crate::openapi::operations_mut(doc) {
            // An upload is never held, so not keyed (docs/files.md).
            let keyed = post && path != "/v1/files";
            complete(op, keyed);
        }
    }
}

/// Answers list every key the server writes: each Freddy object schema with
/// properties admits no others (request bodies say so already, from
/// `deny_unknown_fields`). `FreddyRun` stays open: `FreddyRunResult`
/// is it and `message`, an `allOf` that a closed part would refuse.
struct Closed;

impl Modify for Closed {
    fn modify(&self, doc: &mut Document) {
        crate::openapi::close_objects(doc, "Freddy", &["FreddyRun"]);
    }
}

fn complete(op: &mut Operation, post: bool) {
    let with_body = op.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    };
    add(
        "401",
        "No credential, or an unknown, expired or revoked one (`authentication_error`, `invalid_api_key`).",
    );
    add(
        "404",
        "The thread or message is out of the caller's reach or does not exist (also a malformed id in the path), or `organization_id` names a workspace the caller may not use (`not_found_error`, `resource_not_found`).",
    );
    add(
        "422",
        "A parameter or field is invalid (`invalid_request_error`, `missing_required_field` or `invalid_value`); `param` names it.",
    );
    if with_body {
        add(
            "400",
            "The request body is not JSON (`invalid_request_error`, `invalid_json`).",
        );
        add(
            "413",
            "The request body is larger than the server's limit (`payload_too_large`).",
        );
        add(
            "415",
            "The request body must be JSON, sent with `Content-Type: application/json` (`unsupported_media_type`).",
        );
    }
    if post {
        add(
            "409",
            "A request with this Idempotency-Key is still in progress (`conflict_error`, `conflict`).",
        );
        add(
            "413",
            "The request body is larger than the server's limit (`payload_too_large`).",
        );
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(idempotency_key());
    }
    let limited = ResponseBuilder::new()
        .description("Too many requests for this credential (`rate_limit_error`, `rate_limit_exceeded`); retry after `Retry-After` seconds.")
        .content("application/json", Content::new(Some(Ref::from_schema_name("FreddyError"))))
        .header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)))
                .description(Some("Seconds until the credential may send again."))
                .build(),
        )
        .build();
    op.responses
        .responses
        .entry("429".to_owned())
        .or_insert(RefOr::T(limited));
}

fn error(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("FreddyError"))),
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
        serde_json::to_value(FreddyDoc::openapi()).expect("the document serialises")
    }

    #[test]
    fn every_operation_has_its_own_id_and_the_common_answers() {
        let doc = document();
        let mut ids = HashSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            assert!(
                path.starts_with("/v1/threads") || path.starts_with("/v1/files"),
                "{path}"
            );
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(
                    id.starts_with("freddy_") && ids.insert(id.to_owned()),
                    "{id}"
                );
                assert_eq!(op["tags"], serde_json::json!(["freddy"]));
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
                // Uploads are not kept for replay (their bodies are streamed).
                let upload = path == "/v1/files";
                assert_eq!(keyed, method == "post" && !upload, "{method} {path}");
                for param in params {
                    let name = param["name"].as_str().unwrap();
                    let in_path = path.contains(&format!("{{{name}}}"));
                    assert_eq!(param["in"] == "path", in_path, "{method} {path} {name}");
                    assert_eq!(param["required"] == true, in_path, "{method} {path} {name}");
                }
            }
        }
        assert_eq!(ids.len(), 20);
    }

    #[test]
    fn schemas_carry_freddys_names() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in schemas.keys() {
            assert!(name.starts_with("Freddy"), "{name}");
        }
        for name in [
            "FreddyError",
            "FreddyThread",
            "FreddyCreateThread",
            "FreddyRunResult",
        ] {
            assert!(schemas.contains_key(name), "{name}");
        }
    }
}
