//! Prompts: templates with `{{variables}}`, listed, read, changed and run.
//! A run fills the variables and asks the model once (streamed or not),
//! or with `thread: true` starts a thread with the filled text and answers
//! like running an agent.

use super::runs::{RunResult, settle_after, sse};
use super::wire::{Data, Paginated, data, time};
use super::{Athena, Result, WorkspaceParam, named_workspace, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use spool_core::PromptId;
use spool_core::model::{Prompt, template_variables};
use spool_core::provider::{ChatEvent, ChatStream};
use spool_core::service::{PromptInput, PromptRun, RunPromptInput};
use std::convert::Infallible;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaPromptRequest)]
pub struct PromptRequest {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"\S",
        example = "Reply to an email"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    /// The text, with `{{name}}` where a variable goes (at most 32,000
    /// characters, 64 variables), not blank.
    #[schema(
        min_length = 1,
        max_length = 32000,
        pattern = r"\S",
        example = "Write a polite reply to {{sender}} about {{topic}}."
    )]
    pub template: Option<String>,
    /// A model of the catalog; the server's default when null.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, example = "echo")]
    pub model: Option<Option<String>>,
    /// `temperature` (0–2), `top_p` (0–1), `max_tokens` (at least 1).
    #[schema(value_type = Option<PromptSettings>)]
    pub settings: Option<Map<String, Value>>,
    #[schema(value_type = Option<super::openapi::Visibility>)]
    pub visibility: Option<String>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// A new prompt: `name` and `template` are required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaNewPromptRequest)]
pub struct NewPromptRequest {
    /// At most 200 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"\S",
        example = "Reply to an email"
    )]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The text, with `{{name}}` where a variable goes (at most 32,000
    /// characters, 64 variables), not blank.
    #[schema(
        min_length = 1,
        max_length = 32000,
        pattern = r"\S",
        example = "Write a polite reply to {{sender}} about {{topic}}."
    )]
    pub template: String,
    /// A model of the catalog; the server's default when null.
    #[schema(example = "echo")]
    pub model: Option<String>,
    #[schema(value_type = Option<PromptSettings>)]
    pub settings: Option<Map<String, Value>>,
    /// `workspace` when absent.
    #[schema(value_type = Option<super::openapi::Visibility>)]
    pub visibility: Option<String>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

impl NewPromptRequest {
    fn input(self) -> PromptInput {
        PromptInput {
            name: Some(self.name),
            description: Some(self.description),
            template: Some(self.template),
            model: Some(self.model),
            settings: self.settings,
            visibility: self.visibility,
        }
    }
}

/// A prompt's model settings.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaPromptSettings)]
pub struct PromptSettings {
    #[schema(minimum = 0, maximum = 2)]
    pub temperature: Option<f64>,
    #[schema(minimum = 0, maximum = 1)]
    pub top_p: Option<f64>,
    #[schema(minimum = 1, maximum = 4294967295_u64)]
    pub max_tokens: Option<u64>,
}

impl PromptRequest {
    fn input(self) -> PromptInput {
        PromptInput {
            name: self.name,
            description: self.description,
            template: self.template,
            model: self.model,
            settings: self.settings,
            visibility: self.visibility,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaPrompt)]
pub struct PromptBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    /// Its creator.
    #[schema(format = Uuid)]
    pub user_uuid: Option<String>,
    pub name: String,
    pub description: Option<String>,
    pub template: String,
    /// The variables the template names, in order of first use.
    pub variables: Vec<String>,
    pub model: Option<String>,
    #[schema(value_type = PromptSettings)]
    pub settings: Map<String, Value>,
    #[schema(value_type = super::openapi::Visibility)]
    pub visibility: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl PromptBody {
    fn new(prompt: Prompt, user_uuid: Option<String>) -> Self {
        Self {
            uuid: prompt.id.to_string(),
            workspace_uuid: prompt.workspace_id.to_string(),
            user_uuid,
            name: prompt.name,
            description: prompt.description,
            variables: template_variables(&prompt.template),
            template: prompt.template,
            model: prompt.model,
            settings: prompt.settings,
            visibility: prompt.visibility.as_str(),
            created_at: time(prompt.created_at),
            updated_at: time(prompt.updated_at),
        }
    }
}

async fn body(state: &AppState, prompt: Prompt) -> Result<PromptBody> {
    let users = state.spool.user_uuids(&[prompt.user_id]).await?;
    let user = users.get(&prompt.user_id).map(|u| u.to_string());
    Ok(PromptBody::new(prompt, user))
}

/// Create a prompt
#[utoipa::path(post, path = "/api/v1/prompts", tag = "athena: prompts", operation_id = "athena_create_prompt",
    params(WorkspaceParam), request_body = NewPromptRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Created", body = super::openapi::AthenaPromptResponse),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(request, _): Json<Athena, NewPromptRequest>,
) -> Result<(StatusCode, axum::Json<Data<PromptBody>>)> {
    let named = named_workspace(request.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let prompt = state
        .spool
        .create_prompt(&principal, &scope, request.input())
        .await?;
    Ok((StatusCode::CREATED, data(body(&state, prompt).await?)))
}

/// List prompts
///
/// The workspace's prompts the caller may see (its shared ones and the
/// caller's private ones), newest first.
#[utoipa::path(get, path = "/api/v1/prompts", tag = "athena: prompts", operation_id = "athena_list_prompts",
    params(super::WorkspacePageParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of prompts", body = super::openapi::AthenaPromptPage),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, super::WorkspacePageParams>,
) -> Result<axum::Json<Paginated<PromptBody>>> {
    let (page, scope) = query.resolve(&state, &principal).await?;
    let prompts = state.spool.list_prompts(&principal, &scope, page).await?;
    let users = state
        .spool
        .user_uuids(&prompts.items.iter().map(|p| p.user_id).collect::<Vec<_>>())
        .await?;
    let body = Paginated::new(prompts, "/api/v1/prompts", |prompt| {
        let user = users.get(&prompt.user_id).map(|u| u.to_string());
        PromptBody::new(prompt, user)
    });
    Ok(axum::Json(body.keeping(&query.kept())))
}

/// Show a prompt
#[utoipa::path(get, path = "/api/v1/prompts/{uuid}", tag = "athena: prompts", operation_id = "athena_show_prompt",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The prompt", body = super::openapi::AthenaPromptResponse),
        (status = 404, description = "No such prompt the caller may see", body = super::openapi::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, PromptId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<PromptBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let prompt = state.spool.prompt(&principal, &scope, id).await?;
    Ok(data(body(&state, prompt).await?))
}

/// Update a prompt
///
/// Changes the fields given. Its creator may, and the workspace's owners,
/// admins and API keys.
#[utoipa::path(put, path = "/api/v1/prompts/{uuid}", tag = "athena: prompts", operation_id = "athena_update_prompt",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = PromptRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The prompt as it is now", body = super::openapi::AthenaPromptResponse),
        (status = 403, description = "Neither its creator nor a workspace admin", body = super::openapi::ErrorBody),
        (status = 404, description = "No such prompt the caller may see", body = super::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, PromptId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(request, _): Json<Athena, PromptRequest>,
) -> Result<axum::Json<Data<PromptBody>>> {
    let named = named_workspace(request.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let prompt = state
        .spool
        .update_prompt(&principal, &scope, id, request.input())
        .await?;
    Ok(data(body(&state, prompt).await?))
}

/// Delete a prompt
#[utoipa::path(delete, path = "/api/v1/prompts/{uuid}", tag = "athena: prompts", operation_id = "athena_delete_prompt",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Neither its creator nor a workspace admin", body = super::openapi::ErrorBody),
        (status = 404, description = "No such prompt the caller may see", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, PromptId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state.spool.delete_prompt(&principal, &scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaRunPromptRequest)]
pub struct RunPromptRequest {
    /// A value (a string or a number) for each variable of the template;
    /// a missing or unknown one answers 422 naming it.
    #[schema(value_type = Option<Object>, additional_properties, example = json!({"sender": "Ada", "topic": "the invoice"}))]
    pub variables: Option<Map<String, Value>>,
    /// Instead of the prompt's model.
    #[schema(example = "echo")]
    pub model: Option<String>,
    /// Start a thread with the filled text and run it (the answer is then
    /// that of running an agent); by default nothing is stored.
    pub thread: Option<bool>,
    /// Server-Sent Events instead of one JSON answer (also `Accept: text/event-stream`).
    pub stream: Option<bool>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// The model's answer to a filled prompt.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaPromptReply)]
pub struct PromptReply {
    /// The model's reply.
    pub content: String,
    /// The filled template, as sent.
    pub prompt: String,
    pub model: String,
    /// `stop`, `length`, `content_filter`, or null when the provider said none.
    pub finish_reason: Option<&'static str>,
    #[schema(value_type = Option<PromptUsage>)]
    pub usage: Option<Value>,
}

/// Tokens the provider reported.
#[derive(ToSchema)]
#[schema(as = AthenaPromptUsage)]
pub struct PromptUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaPromptReplyBody)]
pub struct PromptReplyBody {
    pub data: PromptReply,
}

/// What running a prompt answers: the reply, or (with `thread: true`) the
/// new thread's run.
#[derive(ToSchema)]
#[schema(as = AthenaPromptRunAnswer)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum PromptRunAnswer {
    Reply(PromptReplyBody),
    Run(Box<RunResult>),
}

/// Run a prompt
///
/// Fills the template's variables and asks the model. Streamed, the events
/// are `prompt.delta` (`{"content"}`), then `prompt.completed` (the reply)
/// or `error` (`{"message"}`), then `done`. With `thread: true` a thread
/// is made with the filled text and run; the answer (or stream) is then a
/// run's, as for running an agent.
#[utoipa::path(post, path = "/api/v1/prompts/{uuid}/run", tag = "athena: prompts", operation_id = "athena_run_prompt",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = RunPromptRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The reply, or its events",
            content((PromptRunAnswer = "application/json"), (String = "text/event-stream"))),
        (status = 404, description = "No such prompt the caller may see", body = super::openapi::ErrorBody),
        (status = 409, description = "The model could not answer", body = super::openapi::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, PromptId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    headers: HeaderMap,
    Json(request, _): Json<Athena, RunPromptRequest>,
) -> Result<Response> {
    let named = named_workspace(request.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let stream = crate::sse::wanted(&headers, request.stream);
    let input = RunPromptInput {
        variables: request.variables.unwrap_or_default(),
        model: request.model,
        thread: request.thread.unwrap_or(false),
    };
    match state
        .spool
        .run_prompt(&principal, &scope, id, input)
        .await?
    {
        PromptRun::Thread(run) => {
            if stream {
                Ok(sse(run.events))
            } else {
                Ok(settle_after(&state, &principal, run.events, 0)
                    .await?
                    .into_response())
            }
        }
        PromptRun::Direct {
            model,
            text,
            events,
        } => {
            let reply = Reply {
                model,
                prompt: text,
                content: String::new(),
                finish_reason: None,
                usage: None,
            };
            if stream {
                Ok(stream_reply(reply, events))
            } else {
                collect(reply, events).await
            }
        }
    }
}

struct Reply {
    model: String,
    prompt: String,
    content: String,
    finish_reason: Option<&'static str>,
    usage: Option<(u64, u64)>,
}

impl Reply {
    /// Takes in one event; a piece of text to send on, if any.
    fn take(&mut self, event: ChatEvent) -> Option<String> {
        match event {
            ChatEvent::Delta(piece) => {
                self.content.push_str(&piece);
                Some(piece)
            }
            ChatEvent::Usage(usage) => {
                self.usage = Some((
                    u64::from(usage.input_tokens),
                    u64::from(usage.output_tokens),
                ));
                None
            }
            ChatEvent::Finished(reason) => {
                self.finish_reason = Some(reason.as_str());
                None
            }
            ChatEvent::ToolCall(_) => None,
        }
    }

    fn body(self) -> PromptReply {
        PromptReply {
            content: self.content,
            prompt: self.prompt,
            model: self.model,
            finish_reason: self.finish_reason,
            usage: self.usage.map(
                |(i, o)| json!({"input_tokens": i, "output_tokens": o, "total_tokens": i + o}),
            ),
        }
    }
}

async fn collect(mut reply: Reply, mut events: ChatStream) -> Result<Response> {
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => {
                reply.take(event);
            }
            Err(err) => {
                tracing::warn!(error = %err, "a prompt's model call failed");
                return Err(spool_core::CoreError::Conflict(format!(
                    "The model could not answer: {err}"
                ))
                .into());
            }
        }
    }
    Ok(axum::Json(PromptReplyBody { data: reply.body() }).into_response())
}

fn stream_reply(reply: Reply, events: ChatStream) -> Response {
    let state = (Some(reply), events);
    let stream = futures_util::stream::unfold(state, |(reply, mut events)| async move {
        let mut reply = reply?;
        loop {
            match events.next().await {
                Some(Ok(event)) => {
                    if let Some(piece) = reply.take(event) {
                        let event = Event::default()
                            .event("prompt.delta")
                            .data(json!({ "content": piece }).to_string());
                        return Some((vec![event], (Some(reply), events)));
                    }
                }
                Some(Err(err)) => {
                    tracing::warn!(error = %err, "a prompt's model call failed");
                    let message = format!("The model could not answer: {err}");
                    let out = vec![
                        Event::default()
                            .event("error")
                            .data(json!({ "message": message }).to_string()),
                        Event::default().event("done").data("[DONE]"),
                    ];
                    return Some((out, (None, events)));
                }
                None => {
                    let body = serde_json::to_string(&reply.body()).unwrap_or_default();
                    let out = vec![
                        Event::default().event("prompt.completed").data(body),
                        Event::default().event("done").data("[DONE]"),
                    ];
                    return Some((out, (None, events)));
                }
            }
        }
    })
    .flat_map(|events| futures_util::stream::iter(events.into_iter().map(Ok::<_, Infallible>)));
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
