//! Providers per workspace: a workspace's owners, admins and API keys add
//! an OpenAI-compatible or Anthropic endpoint with its credentials and the
//! models on it; the workspace's runs may use those models beside the
//! server's. Members see the providers, never their credentials: those are
//! sealed (`crate::sealing`) as they arrive and only hints are shown.
//!
//! A model name is looked up in the workspace's providers first, then in
//! the server's catalog; a workspace cannot take the name of a server
//! model, so the two meet only if the server later adds one.

use super::{Principal, Scope, Spool};
use crate::catalog::ModelEntry;
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Authentication, ProviderKind, ProviderModel, WorkspaceProvider, secret_hint};
use crate::paging::{Page, PageRequest};
use crate::provider::{Provider, ProviderEndpoint};
use crate::secret::SecretText;
use crate::{ProviderId, WorkspaceId, now};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The longest provider name.
pub const PROVIDER_NAME_MAX_CHARS: usize = 100;
/// The longest description.
pub const PROVIDER_DESCRIPTION_MAX_CHARS: usize = 2_000;
/// The longest base URL.
pub const BASE_URL_MAX_CHARS: usize = 2_048;
/// The longest key or header value.
pub const SECRET_MAX_CHARS: usize = 4_096;
/// Most headers one provider sends.
pub const HEADERS_MAX: usize = 20;
/// Most models on one provider.
pub const PROVIDER_MODELS_MAX: usize = 100;
/// The longest model name, upstream id or label.
pub const MODEL_NAME_MAX_CHARS: usize = 200;
/// The largest context window accepted, in tokens.
pub const CONTEXT_WINDOW_MAX: u32 = 10_000_000;
/// The reply limit of a model that names none (as for the server's).
const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 4_096;
/// Built providers kept per process before the map starts over.
const BUILT_PROVIDERS_MAX: usize = 1_024;

/// Credentials as a client gives them.
#[derive(Debug)]
pub enum AuthenticationInput {
    None,
    ApiKey {
        api_key: SecretText,
        /// Send the key raw in this header instead of the kind's usual one.
        header: Option<String>,
    },
    Headers(BTreeMap<String, SecretText>),
}

/// A provider to add, or the fields to change (`None` keeps one).
#[derive(Debug, Default)]
pub struct ProviderInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    /// `openai` or `anthropic`.
    pub kind: Option<String>,
    pub base_url: Option<String>,
    pub authentication: Option<AuthenticationInput>,
    pub models: Option<Vec<ProviderModel>>,
}

/// What is sealed: the secret half of the authentication.
#[derive(Serialize, Deserialize, Default)]
struct Credentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    api_key: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, String>,
}

/// How many providers `spool keys rotate` re-sealed, and which it could not.
#[derive(Debug, Default)]
pub struct Rotation {
    pub resealed: usize,
    /// Providers whose credentials no configured key opens, with why.
    pub failed: Vec<(ProviderId, String)>,
}

/// Binds a sealed value to its provider.
fn seal_context(id: ProviderId) -> Vec<u8> {
    format!("spool-provider:{id}").into_bytes()
}

impl Spool {
    fn require_provider_admin(scope: &Scope) -> Result<(), CoreError> {
        if scope.sees_all() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(
                "Only a workspace's owners, admins and API keys may change its providers.".into(),
            ))
        }
    }

    fn provider_factory(&self) -> Result<&Arc<dyn crate::provider::ProviderFactory>, CoreError> {
        self.runtime().provider_factory.as_ref().ok_or_else(|| {
            CoreError::Conflict("This server does not call providers of workspaces.".into())
        })
    }

    pub async fn create_provider(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: ProviderInput,
    ) -> Result<WorkspaceProvider, CoreError> {
        Self::require_provider_admin(scope)?;
        let mut errors = ValidationErrors::new();
        for (field, missing) in [
            ("name", input.name.is_none()),
            ("type", input.kind.is_none()),
            ("base_url", input.base_url.is_none()),
            ("models", input.models.is_none()),
        ] {
            if missing {
                errors.add(field, format!("The {field} field is required."));
            }
        }
        let at = now();
        let mut provider = WorkspaceProvider {
            id: ProviderId::new(),
            workspace_id: scope.id(),
            user_id: Some(principal.user_id()),
            name: String::new(),
            description: None,
            kind: ProviderKind::OpenAi,
            base_url: String::new(),
            authentication: Authentication::None,
            secret: None,
            models: Vec::new(),
            created_at: at,
            updated_at: at,
        };
        let input = ProviderInput {
            authentication: Some(input.authentication.unwrap_or(AuthenticationInput::None)),
            ..input
        };
        self.apply_provider_input(&mut provider, input, errors)
            .await?;
        match self.store().insert_provider(provider.clone()).await {
            Ok(()) => Ok(provider),
            Err(crate::StoreError::Unique(_)) => Err(name_taken()),
            Err(err) => Err(err.into()),
        }
    }

    /// Oldest first: the workspace's providers (members may see them).
    pub async fn list_providers(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<WorkspaceProvider>, CoreError> {
        Ok(self.store().list_providers(scope.id(), page).await?)
    }

    pub async fn provider(
        &self,
        scope: &Scope,
        id: ProviderId,
    ) -> Result<WorkspaceProvider, CoreError> {
        self.store()
            .provider(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Provider"))
    }

    /// Changes the fields given. A new `base_url` or `type` needs the
    /// credentials given again, so that nobody can send someone else's
    /// key to another address.
    pub async fn update_provider(
        &self,
        scope: &Scope,
        id: ProviderId,
        input: ProviderInput,
    ) -> Result<WorkspaceProvider, CoreError> {
        let mut provider = self.provider(scope, id).await?;
        Self::require_provider_admin(scope)?;
        let mut errors = ValidationErrors::new();
        let moves = input
            .base_url
            .as_deref()
            .is_some_and(|url| url.trim() != provider.base_url)
            || input
                .kind
                .as_deref()
                .is_some_and(|kind| kind != provider.kind.as_str());
        if moves && input.authentication.is_none() && provider.secret.is_some() {
            errors.add(
                "authentication_config",
                "A new base_url or type needs the credentials again (authentication_config).",
            );
        }
        self.apply_provider_input(&mut provider, input, errors)
            .await?;
        provider.updated_at = now().max(provider.updated_at + chrono::Duration::microseconds(1));
        match self.store().update_provider(&provider).await {
            Ok(true) => Ok(provider),
            Ok(false) => Err(CoreError::NotFound("Provider")),
            Err(crate::StoreError::Unique(_)) => Err(name_taken()),
            Err(err) => Err(err.into()),
        }
    }

    pub async fn delete_provider(&self, scope: &Scope, id: ProviderId) -> Result<(), CoreError> {
        let provider = self.provider(scope, id).await?;
        Self::require_provider_admin(scope)?;
        if self
            .store()
            .delete_provider(scope.id(), provider.id)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::NotFound("Provider"))
        }
    }

    /// Validates `input` onto `provider`, seals new credentials and checks
    /// that the result builds; every problem found is in the error.
    async fn apply_provider_input(
        &self,
        provider: &mut WorkspaceProvider,
        input: ProviderInput,
        mut errors: ValidationErrors,
    ) -> Result<(), CoreError> {
        let factory = self.provider_factory()?.clone();
        if let Some(name) = input.name {
            let name = name.trim();
            if name.is_empty() {
                errors.add("name", "The name field is required.");
            } else if name.chars().count() > PROVIDER_NAME_MAX_CHARS {
                errors.add(
                    "name",
                    format!(
                        "The name may not be greater than {PROVIDER_NAME_MAX_CHARS} characters."
                    ),
                );
            }
            provider.name = name.to_owned();
        }
        if let Some(description) = input.description {
            let description = description.filter(|d| !d.trim().is_empty());
            if description
                .as_ref()
                .is_some_and(|d| d.chars().count() > PROVIDER_DESCRIPTION_MAX_CHARS)
            {
                errors.add(
                    "description",
                    format!(
                        "The description may not be greater than {PROVIDER_DESCRIPTION_MAX_CHARS} characters."
                    ),
                );
            }
            provider.description = description;
        }
        if let Some(kind) = input.kind {
            match ProviderKind::parse(&kind) {
                Some(kind) => provider.kind = kind,
                None => errors.add("type", "The type must be openai or anthropic."),
            }
        }
        if let Some(url) = input.base_url {
            let url = url.trim().to_owned();
            if url.chars().count() > BASE_URL_MAX_CHARS {
                errors.add(
                    "base_url",
                    format!(
                        "The base_url may not be greater than {BASE_URL_MAX_CHARS} characters."
                    ),
                );
            } else if let Some(why) = factory.refuse_base_url(&url).await {
                errors.add("base_url", why);
            }
            provider.base_url = url;
        }
        let mut credentials = None;
        if let Some(auth) = input.authentication {
            let (shown, secret) = check_authentication(auth, &mut errors);
            provider.authentication = shown;
            credentials = Some(secret);
        }
        if let Some(models) = input.models {
            self.check_models(provider, &models, &mut errors).await?;
            provider.models = models;
        }
        errors.into_result()?;

        // The credentials in use: the new ones, else the stored ones opened.
        let credentials = match credentials {
            Some(credentials) => {
                provider.secret = if credentials.api_key.is_none() && credentials.headers.is_empty()
                {
                    None
                } else {
                    let plain = serde_json::to_vec(&credentials).map_err(CoreError::internal)?;
                    Some(
                        self.runtime()
                            .keyring
                            .seal(&plain, &seal_context(provider.id))
                            .map_err(|err| {
                                CoreError::invalid(
                                    "authentication_config",
                                    format!("The credentials cannot be stored: {err}."),
                                )
                            })?,
                    )
                };
                credentials
            }
            None => self.open_credentials(provider)?,
        };
        let endpoint = endpoint(provider, credentials);
        factory
            .build(&endpoint)
            .map_err(|why| CoreError::invalid("authentication_config", why))?;
        Ok(())
    }

    /// Names unique on the provider and in the workspace, none the server's.
    async fn check_models(
        &self,
        provider: &WorkspaceProvider,
        models: &[ProviderModel],
        errors: &mut ValidationErrors,
    ) -> Result<(), CoreError> {
        if models.is_empty() || models.len() > PROVIDER_MODELS_MAX {
            errors.add(
                "models",
                format!("A provider has 1 to {PROVIDER_MODELS_MAX} models."),
            );
            return Ok(());
        }
        let others = self
            .store()
            .workspace_providers(provider.workspace_id)
            .await?;
        for (i, model) in models.iter().enumerate() {
            let field = |name: &str| format!("models.{i}.{name}");
            let name = model.name.trim();
            if name.is_empty() || name != model.name {
                errors.add(
                    field("name"),
                    "The name is required, without surrounding spaces.",
                );
            } else if name.chars().count() > MODEL_NAME_MAX_CHARS {
                errors.add(
                    field("name"),
                    format!("The name may not be greater than {MODEL_NAME_MAX_CHARS} characters."),
                );
            } else if models[..i].iter().any(|m| m.name == name) {
                errors.add(
                    field("name"),
                    format!("The model '{name}' is listed twice."),
                );
            } else if self.config().catalog.get(name).is_some() {
                errors.add(
                    field("name"),
                    format!("The server has a model named '{name}'; choose another name."),
                );
            } else if let Some(other) = others
                .iter()
                .find(|p| p.id != provider.id && p.models.iter().any(|m| m.name == name))
            {
                // The request is fine; the workspace's state clashes with it.
                return Err(CoreError::Conflict(format!(
                    "The workspace's provider '{}' has a model named '{name}'.",
                    other.name
                )));
            }
            for (key, text) in [
                ("upstream_model", model.upstream_model.as_deref()),
                ("label", model.label.as_deref()),
            ] {
                if let Some(text) = text
                    && (text.trim().is_empty() || text.chars().count() > MODEL_NAME_MAX_CHARS)
                {
                    errors.add(
                        field(key),
                        format!("The {key} must be 1 to {MODEL_NAME_MAX_CHARS} characters."),
                    );
                }
            }
            if !(1..=CONTEXT_WINDOW_MAX).contains(&model.context_window) {
                errors.add(
                    field("context_window"),
                    format!("The context_window must be between 1 and {CONTEXT_WINDOW_MAX}."),
                );
            }
            if model
                .max_output_tokens
                .is_some_and(|m| m == 0 || m >= model.context_window)
            {
                errors.add(
                    field("max_output_tokens"),
                    "The max_output_tokens must be at least 1 and less than the context_window.",
                );
            }
        }
        Ok(())
    }

    fn open_credentials(&self, provider: &WorkspaceProvider) -> Result<Credentials, CoreError> {
        let Some(sealed) = &provider.secret else {
            return Ok(Credentials::default());
        };
        let plain = self
            .runtime()
            .keyring
            .open(sealed, &seal_context(provider.id))
            .map_err(|err| {
                tracing::warn!(provider = %provider.id, "a provider's credentials do not open: {err}");
                CoreError::Conflict(format!(
                    "The provider's credentials cannot be read: {err}."
                ))
            })?;
        serde_json::from_slice(&plain).map_err(CoreError::internal)
    }

    /// Every model a workspace's runs may use: its providers', then the
    /// server's.
    pub async fn models_for(&self, workspace: WorkspaceId) -> Result<Vec<ModelEntry>, CoreError> {
        let mut models: Vec<ModelEntry> = self
            .store()
            .workspace_providers(workspace)
            .await?
            .iter()
            .flat_map(model_entries)
            .collect();
        models.extend(self.config().catalog.models.iter().cloned());
        Ok(models)
    }

    /// The models a caller sees: those of the workspace it names (else its
    /// API key's, else its primary one); a user in no workspace yet sees
    /// the server's.
    pub async fn models_seen_by(
        &self,
        principal: &Principal,
        named: Option<WorkspaceId>,
    ) -> Result<Vec<ModelEntry>, CoreError> {
        if let (None, Principal::Session { user, .. }) = (named, principal)
            && user.primary_workspace_id.is_none()
        {
            return Ok(self.config().catalog.models.clone());
        }
        let scope = self.resolve_scope(principal, named).await?;
        self.models_for(scope.id()).await
    }

    /// The model of that name a workspace's runs use: its own providers'
    /// first, then the server's.
    pub async fn model_named(
        &self,
        workspace: WorkspaceId,
        name: &str,
    ) -> Result<Option<ModelEntry>, CoreError> {
        if self.runtime().provider_factory.is_some() {
            let providers = self.store().workspace_providers(workspace).await?;
            if let Some(model) = providers
                .iter()
                .flat_map(model_entries)
                .find(|m| m.name == name)
            {
                return Ok(Some(model));
            }
        }
        Ok(self.config().catalog.get(name).cloned())
    }

    /// The model of that name with the provider that serves it, from one
    /// read of the workspace's providers: what a caller about to ask the
    /// model needs.
    pub(crate) async fn model_with_provider(
        &self,
        workspace: WorkspaceId,
        name: &str,
    ) -> Result<Option<(ModelEntry, Arc<dyn Provider>)>, CoreError> {
        if self.runtime().provider_factory.is_some() {
            let providers = self.store().workspace_providers(workspace).await?;
            for provider in &providers {
                if let Some(model) = model_entries(provider).find(|m| m.name == name) {
                    let built = self.built(provider)?;
                    return Ok(Some((model, built)));
                }
            }
        }
        match self.config().catalog.get(name) {
            Some(model) => Ok(Some((model.clone(), self.provider_for(model).await?))),
            None => Ok(None),
        }
    }

    /// The provider that serves `model`: the server's by name, or the
    /// workspace's, built once per change of it.
    pub(crate) async fn provider_for(
        &self,
        model: &ModelEntry,
    ) -> Result<Arc<dyn Provider>, CoreError> {
        let Some((workspace, id)) = model.workspace_provider else {
            return self
                .runtime()
                .providers
                .get(&model.provider)
                .cloned()
                .ok_or_else(|| {
                    CoreError::invalid(
                        "model",
                        format!("The model '{}' has no provider configured.", model.name),
                    )
                });
        };
        let provider = self.store().provider(workspace, id).await?.ok_or_else(|| {
            CoreError::Conflict(format!("The model '{}' has no provider now.", model.name))
        })?;
        self.built(&provider)
    }

    /// `provider` ready to call: built at its first use and again after
    /// each change of it (its `updated_at`).
    fn built(&self, provider: &WorkspaceProvider) -> Result<Arc<dyn Provider>, CoreError> {
        let id = provider.id;
        let built = &self.runtime().built_providers;
        if let Some((at, built)) = built.lock().expect("not poisoned").get(&id)
            && *at == provider.updated_at
        {
            return Ok(built.clone());
        }
        let credentials = self.open_credentials(provider)?;
        let made = self
            .provider_factory()?
            .build(&endpoint(provider, credentials))
            .map_err(CoreError::Conflict)?;
        let mut built = built.lock().expect("not poisoned");
        if built.len() >= BUILT_PROVIDERS_MAX {
            built.clear();
        }
        built.insert(id, (provider.updated_at, made.clone()));
        Ok(made)
    }

    /// Re-seals with the current key every provider's credentials that an
    /// older key of the ring sealed (`spool keys rotate`).
    pub async fn rotate_provider_keys(&self) -> Result<Rotation, CoreError> {
        let keyring = self.runtime().keyring.clone();
        let current = keyring.current_id().ok_or_else(|| {
            CoreError::Conflict("No encryption key is configured (encryption_keys).".into())
        })?;
        let mut rotation = Rotation::default();
        let mut after = None;
        loop {
            let batch = self
                .store()
                .providers_sealed_with_other_keys(current, after, 100)
                .await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.id);
            for provider in batch {
                let Some(old) = &provider.secret else {
                    continue;
                };
                let context = seal_context(provider.id);
                let sealed = keyring
                    .open(old, &context)
                    .and_then(|plain| keyring.seal(&plain, &context));
                match sealed {
                    Ok(new) => {
                        if self.store().reseal_provider(provider.id, old, &new).await? {
                            rotation.resealed += 1;
                        }
                    }
                    Err(err) => rotation.failed.push((provider.id, err.to_string())),
                }
            }
        }
        Ok(rotation)
    }
}

fn name_taken() -> CoreError {
    CoreError::Conflict("The workspace has a provider of that name.".into())
}

/// The shown half and the secret half of `auth`, checked.
fn check_authentication(
    auth: AuthenticationInput,
    errors: &mut ValidationErrors,
) -> (Authentication, Credentials) {
    let field = "authentication_config";
    let check_secret = |key: &str, value: &str, errors: &mut ValidationErrors| {
        if value.trim().is_empty() || value.chars().count() > SECRET_MAX_CHARS {
            errors.add(
                format!("{field}.{key}"),
                format!("The {key} must be 1 to {SECRET_MAX_CHARS} characters."),
            );
        }
    };
    match auth {
        AuthenticationInput::None => (Authentication::None, Credentials::default()),
        AuthenticationInput::ApiKey { api_key, header } => {
            check_secret("api_key", api_key.expose(), errors);
            let header = header
                .map(|h| h.trim().to_owned())
                .filter(|h| !h.is_empty());
            let shown = Authentication::ApiKey {
                header,
                hint: secret_hint(api_key.expose()),
            };
            let secret = Credentials {
                api_key: Some(api_key.expose().to_owned()),
                headers: BTreeMap::new(),
            };
            (shown, secret)
        }
        AuthenticationInput::Headers(headers) => {
            if headers.is_empty() || headers.len() > HEADERS_MAX {
                errors.add(
                    format!("{field}.headers"),
                    format!("Give 1 to {HEADERS_MAX} headers."),
                );
            }
            let mut hints = BTreeMap::new();
            let mut values = BTreeMap::new();
            for (name, value) in headers {
                check_secret(&format!("headers.{name}"), value.expose(), errors);
                hints.insert(name.clone(), secret_hint(value.expose()));
                values.insert(name, value.expose().to_owned());
            }
            (
                Authentication::Headers { hints },
                Credentials {
                    api_key: None,
                    headers: values,
                },
            )
        }
    }
}

fn endpoint(provider: &WorkspaceProvider, credentials: Credentials) -> ProviderEndpoint {
    let api_key_header = match &provider.authentication {
        Authentication::ApiKey { header, .. } => header.clone(),
        _ => None,
    };
    ProviderEndpoint {
        name: provider.name.clone(),
        kind: provider.kind,
        base_url: provider.base_url.clone(),
        api_key: credentials.api_key,
        api_key_header,
        headers: credentials.headers,
    }
}

/// A provider's models as the catalog lists them.
pub fn model_entries(provider: &WorkspaceProvider) -> impl Iterator<Item = ModelEntry> + '_ {
    provider.models.iter().map(move |model| {
        let mut entry = ModelEntry::new(
            &model.name,
            &provider.name,
            model.context_window,
            model
                .max_output_tokens
                .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
                .min(model.context_window.saturating_sub(1).max(1)),
        );
        entry.uuid = uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("spool-model:{}:{}", provider.id, model.name).as_bytes(),
        );
        entry.upstream_name = model
            .upstream_model
            .clone()
            .unwrap_or_else(|| model.name.clone());
        entry.description = Some(model.label.clone().unwrap_or_else(|| model.name.clone()));
        entry.vision = model.vision;
        entry.workspace_provider = Some((provider.workspace_id, provider.id));
        entry
    })
}
