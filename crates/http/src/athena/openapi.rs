//! athena's part of the OpenAPI document: its operations, its schemas under
//! `Athena…` names, the `{"data": …}` and page envelopes of each resource,
//! and the error answers its extractors give (see [`Extractors`]).
//! `crate::openapi` merges it with the other dialects'.

use super::files::FileBody;
use super::resources::{AgentBody, MessageBody, ModelBody, ThreadBody};
use super::runs::RunBody;
use super::webhooks::{DeliveryBody, WebhookBody};
use super::wire::{ApiKeyBody, CursorLinks, CursorMeta, MemberBody, PageLinks, PageMeta};
use super::wire::{UserBody, WorkspaceBody};
use super::{auth, keys, messages, metrics, models, prompts, runs, threads, webhooks, workspaces};
use spool_core::model::AGENT_METADATA_KEYS;
use spool_core::validate::{
    METADATA_MAX_KEY_CHARS, METADATA_MAX_KEYS, METADATA_MAX_VALUE_CHARS, MetadataOf,
};
use std::collections::BTreeMap;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{
    AdditionalProperties, AnyOfBuilder, ArrayBuilder, KnownFormat, Object, ObjectBuilder,
    OneOfBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr, ResponseBuilder, content::ContentBuilder};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

#[derive(OpenApi)]
#[openapi(
    paths(
        auth::sign_in,
        auth::logout,
        auth::current_user,
        workspaces::list,
        workspaces::create,
        workspaces::show,
        workspaces::update,
        workspaces::delete,
        workspaces::members,
        workspaces::add_member,
        workspaces::remove_member,
        keys::create,
        keys::list,
        keys::revoke,
        webhooks::create,
        webhooks::list,
        webhooks::show,
        webhooks::delete,
        webhooks::deliveries,
        prompts::create,
        prompts::list,
        prompts::show,
        prompts::update,
        prompts::delete,
        prompts::run,
        super::providers::create,
        super::providers::list,
        super::providers::show,
        super::providers::update,
        super::providers::delete,
        super::memories::list,
        super::memories::show,
        super::memories::update,
        super::memories::delete,
        super::agents::list,
        super::agents::create,
        super::agents::show,
        super::agents::update,
        super::agents::delete,
        super::agents::share,
        runs::run_agent,
        models::list,
        models::show,
        threads::list,
        threads::create,
        threads::show,
        threads::update,
        threads::delete,
        threads::pin,
        threads::unpin,
        runs::run_thread,
        runs::list,
        runs::generate_name,
        messages::list,
        messages::create,
        messages::show,
        messages::update,
        messages::delete,
        super::files::upload,
        super::files::list,
        super::files::show,
        super::files::content,
        super::files::delete,
        runs::show,
        runs::cancel,
        super::tool_outputs::submit,
        runs::events,
        metrics::threads,
        metrics::messages,
        metrics::agents,
        super::agents::generate,
        metrics::leaderboard,
        metrics::workspaces,
    ),
    components(schemas(
        ErrorBody,
        ValidationErrorBody,
        Role,
        Visibility,
        ShareEntityType,
        SharePermission,
        ThreadStatus,
        MessageRole,
        RunStatus,
        Multitask,
        ThreadSort,
        Order,
        Period,
        DateOrTime,
        super::ToolSchema,
        super::ToolChoiceSchema,
    )),
    tags(
        (name = "athena: auth", description = "athena (`/api/v1`): sign-in, logout and the current user."),
        (name = "athena: workspaces", description = "athena: workspaces and their members."),
        (name = "athena: api keys", description = "athena: a workspace's API keys (owners and admins, signed in)."),
        (name = "athena: memories", description = "athena: what agents with `metadata.memory` remember about their users; docs/api.md."),
        (name = "athena: providers", description = "athena: a workspace's own OpenAI-compatible or Anthropic endpoints, their sealed credentials and models; docs/api.md."),
        (name = "athena: prompts", description = "athena: prompt templates with `{{variables}}`, and running them; docs/api.md."),
        (name = "athena: webhooks", description = "athena: a workspace's webhooks, told when runs end (owners and admins, signed in); docs/webhooks.md."),
        (name = "athena: agents", description = "athena: agents, their shares and agent runs."),
        (name = "athena: models", description = "athena: the large language models of the catalog."),
        (name = "athena: threads", description = "athena: threads, running them and naming them."),
        (name = "athena: messages", description = "athena: a thread's messages."),
        (name = "athena: files", description = "athena: uploaded files, attached to messages by key (docs/files.md); thena clients use these too."),
        (name = "athena: runs", description = "athena: runs, their events and cancelling them."),
        (name = "athena: metrics", description = "athena: counts per day, week or month."),
    ),
    modifiers(&Extractors, &Closed)
)]
pub struct AthenaDoc;

/// athena's error body: `{"message": "..."}`, for every status but 422
/// (rendered in `athena/error.rs`).
#[derive(ToSchema)]
#[schema(as = AthenaError)]
#[expect(dead_code, reason = "documents the body athena/error.rs renders")]
pub struct ErrorBody {
    #[schema(example = "Thread not found.")]
    message: String,
}

/// athena's 422 body, Laravel's: the first problem in `message`, every
/// problem by field in `errors` (fields like `name`, `metadata.tier`,
/// `Idempotency-Key`).
#[derive(ToSchema)]
#[schema(as = AthenaValidationError)]
#[expect(dead_code, reason = "documents the body athena/error.rs renders")]
pub struct ValidationErrorBody {
    #[schema(example = "The name may not be greater than 200 characters.")]
    message: String,
    #[schema(example = json!({"name": ["The name may not be greater than 200 characters."]}))]
    errors: BTreeMap<String, Vec<String>>,
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

fn object(properties: &[(&str, RefOr<Schema>)]) -> ObjectBuilder {
    properties.iter().fold(
        ObjectBuilder::new().schema_type(Type::Object),
        |builder, (name, schema)| builder.property(*name, schema.clone()).required(*name),
    )
}

fn array_of(item: RefOr<Schema>) -> RefOr<Schema> {
    ArrayBuilder::new().items(item).build().into()
}

/// Names and registers the envelopes of one resource: `{"data": item}`
/// (`…Response`), or the page shapes of a list of them: page mode
/// (`…Page`), cursor mode (`…CursorPage`) and either (`…List`).
macro_rules! envelope {
    (one $name:ident of $item:ty) => {
        #[doc = concat!("`{\"data\": …}` with one `", stringify!($item), "`.")]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                object(&[("data", reference(&<$item as ToSchema>::name()))])
                    .build()
                    .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push((<$item>::name().into(), <$item as PartialSchema>::schema()));
                <$item>::schemas(schemas);
            }
        }
    };
    (page $name:ident of $item:ty, $links:ty, $meta:ty) => {
        #[doc = concat!("A page of `", stringify!($item), "`.")]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                object(&[
                    ("data", array_of(reference(&<$item as ToSchema>::name()))),
                    ("links", reference(&<$links>::name())),
                    ("meta", reference(&<$meta>::name())),
                ])
                .build()
                .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                for (name, schema) in [
                    (<$item>::name(), <$item as PartialSchema>::schema()),
                    (<$links>::name(), <$links as PartialSchema>::schema()),
                    (<$meta>::name(), <$meta as PartialSchema>::schema()),
                ] {
                    schemas.push((name.into(), schema));
                }
                <$item>::schemas(schemas);
            }
        }
    };
    (list $name:ident of $page:ident | $cursor:ident) => {
        /// Page mode (`page`, `per_page`), or cursor mode when the request
        /// has `cursor` (even empty).
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                Schema::OneOf(
                    OneOfBuilder::new()
                        .item(reference(&$page::name()))
                        .item(reference(&$cursor::name()))
                        .description(Some(
                            "Page mode (`page`, `per_page`: `meta` with `current_page`, `last_page`, `total`), or cursor mode when the request has `cursor`, even empty (`meta` with `next_cursor`, `prev_cursor`, no total).",
                        ))
                        .build(),
                )
                .into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push(($page::name().into(), $page::schema()));
                schemas.push(($cursor::name().into(), $cursor::schema()));
                $page::schemas(schemas);
                $cursor::schemas(schemas);
            }
        }
    };
}

envelope!(one AthenaUserResponse of UserBody);
envelope!(one AthenaSessionResponse of auth::SignInResponse);
envelope!(one AthenaWorkspaceResponse of WorkspaceBody);
envelope!(one AthenaMemberResponse of MemberBody);
envelope!(one AthenaApiKeyResponse of ApiKeyBody);
envelope!(one AthenaWebhookResponse of WebhookBody);
envelope!(one AthenaPromptResponse of prompts::PromptBody);
envelope!(one AthenaProviderResponse of super::providers::ProviderBody);
envelope!(one AthenaMemoryResponse of super::memories::MemoryBody);
envelope!(page AthenaMemoryPage of super::memories::MemoryBody, PageLinks, PageMeta);
envelope!(page AthenaPromptPage of prompts::PromptBody, PageLinks, PageMeta);
envelope!(page AthenaProviderPage of super::providers::ProviderBody, PageLinks, PageMeta);
envelope!(page AthenaWebhookPage of WebhookBody, PageLinks, PageMeta);
envelope!(page AthenaWebhookDeliveryPage of DeliveryBody, PageLinks, PageMeta);
envelope!(one AthenaAgentResponse of AgentBody);
envelope!(one AthenaModelResponse of ModelBody);
envelope!(one AthenaThreadResponse of ThreadBody);
envelope!(one AthenaMessageResponse of MessageBody);
envelope!(one AthenaRunResponse of RunBody);
envelope!(one AthenaFileResponse of FileBody);
envelope!(page AthenaFileList of FileBody, CursorLinks, CursorMeta);

/// `{"data": [...]}`: the files of one upload, in the order sent.
pub struct AthenaFileListResponse;

impl PartialSchema for AthenaFileListResponse {
    fn schema() -> RefOr<Schema> {
        object(&[("data", array_of(reference(&<FileBody as ToSchema>::name())))])
            .build()
            .into()
    }
}

impl ToSchema for AthenaFileListResponse {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            FileBody::name().into(),
            <FileBody as PartialSchema>::schema(),
        ));
        FileBody::schemas(schemas);
    }
}

/// A `multipart/form-data` upload: one or more parts, each a file (named
/// by its filename, else by its field name).
#[derive(ToSchema)]
#[schema(as = AthenaUploadForm)]
#[expect(dead_code, reason = "documents the multipart body")]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary, required = true)]
    file: Vec<u8>,
}

/// A raw upload: the body is the file.
#[derive(ToSchema)]
#[schema(as = AthenaRawUpload, value_type = String, format = Binary)]
#[expect(dead_code, reason = "documents the raw body")]
pub struct RawUpload(Vec<u8>);

/// The paging of `GET /api/v1/files` (cursor mode only).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents parameters read as name/value pairs")]
pub struct FileListParams {
    /// `meta.next_cursor` of the page before; none for the first page.
    #[param(pattern = "^([0-9a-fA-F]{2})*$")]
    cursor: Option<String>,
    /// 1–100, default 15.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}
envelope!(page AthenaWorkspacePage of WorkspaceBody, PageLinks, PageMeta);
envelope!(page AthenaMemberPage of MemberBody, PageLinks, PageMeta);
envelope!(page AthenaApiKeyPage of ApiKeyBody, PageLinks, PageMeta);
envelope!(page AthenaAgentPage of AgentBody, PageLinks, PageMeta);
envelope!(page AthenaThreadPage of ThreadBody, PageLinks, PageMeta);
envelope!(page AthenaThreadCursorPage of ThreadBody, CursorLinks, CursorMeta);
envelope!(list AthenaThreadList of AthenaThreadPage | AthenaThreadCursorPage);
envelope!(page AthenaMessagePage of MessageBody, PageLinks, PageMeta);
envelope!(page AthenaMessageCursorPage of MessageBody, CursorLinks, CursorMeta);
envelope!(list AthenaMessageList of AthenaMessagePage | AthenaMessageCursorPage);
envelope!(page AthenaRunPage of RunBody, PageLinks, PageMeta);
envelope!(page AthenaRunCursorPage of RunBody, CursorLinks, CursorMeta);
envelope!(list AthenaRunList of AthenaRunPage | AthenaRunCursorPage);

/// The 200 of a run: JSON, or Server-Sent Events.
pub const RUN_ANSWER: &str = "Without streaming, `application/json`: the stored reply (`data`, null \
when the run ended before any text) and the run. With `stream: true` or `Accept: text/event-stream`, \
Server-Sent Events (`text/event-stream`), each with an `id:` (send the last one back as \
`Last-Event-ID` to `GET /api/v1/runs/{uuid}/events` to resume), in this order: `run.created` (the \
run), `message.created` (the assistant message, still empty), `message.delta` \
(`{\"delta\": {\"content\": \"...\"}}`, repeated), `message.completed` (the stored message), one of \
`run.completed`, `run.failed` or `run.cancelled` (the run), then `done` (`[DONE]`). Comment lines \
keep an idle connection open. The run belongs to the server: disconnecting does not stop it.";

/// The 200 of re-attaching to a run.
pub const EVENTS_ANSWER: &str = "Server-Sent Events (`text/event-stream`): the run's events after \
`Last-Event-ID` (all of them without it), live while the run goes on, replayed from storage once \
it has ended: `run.created`, `message.created`, `message.delta` (`{\"delta\": {\"content\": \"...\"}}`), \
`message.completed`, one of `run.completed`, `run.failed` or `run.cancelled`, then `done`.";

/// What a stream looks like.
pub const SSE_EXAMPLE: &str = "id: 1\nevent: run.created\ndata: {\"uuid\": \"…\", \"status\": \"queued\", …}\n\n\
id: 3\nevent: message.delta\ndata: {\"delta\": {\"content\": \"Hel\"}}\n\n\
id: 9\nevent: done\ndata: [DONE]\n\n";

/// One event of a run's stream, as SSE parsers (and schemathesis) see it:
/// `{event, id, data}`, `data` the JSON text of the schema each event names.
pub struct RunEvent;

/// An event named `names` whose `data` is JSON of the `payload` schema (or,
/// without one, exactly `[DONE]`).
fn event(names: &[&str], payload: Option<RefOr<Schema>>) -> Object {
    let data = match payload {
        Some(schema) => {
            let mut data = ObjectBuilder::new()
                .schema_type(Type::String)
                .content_media_type("application/json")
                .build();
            // JSON Schema 2020-12 `contentSchema`, which utoipa has no field for.
            let schema = serde_json::to_value(schema).unwrap_or_default();
            data.extensions
                .get_or_insert_default()
                .insert("contentSchema".to_owned(), schema);
            data
        }
        None => enum_of(&["[DONE]"]),
    };
    let id = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[0-9]+$"))
        .description(Some(
            "The event's number in the run: `Last-Event-ID` resumes after it.",
        ))
        .build();
    object(&[
        ("event", enum_of(names).into()),
        ("id", id.into()),
        ("data", data.into()),
    ])
    .build()
}

fn enum_of(values: &[&str]) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

impl PartialSchema for RunEvent {
    fn schema() -> RefOr<Schema> {
        let run = || Some(reference(&RunBody::name()));
        let message = || Some(reference(&runs::EventMessage::name()));
        let delta = object(&[(
            "delta",
            object(&[(
                "content",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .build()
                    .into(),
            )])
            .build()
            .into(),
        )])
        .build();
        Schema::OneOf(
            OneOfBuilder::new()
                .item(event(&["run.created"], run()))
                .item(event(&["message.created"], message()))
                .item(event(&["message.delta"], Some(delta.into())))
                .item(event(&["message.completed"], message()))
                .item(event(
                    &["tool_call.created", "tool_call.completed"],
                    Some(reference(&super::ToolCallSchema::name())),
                ))
                .item(event(
                    &["run.requires_action", "run.completed", "run.failed", "run.cancelled"],
                    run(),
                ))
                .item(event(&["done"], None))
                .description(Some(
                    "One event: `run.created`, `message.created` (the assistant message, empty), `message.delta` (a piece of its text), `message.completed` (the stored message); a step that calls tools then sends `tool_call.created` per call, `run.requires_action` when the client must answer some, `tool_call.completed` per result, and the next step's `message.created`…; at the end `run.completed`, `run.failed` or `run.cancelled`, and `done`.",
                ))
                .build(),
        )
        .into()
    }
}

impl ToSchema for RunEvent {
    fn name() -> std::borrow::Cow<'static, str> {
        "AthenaRunEvent".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((RunBody::name().into(), <RunBody as PartialSchema>::schema()));
        schemas.push((
            runs::EventMessage::name().into(),
            <runs::EventMessage as PartialSchema>::schema(),
        ));
        schemas.push((
            super::ToolCallSchema::name().into(),
            <super::ToolCallSchema as PartialSchema>::schema(),
        ));
        RunBody::schemas(schemas);
        runs::EventMessage::schemas(schemas);
    }
}

/// Query and header parameters of lists and streams that the handlers
/// read as name/value pairs (`crate::query::QueryPairs`); documentation only.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents parameters read as name/value pairs")]
pub struct CursorParam {
    /// Keyset paging: empty for the first page, then `meta.next_cursor` or
    /// `meta.prev_cursor` of the page before (opaque tokens; one this server
    /// did not issue answers 422). Without it, page mode.
    #[param(pattern = "^p?([0-9a-fA-F]{2})*$")]
    cursor: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents parameters read as name/value pairs")]
pub struct ThreadFilters {
    /// `last_message_at` (default), `created_at` or `updated_at`.
    #[param(value_type = Option<ThreadSort>)]
    sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[param(value_type = Option<Order>)]
    order: Option<String>,
    /// Only the threads of this agent.
    #[param(format = Uuid)]
    agent_uuid: Option<String>,
    /// Only pinned (`true`) or unpinned (`false`) threads.
    pinned: Option<bool>,
    /// Full-text search over titles and message content (at most 500
    /// characters), ranked by relevance, best first: page mode counts the
    /// hits (`total`), cursor mode pages the ranking by keyset.
    #[param(max_length = 500)]
    search: Option<String>,
    /// `metadata[key]=value`: only threads whose metadata has these values
    /// (at most 16 filters).
    #[param(style = DeepObject, explode)]
    metadata: Option<BTreeMap<String, String>>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents parameters read as name/value pairs")]
pub struct MessageFilters {
    /// The thread whose messages to list.
    #[param(format = Uuid)]
    thread_uuid: String,
    /// `asc` (thread order, the default) or `desc` (newest first).
    #[param(value_type = Option<Order>)]
    order: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(dead_code, reason = "documents parameters read as name/value pairs")]
pub struct MetricsParams {
    /// `day` (default), `week` or `month`.
    #[param(value_type = Option<Period>)]
    period: Option<String>,
    /// A date (`YYYY-MM-DD`) or an RFC 3339 time; default 30 days before `to`.
    #[param(value_type = Option<DateOrTime>)]
    from: Option<String>,
    /// A date or an RFC 3339 time after `from`; default now.
    #[param(value_type = Option<DateOrTime>)]
    to: Option<String>,
    /// Only this agent's threads, messages or agents.
    #[param(format = Uuid)]
    agent_uuid: Option<String>,
}

/// A member's role in a workspace.
#[derive(ToSchema)]
#[schema(as = AthenaRole, rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

/// Who may see and use an agent: its creator (and whom it is shared
/// with), its workspace, or everyone.
#[derive(ToSchema)]
#[schema(as = AthenaVisibility, rename_all = "snake_case")]
pub enum Visibility {
    Private,
    Workspace,
    Public,
}

#[derive(ToSchema)]
#[schema(as = AthenaShareEntityType, rename_all = "snake_case")]
pub enum ShareEntityType {
    Workspace,
    User,
}

/// `read` uses an agent; `write` also changes it.
#[derive(ToSchema)]
#[schema(as = AthenaSharePermission, rename_all = "snake_case")]
pub enum SharePermission {
    Read,
    Write,
}

/// `running` while a run is in progress.
#[derive(ToSchema)]
#[schema(as = AthenaThreadStatus, rename_all = "snake_case")]
pub enum ThreadStatus {
    Idle,
    Running,
}

#[derive(ToSchema)]
#[schema(as = AthenaMessageRole, rename_all = "snake_case")]
pub enum MessageRole {
    User,
    Assistant,
    System,
    Tool,
}

#[derive(ToSchema)]
#[schema(as = AthenaRunStatus, rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    InProgress,
    RequiresAction,
    Completed,
    Failed,
    Cancelled,
}

/// What a run asked for while another is active does: `reject` (409, the
/// default), `interrupt` the active run, or `enqueue` after it.
#[derive(ToSchema)]
#[schema(as = AthenaMultitask, rename_all = "snake_case")]
pub enum Multitask {
    Reject,
    Interrupt,
    Enqueue,
}

#[derive(ToSchema)]
#[schema(as = AthenaThreadSort, rename_all = "snake_case")]
pub enum ThreadSort {
    LastMessageAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(ToSchema)]
#[schema(as = AthenaOrder, rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

#[derive(ToSchema)]
#[schema(as = AthenaMetricsPeriod, rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

/// A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.
pub struct DateOrTime;

impl PartialSchema for DateOrTime {
    fn schema() -> RefOr<Schema> {
        Schema::AnyOf(
            AnyOfBuilder::new()
                .item(formatted(Type::String.into(), KnownFormat::Date))
                .item(formatted(Type::String.into(), KnownFormat::DateTime))
                .description(Some(
                    "A date (`YYYY-MM-DD`, midnight UTC) or an RFC 3339 time.",
                ))
                .build(),
        )
        .into()
    }
}

impl ToSchema for DateOrTime {
    fn name() -> std::borrow::Cow<'static, str> {
        "AthenaDateOrTime".into()
    }
}

/// A share's `entity_id`: a workspace uuid, or a user id (number or text).
pub fn share_entity_id() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(formatted(Type::String.into(), KnownFormat::Uuid))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1)),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[1-9][0-9]*$")),
            )
            .description(Some(
                "A workspace uuid, or a user id (a number, or the number as a string).",
            ))
            .build(),
    )
}

pub fn always_null() -> Object {
    ObjectBuilder::new().schema_type(Type::Null).build()
}

fn nullable(types: Type) -> SchemaType {
    SchemaType::from_iter([types, Type::Null])
}

fn formatted(schema_type: SchemaType, format: KnownFormat) -> Object {
    ObjectBuilder::new()
        .schema_type(schema_type)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .build()
}

/// A client-writable `metadata` object in a request: the limits of
/// docs/api.md, without the keys the server owns (422 each).
fn metadata_input(of: MetadataOf, typed: &[(&str, Schema)]) -> Object {
    let reserved = of.server_keys();
    let mut description = format!(
        "At most {METADATA_MAX_KEYS} keys of at most {METADATA_MAX_KEY_CHARS} characters; a string \
         value at most {METADATA_MAX_VALUE_CHARS} characters, any other value's JSON text too."
    );
    if !reserved.is_empty() {
        description.push_str(&format!(
            " The server's own keys may not be sent: `{}`.",
            reserved.join("`, `")
        ));
    }
    // `maxLength` constrains strings only: any JSON value, strings bounded.
    let value = ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .max_length(Some(METADATA_MAX_VALUE_CHARS));
    let names = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(METADATA_MAX_KEY_CHARS))
        .build();
    typed
        .iter()
        .fold(ObjectBuilder::new(), |builder, (name, schema)| {
            builder.property(*name, schema.clone())
        })
        .schema_type(nullable(Type::Object))
        .description(Some(description))
        .max_properties(Some(METADATA_MAX_KEYS))
        .property_names(Some(names))
        .additional_properties(Some(value))
        .build()
}

pub fn thread_metadata_input() -> Object {
    metadata_input(MetadataOf::Thread, &[])
}

pub fn message_metadata_input() -> Object {
    metadata_input(MetadataOf::Message, &[])
}

pub fn workspace_metadata_input() -> Object {
    metadata_input(MetadataOf::Workspace, &[])
}

/// A free-form object within the metadata limits (`profile_photo_config`).
pub fn limited_object() -> Object {
    metadata_input(MetadataOf::Workspace, &[])
}

/// The types of an agent's persona keys, as the core checks them; `null`
/// clears one.
fn persona(limit: Option<usize>) -> Vec<(&'static str, Schema)> {
    AGENT_METADATA_KEYS
        .iter()
        .map(|&key| {
            let schema = match key {
                "memory" | "knowledge" | "web_search" => Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(nullable(Type::Boolean))
                        .build(),
                ),
                "conversation_starters" => Schema::Array(
                    ArrayBuilder::new()
                        .schema_type(nullable(Type::Array))
                        .items(ObjectBuilder::new().schema_type(Type::String))
                        .build(),
                ),
                _ => Schema::Object(
                    ObjectBuilder::new()
                        .schema_type(nullable(Type::String))
                        .max_length(limit)
                        .build(),
                ),
            };
            (key, schema)
        })
        .collect()
}

pub fn agent_metadata_input() -> Object {
    metadata_input(MetadataOf::Agent, &persona(Some(METADATA_MAX_VALUE_CHARS)))
}

/// An agent's `metadata` as answered: every persona key (`null` when unset)
/// and the client's keys.
pub fn agent_metadata() -> Object {
    let mut schema = persona(None)
        .into_iter()
        .fold(ObjectBuilder::new(), |builder, (name, schema)| {
            builder.property(name, schema).required(name)
        })
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .build();
    schema.description = Some(
        "The persona keys (always present, `null` when unset) and the client's own keys.".into(),
    );
    schema
}

/// A message's `metadata` as answered: what a run recorded (`model`,
/// `temperature`, `tokens`: null unless a run wrote the message;
/// `finish_reason` and `run_uuid` on run replies) and the client's keys.
pub fn message_metadata() -> Object {
    let count = || {
        ObjectBuilder::new()
            .schema_type(nullable(Type::Integer))
            .minimum(Some(0))
            .build()
    };
    let tokens = object(&[
        ("input", count().into()),
        ("output", count().into()),
        ("total", count().into()),
    ])
    .additional_properties(Some(AdditionalProperties::FreeForm(false)))
    .build();
    object(&[
        (
            "model",
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .build()
                .into(),
        ),
        (
            "temperature",
            ObjectBuilder::new()
                .schema_type(nullable(Type::Number))
                .build()
                .into(),
        ),
        ("tokens", tokens.into()),
    ])
    .property(
        "finish_reason",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("Why the run ended: `stop`, `length`, `error`, `cancelled` …")),
    )
    .property("run_uuid", formatted(Type::String.into(), KnownFormat::Uuid))
    .additional_properties(Some(AdditionalProperties::FreeForm(true)))
    .description(Some(
        "What a run recorded (`model`, `temperature`, `tokens`: null unless a run wrote the message; `finish_reason` and `run_uuid` on run replies) and the client's own keys.",
    ))
    .build()
}

fn error_response(description: &str, schema: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(reference(schema)))
                .build(),
        )
        .build()
}

/// Adds to an operation the statuses its kind of request can answer in
/// athena (`status`, description, body), unless it declares them itself.
pub fn add_missing(operation: &mut Operation, statuses: &[(&str, &str, &str)]) {
    for (status, description, schema) in statuses {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| error_response(description, schema).into());
    }
}

/// The answers athena's extractors give before a handler runs, added to
/// every operation that uses them: a JSON body (400, 413, 415, 422), a path
/// id (404, also when malformed), query parameters (422), a named
/// workspace (404 when out of reach). `crate::openapi` adds what every
/// dialect shares (credentials, rate limit, `Idempotency-Key`).
struct Extractors;

const BAD_JSON: (&str, &str, &str) = ("400", "The body is not JSON.", "AthenaError");
const TOO_LARGE: (&str, &str, &str) = (
    "413",
    "The body is larger than `body_limit_bytes`.",
    "AthenaError",
);
const NOT_JSON: (&str, &str, &str) = (
    "415",
    "The body was not sent as `Content-Type: application/json`.",
    "AthenaError",
);
const INVALID: (&str, &str, &str) = (
    "422",
    "A missing, mistyped, unknown or over-long field or parameter, named in `errors`.",
    "AthenaValidationError",
);
const NOT_FOUND: (&str, &str, &str) = (
    "404",
    "Absent or out of the caller's reach (the two are not told apart), or a malformed id.",
    "AthenaError",
);

impl Modify for Extractors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (_, operation, _) in crate::openapi::operations_mut(openapi) {
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            let in_path = parameters
                .iter()
                .any(|p| p.parameter_in == ParameterIn::Path);
            let in_query = parameters
                .iter()
                .any(|p| p.parameter_in == ParameterIn::Query);
            let names_workspace = parameters.iter().any(|p| p.name == "workspace_uuid");
            if operation.request_body.is_some() {
                add_missing(operation, &[BAD_JSON, TOO_LARGE, NOT_JSON, INVALID]);
            }
            if in_path || names_workspace {
                add_missing(operation, &[NOT_FOUND]);
            }
            if in_query {
                add_missing(operation, &[INVALID]);
            }
        }
    }
}

/// Response objects list every key the server writes: each athena schema
/// of an object with properties that does not say otherwise admits no
/// other keys. (Request bodies already do not: `deny_unknown_fields`.)
struct Closed;

impl Modify for Closed {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        crate::openapi::close_objects(openapi, "Athena", &[]);
    }
}

/// The body of `POST /api/v1/agents`: the fields of an update
/// (`AthenaAgentRequest`), with `name` required and not `null`.
pub struct CreateAgentRequest;

impl PartialSchema for CreateAgentRequest {
    fn schema() -> RefOr<Schema> {
        let mut schema = <super::agents::AgentRequest as PartialSchema>::schema();
        if let RefOr::T(Schema::Object(object)) = &mut schema {
            if let Some(RefOr::T(Schema::Object(name))) = object.properties.get_mut("name") {
                name.schema_type = SchemaType::from(Type::String);
            }
            object.required.push("name".to_owned());
            object.description = Some("An agent to create; `name` is required.".to_owned());
        }
        schema
    }
}

impl ToSchema for CreateAgentRequest {
    fn name() -> std::borrow::Cow<'static, str> {
        "AthenaCreateAgentRequest".into()
    }
}
