//! Providers per workspace: an OpenAI-compatible or Anthropic endpoint a
//! workspace adds with its credentials (`authentication_config`) and the
//! models on it. The credentials are answered as hints only, never again
//! in full.

use super::wire::{Data, Paginated, data, time};
use super::{Athena, Result, WorkspaceParam, named_workspace, scope};
use crate::AppState;
use crate::extract::{Auth, Json, Query};
use crate::paths::{PathId, double_option};
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use spool_core::ProviderId;
use spool_core::error::ValidationErrors;
use spool_core::model::{Authentication, ProviderModel, WorkspaceProvider};
use spool_core::secret::SecretText;
use spool_core::service::{AuthenticationInput, ProviderInput, model_entries};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// How requests to the provider authenticate. `api_key`: the key goes in
/// `Authorization: Bearer …` (OpenAI) or `x-api-key` (Anthropic), or raw in
/// `header`; `headers`: these headers are sent as given; `none`: nothing.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaAuthenticationConfig)]
pub struct AuthenticationConfig {
    #[serde(rename = "type")]
    #[schema(value_type = AuthenticationType)]
    pub kind: String,
    /// With `api_key`: the key (1 to 4,096 characters). Never shown again.
    #[schema(
        min_length = 1,
        max_length = 4096,
        pattern = r"\S",
        example = "sk-proj-…"
    )]
    pub api_key: Option<String>,
    /// With `api_key`: the header it goes in raw (Azure: `api-key`).
    #[schema(pattern = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", example = "api-key")]
    pub header: Option<String>,
    /// With `headers`: 1 to 20 headers by name (valid header names and
    /// values). Their values are never shown again.
    pub headers: Option<BTreeMap<String, String>>,
}

#[derive(ToSchema)]
#[schema(as = AthenaAuthenticationType)]
#[allow(dead_code)]
pub enum AuthenticationType {
    #[schema(rename = "api_key")]
    ApiKey,
    #[schema(rename = "headers")]
    Headers,
    #[schema(rename = "none")]
    None,
}

impl AuthenticationConfig {
    fn input(self) -> Result<AuthenticationInput> {
        let field = "authentication_config";
        let mut errors = ValidationErrors::new();
        let stray = |errors: &mut ValidationErrors, key: &str, given: bool| {
            if given {
                errors.add(
                    format!("{field}.{key}"),
                    format!("The {key} field does not go with type {}.", self.kind),
                );
            }
        };
        let input = match self.kind.as_str() {
            "none" => {
                stray(&mut errors, "api_key", self.api_key.is_some());
                stray(&mut errors, "header", self.header.is_some());
                stray(&mut errors, "headers", self.headers.is_some());
                AuthenticationInput::None
            }
            "api_key" => {
                stray(&mut errors, "headers", self.headers.is_some());
                match &self.api_key {
                    Some(key) => AuthenticationInput::ApiKey {
                        api_key: SecretText::new(key.clone()),
                        header: self.header.clone(),
                    },
                    None => {
                        errors.add(
                            format!("{field}.api_key"),
                            "The api_key field is required with type api_key.",
                        );
                        AuthenticationInput::None
                    }
                }
            }
            "headers" => {
                stray(&mut errors, "api_key", self.api_key.is_some());
                stray(&mut errors, "header", self.header.is_some());
                match &self.headers {
                    Some(headers) => AuthenticationInput::Headers(
                        headers
                            .iter()
                            .map(|(name, value)| (name.clone(), SecretText::new(value.clone())))
                            .collect(),
                    ),
                    None => {
                        errors.add(
                            format!("{field}.headers"),
                            "The headers field is required with type headers.",
                        );
                        AuthenticationInput::None
                    }
                }
            }
            _ => {
                errors.add(
                    format!("{field}.type"),
                    "The type must be api_key, headers or none.",
                );
                AuthenticationInput::None
            }
        };
        errors.into_result()?;
        Ok(input)
    }
}

/// A model on the provider.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaProviderModelRequest)]
pub struct ModelRequest {
    /// What runs ask for: unique in the workspace, not a server model's name.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\S(?:[\s\S]*\S)?$",
        example = "team-gpt"
    )]
    pub name: String,
    /// The provider's own id for it; `name` when absent.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"\S",
        example = "gpt-4o-mini"
    )]
    pub upstream_model: Option<String>,
    /// Prompt plus reply, in tokens.
    #[schema(minimum = 1, maximum = 10000000, example = 128000)]
    #[serde(deserialize_with = "required_whole")]
    pub context_window: u32,
    /// The reply limit when a run names none (4,096 when absent); less
    /// than `context_window`.
    #[schema(minimum = 1, maximum = 9999999)]
    #[serde(default, deserialize_with = "crate::paths::whole_number")]
    pub max_output_tokens: Option<u32>,
    /// How model lists show it.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub label: Option<String>,
    /// Takes images (attached images reach it as image parts).
    pub vision: Option<bool>,
}

fn required_whole<'de, D: serde::Deserializer<'de>>(de: D) -> std::result::Result<u32, D::Error> {
    use serde::de::Error;
    crate::paths::whole_number(de)?.ok_or_else(|| D::Error::custom("a whole number is required"))
}

impl From<ModelRequest> for ProviderModel {
    fn from(model: ModelRequest) -> Self {
        ProviderModel {
            name: model.name,
            upstream_model: model.upstream_model,
            context_window: model.context_window,
            max_output_tokens: model.max_output_tokens,
            label: model.label,
            vision: model.vision.unwrap_or(false),
        }
    }
}

/// A new provider: `name`, `type`, `base_url` and `models` are required.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaNewProviderRequest)]
pub struct NewProviderRequest {
    /// Unique in the workspace, at most 100 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"\S",
        example = "Team OpenAI"
    )]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = ProviderType)]
    pub kind: String,
    /// Up to and without `/chat/completions` (OpenAI) or `/v1/messages`
    /// (Anthropic). Loopback and private addresses only where the server
    /// allows them (`allowed_provider_hosts`).
    #[schema(
        max_length = 2048,
        pattern = r"^https?://[^/\s][^\s]*$",
        example = "https://api.openai.com/v1"
    )]
    pub base_url: String,
    /// `none` when absent.
    pub authentication_config: Option<AuthenticationConfig>,
    /// 1 to 100 models.
    #[schema(min_items = 1, max_items = 100)]
    pub models: Vec<ModelRequest>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

/// Changes to a provider: the fields given. A new `base_url` or `type`
/// needs `authentication_config` again (unless it is `none`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaProviderRequest)]
pub struct ProviderRequest {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[serde(rename = "type")]
    #[schema(value_type = Option<ProviderType>)]
    pub kind: Option<String>,
    #[schema(max_length = 2048, pattern = r"^https?://[^/\s][^\s]*$")]
    pub base_url: Option<String>,
    /// Replaces the credentials.
    pub authentication_config: Option<AuthenticationConfig>,
    /// Replaces the models (1 to 100).
    #[schema(min_items = 1, max_items = 100)]
    pub models: Option<Vec<ModelRequest>>,
    #[schema(format = Uuid)]
    pub workspace_uuid: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = AthenaProviderType)]
#[allow(dead_code)]
pub enum ProviderType {
    #[schema(rename = "openai")]
    OpenAi,
    #[schema(rename = "anthropic")]
    Anthropic,
}

/// The credentials as they are shown: their type and hints, never a secret.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaAuthenticationConfigShown)]
pub struct AuthenticationShown {
    #[serde(rename = "type")]
    #[schema(value_type = AuthenticationType)]
    pub kind: &'static str,
    /// `api_key`: the header the key goes in, when not the usual one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// `api_key`: the key's last four characters (`…` alone for a short key).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "…a1b2")]
    pub hint: Option<String>,
    /// `headers`: each header's name with its value's hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>, additional_properties)]
    pub headers: Option<BTreeMap<String, String>>,
}

impl From<&Authentication> for AuthenticationShown {
    fn from(auth: &Authentication) -> Self {
        let shown = AuthenticationShown {
            kind: auth.type_name(),
            header: None,
            hint: None,
            headers: None,
        };
        match auth {
            Authentication::None => shown,
            Authentication::ApiKey { header, hint } => AuthenticationShown {
                header: header.clone(),
                hint: Some(hint.clone()),
                ..shown
            },
            Authentication::Headers { hints } => AuthenticationShown {
                headers: Some(hints.clone()),
                ..shown
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaProviderModel)]
pub struct ModelShown {
    /// The model's uuid in `/api/v1/large-language-models`.
    #[schema(format = Uuid)]
    pub uuid: String,
    pub name: String,
    #[schema(required = true)]
    pub upstream_model: Option<String>,
    pub context_window: u32,
    #[schema(required = true)]
    pub max_output_tokens: Option<u32>,
    #[schema(required = true)]
    pub label: Option<String>,
    pub vision: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaProvider)]
pub struct ProviderBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    /// Who added it (null once that user is gone).
    #[schema(format = Uuid, required = true)]
    pub user_uuid: Option<String>,
    pub name: String,
    #[schema(required = true)]
    pub description: Option<String>,
    #[serde(rename = "type")]
    #[schema(value_type = ProviderType)]
    pub kind: &'static str,
    pub base_url: String,
    pub authentication_config: AuthenticationShown,
    pub models: Vec<ModelShown>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl ProviderBody {
    fn new(provider: WorkspaceProvider, user_uuid: Option<String>) -> Self {
        let uuids: Vec<String> = model_entries(&provider)
            .map(|m| m.uuid.to_string())
            .collect();
        let models = provider
            .models
            .iter()
            .zip(uuids)
            .map(|(m, uuid)| ModelShown {
                uuid,
                name: m.name.clone(),
                upstream_model: m.upstream_model.clone(),
                context_window: m.context_window,
                max_output_tokens: m.max_output_tokens,
                label: m.label.clone(),
                vision: m.vision,
            })
            .collect();
        Self {
            uuid: provider.id.to_string(),
            workspace_uuid: provider.workspace_id.to_string(),
            user_uuid,
            authentication_config: AuthenticationShown::from(&provider.authentication),
            name: provider.name,
            description: provider.description,
            kind: provider.kind.as_str(),
            base_url: provider.base_url,
            models,
            created_at: time(provider.created_at),
            updated_at: time(provider.updated_at),
        }
    }
}

async fn body(state: &AppState, provider: WorkspaceProvider) -> Result<ProviderBody> {
    let ids: Vec<_> = provider.user_id.into_iter().collect();
    let users = state.spool.user_uuids(&ids).await?;
    let user = provider
        .user_id
        .and_then(|id| users.get(&id))
        .map(|u| u.to_string());
    Ok(ProviderBody::new(provider, user))
}

fn models(models: Vec<ModelRequest>) -> Vec<ProviderModel> {
    models.into_iter().map(ProviderModel::from).collect()
}

/// Add a provider
///
/// Owners, admins and API keys of the workspace; other members get 403.
/// The answer shows the credentials' hints, never the credentials.
#[utoipa::path(post, path = "/api/v1/providers", tag = "athena: providers", operation_id = "athena_create_provider",
    params(WorkspaceParam), request_body = NewProviderRequest, security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "Added", body = super::openapi::AthenaProviderResponse),
        (status = 403, description = "Not a workspace owner or admin", body = super::openapi::ErrorBody),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(request, _): Json<Athena, NewProviderRequest>,
) -> Result<(StatusCode, axum::Json<Data<ProviderBody>>)> {
    let named = named_workspace(request.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = ProviderInput {
        name: Some(request.name),
        description: Some(request.description),
        kind: Some(request.kind),
        base_url: Some(request.base_url),
        authentication: request
            .authentication_config
            .map(AuthenticationConfig::input)
            .transpose()?,
        models: Some(models(request.models)),
    };
    let provider = state
        .spool
        .create_provider(&principal, &scope, input)
        .await?;
    Ok((StatusCode::CREATED, data(body(&state, provider).await?)))
}

/// List providers
///
/// The workspace's providers, oldest first. Every member may list them;
/// credentials show as hints.
#[utoipa::path(get, path = "/api/v1/providers", tag = "athena: providers", operation_id = "athena_list_providers",
    params(super::WorkspacePageParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of providers", body = super::openapi::AthenaProviderPage),
        (status = 404, description = "The workspace is not the caller's", body = super::openapi::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, super::WorkspacePageParams>,
) -> Result<axum::Json<Paginated<ProviderBody>>> {
    let (page, scope) = query.resolve(&state, &principal).await?;
    let providers = state.spool.list_providers(&scope, page).await?;
    let ids: Vec<_> = providers.items.iter().filter_map(|p| p.user_id).collect();
    let users = state.spool.user_uuids(&ids).await?;
    let body = Paginated::new(providers, "/api/v1/providers", |provider| {
        let user = provider
            .user_id
            .and_then(|id| users.get(&id))
            .map(|u| u.to_string());
        ProviderBody::new(provider, user)
    });
    Ok(axum::Json(body.keeping(&query.kept())))
}

/// Show a provider
#[utoipa::path(get, path = "/api/v1/providers/{uuid}", tag = "athena: providers", operation_id = "athena_show_provider",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The provider", body = super::openapi::AthenaProviderResponse),
        (status = 404, description = "No such provider in the workspace", body = super::openapi::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ProviderId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<ProviderBody>>> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let provider = state.spool.provider(&scope, id).await?;
    Ok(data(body(&state, provider).await?))
}

/// Update a provider
///
/// Changes the fields given; `authentication_config` replaces the
/// credentials and `models` the models. A new `base_url` or `type` needs
/// the credentials again. Owners, admins and API keys only.
#[utoipa::path(put, path = "/api/v1/providers/{uuid}", tag = "athena: providers", operation_id = "athena_update_provider",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), request_body = ProviderRequest,
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The provider as it is now", body = super::openapi::AthenaProviderResponse),
        (status = 403, description = "Not a workspace owner or admin", body = super::openapi::ErrorBody),
        (status = 404, description = "No such provider in the workspace", body = super::openapi::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ProviderId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    Json(request, _): Json<Athena, ProviderRequest>,
) -> Result<axum::Json<Data<ProviderBody>>> {
    let named = named_workspace(request.workspace_uuid.clone(), query.workspace_uuid)?;
    let scope = scope(&state, &principal, named.as_deref()).await?;
    let input = ProviderInput {
        name: request.name,
        description: request.description,
        kind: request.kind,
        base_url: request.base_url,
        authentication: request
            .authentication_config
            .map(AuthenticationConfig::input)
            .transpose()?,
        models: request.models.map(models),
    };
    let provider = state.spool.update_provider(&scope, id, input).await?;
    Ok(data(body(&state, provider).await?))
}

/// Delete a provider
///
/// Its models leave the workspace's catalog; runs that name them are
/// refused from then on. Owners, admins and API keys only.
#[utoipa::path(delete, path = "/api/v1/providers/{uuid}", tag = "athena: providers", operation_id = "athena_delete_provider",
    params(("uuid" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 403, description = "Not a workspace owner or admin", body = super::openapi::ErrorBody),
        (status = 404, description = "No such provider in the workspace", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, ProviderId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state.spool.delete_provider(&scope, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
