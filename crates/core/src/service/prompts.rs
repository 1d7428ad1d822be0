//! Prompts: a workspace's templates with `{{variables}}`. Members see the
//! workspace's prompts and their own private ones; anyone signed in may
//! read and run a public one by its id. Its creator changes it, and so do
//! the workspace's owners, admins and API keys.
//!
//! Running a prompt fills its variables (each named one is required, an
//! unknown one is refused) and asks its model once, without a thread;
//! with `thread` it starts a thread with the filled text and runs that.

use super::{NewThreadInput, Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Prompt, Visibility, fill_template, template_variables};
use crate::paging::{Page, PageRequest};
use crate::provider::{ChatMessage, ChatRequest, ChatRole, ChatStream};
use crate::runs::{RunInput, StartedRun};
use crate::validate::Metadata;
use crate::{PromptId, now};
use serde_json::{Map, Value};

/// The longest template accepted.
pub const TEMPLATE_MAX_CHARS: usize = 32_000;
/// The longest description accepted.
pub const PROMPT_DESCRIPTION_MAX_CHARS: usize = 2_000;
/// Most variables one template may name.
pub const TEMPLATE_MAX_VARIABLES: usize = 64;

/// A prompt to create, or the fields to change (`None` keeps one; a
/// `description` of `Some(None)` clears it).
#[derive(Debug, Default)]
pub struct PromptInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub template: Option<String>,
    pub model: Option<Option<String>>,
    pub settings: Option<Map<String, Value>>,
    pub visibility: Option<String>,
}

#[derive(Debug, Default)]
pub struct RunPromptInput {
    /// A value for every variable of the template, strings or numbers.
    pub variables: Map<String, Value>,
    /// Instead of the prompt's model, for this run.
    pub model: Option<String>,
    /// Start a thread with the filled text and run it, instead of asking
    /// the model once.
    pub thread: bool,
}

/// What running a prompt started.
pub enum PromptRun {
    /// The model's reply as it streams; nothing is stored.
    Direct {
        model: String,
        text: String,
        events: ChatStream,
    },
    /// The run of a new thread holding the filled text.
    Thread(Box<StartedRun>),
}

impl Spool {
    /// The public ids of users (prompts and memories show their user by
    /// it), each looked up once; a user who is gone has none.
    pub async fn user_uuids(
        &self,
        ids: &[crate::UserId],
    ) -> Result<std::collections::HashMap<crate::UserId, uuid::Uuid>, CoreError> {
        let mut found = std::collections::HashMap::new();
        for &id in ids {
            if found.contains_key(&id) {
                continue;
            }
            if let Some(user) = self.store().user(id).await? {
                found.insert(id, user.uuid);
            }
        }
        Ok(found)
    }

    pub async fn create_prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: PromptInput,
    ) -> Result<Prompt, CoreError> {
        let mut errors = ValidationErrors::new();
        if input.name.is_none() {
            errors.add("name", "The name field is required.");
        }
        if input.template.is_none() {
            errors.add("template", "The template field is required.");
        }
        let at = now();
        let mut prompt = Prompt {
            id: PromptId::new(),
            workspace_id: scope.id(),
            user_id: principal.user_id(),
            name: String::new(),
            description: None,
            template: String::new(),
            model: None,
            settings: Map::new(),
            visibility: Visibility::Workspace,
            created_at: at,
            updated_at: at,
        };
        self.apply_prompt_input(&mut prompt, input, &mut errors)
            .await?;
        errors.into_result()?;
        self.store().insert_prompt(prompt.clone()).await?;
        Ok(prompt)
    }

    /// Newest first: the workspace's prompts the caller may see.
    pub async fn list_prompts(
        &self,
        principal: &Principal,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<Prompt>, CoreError> {
        Ok(self
            .store()
            .list_prompts(scope.id(), principal.user_id(), page)
            .await?)
    }

    pub async fn prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: PromptId,
    ) -> Result<Prompt, CoreError> {
        let prompt = self
            .store()
            .prompt(id)
            .await?
            .ok_or(CoreError::NotFound("Prompt"))?;
        let own_workspace = prompt.workspace_id == scope.id();
        let visible = match prompt.visibility {
            Visibility::Public => true,
            Visibility::Workspace => own_workspace,
            Visibility::Private => own_workspace && prompt.user_id == principal.user_id(),
        };
        if visible {
            Ok(prompt)
        } else {
            Err(CoreError::NotFound("Prompt"))
        }
    }

    /// A prompt the caller may change: one of the workspace's that they
    /// see and made, or any of those for its owners, admins and API keys.
    async fn writable_prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: PromptId,
    ) -> Result<Prompt, CoreError> {
        let prompt = self.prompt(principal, scope, id).await?;
        if prompt.workspace_id != scope.id() {
            return Err(CoreError::NotFound("Prompt"));
        }
        if prompt.user_id != principal.user_id() && !scope.sees_all() {
            return Err(CoreError::Forbidden(
                "Only the prompt's creator or a workspace admin may change it.".into(),
            ));
        }
        Ok(prompt)
    }

    pub async fn update_prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: PromptId,
        input: PromptInput,
    ) -> Result<Prompt, CoreError> {
        let mut prompt = self.writable_prompt(principal, scope, id).await?;
        let mut errors = ValidationErrors::new();
        self.apply_prompt_input(&mut prompt, input, &mut errors)
            .await?;
        errors.into_result()?;
        prompt.updated_at = now();
        if self.store().update_prompt(&prompt).await? {
            Ok(prompt)
        } else {
            Err(CoreError::NotFound("Prompt"))
        }
    }

    pub async fn delete_prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: PromptId,
    ) -> Result<(), CoreError> {
        let prompt = self.writable_prompt(principal, scope, id).await?;
        if self.store().delete_prompt(scope.id(), prompt.id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound("Prompt"))
        }
    }

    pub async fn run_prompt(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: PromptId,
        input: RunPromptInput,
    ) -> Result<PromptRun, CoreError> {
        let prompt = self.prompt(principal, scope, id).await?;
        let names = template_variables(&prompt.template);
        let mut errors = ValidationErrors::new();
        for name in &names {
            match input.variables.get(name) {
                None | Some(Value::Null) => errors.add(
                    format!("variables.{name}"),
                    format!("The variables.{name} field is required."),
                ),
                Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {}
                Some(_) => errors.add(
                    format!("variables.{name}"),
                    format!("The variables.{name} must be a string or a number."),
                ),
            }
        }
        for name in input.variables.keys() {
            if !names.contains(name) {
                errors.add(
                    format!("variables.{name}"),
                    format!("The prompt has no variable {name}."),
                );
            }
        }
        let model_name = input
            .model
            .or_else(|| prompt.model.clone())
            .unwrap_or_else(|| self.config().catalog.default_model.clone());
        let model = self.model_named(scope.id(), &model_name).await?;
        if model.is_none() {
            errors.add(
                "model",
                format!("The model '{model_name}' is not configured here."),
            );
        }
        errors.into_result()?;
        let model = model.expect("no validation errors, so the model is known");
        let text = fill_template(&prompt.template, &input.variables);
        if text.len() > self.config().content_max_bytes {
            return Err(CoreError::invalid(
                "variables",
                format!(
                    "The filled prompt may not be greater than {} bytes.",
                    self.config().content_max_bytes
                ),
            ));
        }
        let setting = |key: &str| prompt.settings.get(key).and_then(Value::as_f64);
        let max_tokens = prompt
            .settings
            .get("max_tokens")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        if input.thread {
            let thread = self
                .create_thread(
                    principal,
                    scope,
                    NewThreadInput {
                        title: Some(prompt.name.clone()),
                        ..Default::default()
                    },
                )
                .await?;
            let run = RunInput {
                content: Some(text),
                model: Some(model.name.clone()),
                temperature: setting("temperature"),
                top_p: setting("top_p"),
                max_tokens,
                ..Default::default()
            };
            let run = self
                .start_run(principal, scope, thread.id, run, None)
                .await?;
            return Ok(PromptRun::Thread(Box::new(run)));
        }
        let provider = self.provider_for(&model).await?;
        let request = ChatRequest {
            model: model.upstream_name.clone(),
            messages: vec![ChatMessage::text(ChatRole::User, text.clone())],
            temperature: setting("temperature"),
            top_p: setting("top_p"),
            max_tokens: Some(max_tokens.unwrap_or(model.max_output_tokens.min(4096))),
            tools: Vec::new(),
            tool_choice: Default::default(),
        };
        let events = provider.stream_chat(request).await.map_err(|err| {
            tracing::warn!(error = %err, "a prompt's model call failed");
            CoreError::Conflict(format!("The model could not answer: {err}"))
        })?;
        Ok(PromptRun::Direct {
            model: model.name,
            text,
            events,
        })
    }

    async fn apply_prompt_input(
        &self,
        prompt: &mut Prompt,
        input: PromptInput,
        errors: &mut ValidationErrors,
    ) -> Result<(), CoreError> {
        if let Some(name) = input.name {
            prompt.name = crate::validate::name("name", &name, errors);
        }
        if let Some(description) = input.description {
            if description
                .as_ref()
                .is_some_and(|d| d.chars().count() > PROMPT_DESCRIPTION_MAX_CHARS)
            {
                errors.add(
                    "description",
                    format!(
                        "The description may not be greater than {PROMPT_DESCRIPTION_MAX_CHARS} characters."
                    ),
                );
            }
            prompt.description = description;
        }
        if let Some(template) = input.template {
            if template.trim().is_empty() {
                errors.add("template", "The template may not be blank.");
            } else if template.chars().count() > TEMPLATE_MAX_CHARS {
                errors.add(
                    "template",
                    format!(
                        "The template may not be greater than {TEMPLATE_MAX_CHARS} characters."
                    ),
                );
            } else if template_variables(&template).len() > TEMPLATE_MAX_VARIABLES {
                errors.add(
                    "template",
                    format!(
                        "A template may not name more than {TEMPLATE_MAX_VARIABLES} variables."
                    ),
                );
            }
            prompt.template = template;
        }
        if let Some(model) = input.model {
            if let Some(name) = &model
                && self.model_named(prompt.workspace_id, name).await?.is_none()
            {
                errors.add(
                    "model",
                    format!("The model '{name}' is not configured here."),
                );
            }
            prompt.model = model;
        }
        if let Some(mut settings) = input.settings {
            // A null setting is an unset one; `10.0` tokens are 10.
            settings.retain(|_, value| !value.is_null());
            if let Some(tokens) = settings.get_mut("max_tokens")
                && let Some(whole) = tokens
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= f64::from(u32::MAX))
            {
                *tokens = Value::from(whole as u64);
            }
            check_settings(&settings, errors);
            prompt.settings = Metadata::parse("settings", settings, errors).into_map();
        }
        if let Some(visibility) = input.visibility {
            match Visibility::parse(&visibility) {
                Some(v) => prompt.visibility = v,
                None => errors.add(
                    "visibility",
                    "The visibility must be private, workspace or public.",
                ),
            }
        }
        Ok(())
    }
}

/// `temperature` 0–2, `top_p` 0–1, `max_tokens` at least 1; nothing else.
fn check_settings(settings: &Map<String, Value>, errors: &mut ValidationErrors) {
    for (key, value) in settings {
        let ok = match key.as_str() {
            "temperature" => value.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t)),
            "top_p" => value.as_f64().is_some_and(|p| (0.0..=1.0).contains(&p)),
            "max_tokens" => value
                .as_u64()
                .is_some_and(|n| (1..=u64::from(u32::MAX)).contains(&n)),
            _ => {
                errors.add(
                    format!("settings.{key}"),
                    "The settings may hold temperature, top_p and max_tokens only.",
                );
                continue;
            }
        };
        if !ok {
            let rule = match key.as_str() {
                "temperature" => "a number between 0 and 2",
                "top_p" => "a number between 0 and 1",
                _ => "a whole number of at least 1",
            };
            errors.add(
                format!("settings.{key}"),
                format!("The settings.{key} must be {rule}."),
            );
        }
    }
}
