//! The openai dialect: OpenAI's Assistants API (v2) and its Conversations
//! and Responses APIs under `/openai/v1`, so that the official SDK works
//! against spool with only its `base_url` and `api_key` changed. An
//! assistant is an agent, a thread or a conversation a thread, a run or a
//! response a run. Its routes are not in spool's OpenAPI document: they follow
//! OpenAI's published API, and the SDK is their check (docs/openai.md).

pub mod assistants;
pub mod conversations;
pub mod error;
pub mod files;
pub mod ids;
pub mod items;
pub mod messages;
pub mod models;
pub mod response_input;
pub mod response_object;
pub mod response_stream;
pub mod responses;
pub mod runs;
pub mod steps;
pub mod stream;
pub mod threads;
pub mod wire;

pub use error::{OpenAi, OpenAiError};

use crate::AppState;
use crate::paths::FromPath;
use crate::query::QueryPairs;
use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};
use spool_core::service::Scope;
use spool_core::{AgentId, MessageId, Principal, RunId, ThreadId};

pub type Result<T> = std::result::Result<T, OpenAiError>;

/// Where the dialect is mounted: clients set `base_url` to `http://HOST/openai/v1`.
pub const PREFIX: &str = "/openai/v1";

/// The openai dialect's endpoints, with their full paths; merged into the
/// one route table. Modify is `POST` on the object, as OpenAI has it.
pub fn routes() -> Router<AppState> {
    let routes = Router::new()
        .route(
            "/assistants",
            get(assistants::list).post(assistants::create),
        )
        .route(
            "/assistants/{assistant_id}",
            get(assistants::show)
                .post(assistants::update)
                .delete(assistants::delete),
        )
        .route(
            "/files",
            get(files::list)
                .post(files::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/files/{file_id}", get(files::show).delete(files::delete))
        .route("/files/{file_id}/content", get(files::content))
        .route("/threads", post(threads::create))
        .route("/threads/runs", post(runs::create_thread_and_run))
        .route(
            "/threads/{thread_id}",
            get(threads::show)
                .post(threads::update)
                .delete(threads::delete),
        )
        .route(
            "/threads/{thread_id}/messages",
            get(messages::list).post(messages::create),
        )
        .route(
            "/threads/{thread_id}/messages/{message_id}",
            get(messages::show)
                .post(messages::update)
                .delete(messages::delete),
        )
        .route(
            "/threads/{thread_id}/runs",
            get(runs::list).post(runs::create),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}",
            get(runs::show).post(runs::update),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/cancel",
            post(runs::cancel),
        )
        .route(
            "/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
            post(runs::submit_tool_outputs),
        )
        .route("/threads/{thread_id}/runs/{run_id}/steps", get(steps::list))
        .route(
            "/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
            get(steps::show),
        )
        .merge(conversation_routes());
    Router::new().nest(PREFIX, routes)
}

/// Conversations, responses and models (OpenAI's Responses API).
fn conversation_routes() -> Router<AppState> {
    use axum::routing::delete;
    Router::new()
        .route("/conversations", post(conversations::create))
        .route(
            "/conversations/{conversation_id}",
            get(conversations::show)
                .post(conversations::update)
                .delete(conversations::delete),
        )
        .route(
            "/conversations/{conversation_id}/items",
            get(conversations::list_items).post(conversations::create_items),
        )
        .route(
            "/conversations/{conversation_id}/items/{item_id}",
            get(conversations::show_item).merge(delete(conversations::delete_item)),
        )
        .route("/responses", post(responses::create))
        .route("/responses/{response_id}", get(responses::show))
        .route("/responses/{response_id}/cancel", post(responses::cancel))
        .route(
            "/responses/{response_id}/input_items",
            get(responses::input_items),
        )
        .route("/models", get(models::list))
        .route("/models/{model}", get(models::show))
}

/// The workspace a request acts in: an API key's own, or a signed-in
/// user's primary one (the Assistants API has no workspace parameter).
pub async fn scope(state: &AppState, principal: &Principal) -> Result<Scope> {
    Ok(state.spool.resolve_scope(principal, None).await?)
}

pub struct AssistantPath(pub AgentId);

impl FromPath for AssistantPath {
    const WHAT: &'static str = "Assistant";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::ASSISTANT, values.first()?).map(|id| AssistantPath(AgentId(id)))
    }
}

pub struct ThreadPath(pub ThreadId);

impl FromPath for ThreadPath {
    const WHAT: &'static str = "Thread";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::THREAD, values.first()?).map(|id| ThreadPath(ThreadId(id)))
    }
}

pub struct MessagePath(pub ThreadId, pub MessageId);

impl FromPath for MessagePath {
    const WHAT: &'static str = "Message";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(MessagePath(
            ThreadId(ids::parse(ids::THREAD, values.first()?)?),
            MessageId(ids::parse(ids::MESSAGE, values.get(1)?)?),
        ))
    }
}

pub struct RunPath(pub ThreadId, pub RunId);

impl FromPath for RunPath {
    const WHAT: &'static str = "Run";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(RunPath(
            ThreadId(ids::parse(ids::THREAD, values.first()?)?),
            RunId(ids::parse(ids::RUN, values.get(1)?)?),
        ))
    }
}

/// A run step is an assistant message of the run: `step_` + its id.
pub struct StepPath(pub ThreadId, pub RunId, pub MessageId);

impl FromPath for StepPath {
    const WHAT: &'static str = "Run step";
    fn from_path(values: &[&str]) -> Option<Self> {
        Some(StepPath(
            ThreadId(ids::parse(ids::THREAD, values.first()?)?),
            RunId(ids::parse(ids::RUN, values.get(1)?)?),
            MessageId(ids::parse(ids::STEP, values.get(2)?)?),
        ))
    }
}

/// OpenAI's list parameters: `limit` (1–100, default 20), `order`
/// (`asc`/`desc`, default `desc`), `after`/`before` (an id of the list).
pub struct ListQuery {
    pub limit: u32,
    pub descending: bool,
    pub after: Option<uuid::Uuid>,
    pub before: Option<uuid::Uuid>,
}

impl ListQuery {
    pub fn parse(query: &QueryPairs<OpenAi>, prefix: &str) -> Result<Self> {
        let limit = query.u32("limit")?.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(OpenAiError::invalid(
                "limit",
                "The limit must be between 1 and 100.",
            ));
        }
        let descending = match query.get("order") {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                return Err(OpenAiError::invalid(
                    "order",
                    format!("Invalid value for 'order': '{other}'; expected 'asc' or 'desc'."),
                ));
            }
        };
        let id = |field: &str| -> Result<Option<uuid::Uuid>> {
            query
                .get(field)
                .filter(|v| !v.is_empty())
                .map(|text| {
                    ids::parse(prefix, text).ok_or_else(|| {
                        OpenAiError::invalid(
                            field,
                            format!("The {field} must be an id like {prefix}…."),
                        )
                    })
                })
                .transpose()
        };
        let (after, before) = (id("after")?, id("before")?);
        if after.is_some() && before.is_some() {
            return Err(OpenAiError::invalid(
                "before",
                "Give either after or before, not both.",
            ));
        }
        Ok(Self {
            limit,
            descending,
            after,
            before,
        })
    }
}

/// OpenAI's tool definitions (`{"type": "function", "function": {...}}`)
/// in spool's form. spool builds no hosted tools: `code_interpreter`,
/// `file_search` and anything else answer 400 naming them.
pub fn tools_in(field: &str, tools: &[Value]) -> Result<Value> {
    let mut out = Vec::with_capacity(tools.len());
    for (i, tool) in tools.iter().enumerate() {
        let kind = tool["type"].as_str().unwrap_or_default();
        if kind != "function" {
            let what = if kind.is_empty() {
                "a tool without a type".to_owned()
            } else {
                format!("the '{kind}' tool")
            };
            return Err(OpenAiError::invalid(
                &format!("{field}[{i}].type"),
                format!("spool does not support {what}; only 'function' tools are built."),
            ));
        }
        let Some(function) = tool["function"].as_object() else {
            return Err(OpenAiError::invalid(
                &format!("{field}[{i}].function"),
                "A function tool needs a 'function' object with a 'name'.",
            ));
        };
        let mut definition = serde_json::Map::new();
        definition.insert("type".into(), json!("function"));
        for key in ["name", "description", "parameters"] {
            if let Some(value) = function.get(key).filter(|v| !v.is_null()) {
                definition.insert(key.into(), value.clone());
            }
        }
        out.push(Value::Object(definition));
    }
    Ok(Value::Array(out))
}

/// `response_format`: `auto` and `text` are what spool's models answer;
/// JSON modes are refused rather than ignored.
pub fn check_response_format(value: Option<&Value>) -> Result<()> {
    let kind = match value {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(text)) => text.as_str(),
        Some(other) => other["type"].as_str().unwrap_or_default(),
    };
    match kind {
        "auto" | "text" => Ok(()),
        other => Err(OpenAiError::invalid(
            "response_format",
            format!("spool does not support the response_format '{other}'; use 'auto' or 'text'."),
        )),
    }
}

/// The core's `files` problems named as OpenAI's `attachments`.
pub fn attachments_named(err: spool_core::CoreError) -> spool_core::CoreError {
    err.renamed(&[("files", "attachments")])
}

/// A file id: OpenAI's `file-…`, freddy's `file_…` or a raw UUID.
pub fn file_id(text: &str) -> Option<uuid::Uuid> {
    ids::parse(ids::FILE, text).or_else(|| ids::parse("file_", text))
}

/// A message's `attachments` (`[{"file_id", "tools"}]`) as the core's file
/// references. `tools` is accepted and not used: spool puts an attached
/// file in the model's prompt itself (docs/files.md). An id that does not
/// read is passed on, for the core to refuse as unknown.
pub fn attachment_refs(
    field: &str,
    value: Option<&Vec<Value>>,
) -> Result<Vec<spool_core::files::FileRef>> {
    let mut refs = Vec::new();
    for (i, item) in value.into_iter().flatten().enumerate() {
        let Some(file_id) = item.get("file_id").and_then(Value::as_str) else {
            return Err(OpenAiError::invalid(
                &format!("{field}[{i}].file_id"),
                "Each attachment needs a file_id (a string).",
            ));
        };
        if !item
            .get("tools")
            .is_none_or(|t| t.is_array() || t.is_null())
        {
            return Err(OpenAiError::invalid(
                &format!("{field}[{i}].tools"),
                "The tools of an attachment must be a list.",
            ));
        }
        refs.push(spool_core::files::FileRef {
            key: self::file_id(file_id)
                .map(|id| id.to_string())
                .unwrap_or_else(|| file_id.to_owned()),
            name: None,
        });
    }
    Ok(refs)
}

/// A message's `content`: a string, or text parts (`[{"type": "text",
/// "text": "…"}]`), joined. Image parts answer 400.
pub fn content_text(field: &str, content: &Value) -> Result<String> {
    match content {
        Value::String(text) => Ok(text.clone()),
        Value::Array(parts) => {
            let mut text = String::new();
            for (i, part) in parts.iter().enumerate() {
                match (part["type"].as_str(), &part["text"]) {
                    (Some("text"), Value::String(piece)) => text.push_str(piece),
                    (Some("text"), other) if other["value"].is_string() => {
                        text.push_str(other["value"].as_str().unwrap_or_default())
                    }
                    _ => {
                        return Err(OpenAiError::invalid(
                            &format!("{field}[{i}]"),
                            "spool supports text content parts only.",
                        ));
                    }
                }
            }
            Ok(text)
        }
        _ => Err(OpenAiError::invalid(
            field,
            "The content must be a string or a list of text parts.",
        )),
    }
}
