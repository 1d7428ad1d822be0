//! Agents: who may see, use and change them, and their validation.
//!
//! - read/use: agents of the caller's workspace that are not private (a
//!   private one: its creator, and owners, admins and API keys), public
//!   agents, and agents shared with the caller's workspace or with them;
//! - change: the creator, owners, admins and API keys of its workspace, and
//!   whoever holds a `write` share;
//! - delete and share: the creator, owners, admins and API keys of its workspace.

use super::{Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Agent, AgentShare, ShareEntity, SharePermission, Visibility};
use crate::paging::{Page, PageRequest};
use crate::query::AgentQuery;
use crate::validate::{self, Metadata};
use crate::{AgentId, UserId, WorkspaceId, now};
use serde_json::{Map, Value};

pub const DESCRIPTION_MAX_CHARS: usize = 2_000;
pub const INSTRUCTION_MAX_CHARS: usize = 32_000;

/// Fields of an agent as a client sends them; on update, `None` keeps the
/// current value.
#[derive(Debug, Default)]
pub struct AgentInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub instruction: Option<Option<String>>,
    pub profile_photo_url: Option<Option<String>>,
    pub profile_photo_config: Option<Option<Map<String, Value>>>,
    pub visibility: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    /// Tool definitions (see `crate::tools`), replacing the current list.
    pub tools: Option<Value>,
}

/// The most agents [`Spool::agent_window`] orders in one request.
pub const AGENT_WINDOW_MAX: usize = 10_000;

/// Which agents [`Spool::agent_window`] answers.
#[derive(Debug, Clone, Copy)]
pub struct AgentWindow {
    pub descending: bool,
    pub after: Option<AgentId>,
    pub before: Option<AgentId>,
    pub limit: u32,
}

pub struct ShareInput {
    pub entity_type: String,
    /// A workspace uuid or a user id (as text or number).
    pub entity_id: Value,
    pub permission: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Right {
    Use,
    Write,
    Manage,
}

fn long_text(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?;
    if value.chars().count() > max {
        errors.add(
            field,
            format!("The {field} may not be greater than {max} characters."),
        );
    }
    Some(value)
}

/// Type checks for the persona keys; other keys only meet the metadata limits.
fn check_persona(metadata: &Map<String, Value>, errors: &mut ValidationErrors) {
    for (key, value) in metadata {
        let ok = match key.as_str() {
            "memory" | "knowledge" | "web_search" => value.is_boolean() || value.is_null(),
            "conversation_starters" => {
                value.is_null()
                    || value
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
            }
            "role"
            | "goal_statement"
            | "backstory"
            | "guardrails"
            | "base_instructions"
            | "greetings"
            | "tone_of_voice"
            | "disc_personality"
            | "openai_voice"
            | "large_language_model" => value.is_string() || value.is_null(),
            _ => true,
        };
        if !ok {
            errors.add(
                format!("metadata.{key}"),
                format!("The metadata.{key} field has the wrong type."),
            );
        }
    }
}

impl Spool {
    /// Whether the caller may see and use the agent.
    pub(super) fn may_use_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        agent: &Agent,
    ) -> bool {
        self.agent_right(principal, scope, agent).is_some()
    }

    fn agent_right(&self, principal: &Principal, scope: &Scope, agent: &Agent) -> Option<Right> {
        let user = principal.user_id();
        if agent.workspace_id == scope.id() {
            if scope.sees_all() || agent.user_id == Some(user) {
                return Some(Right::Manage);
            }
            if agent.visibility != Visibility::Private {
                let shared_write =
                    self.share_permission(agent, scope, user) == Some(SharePermission::Write);
                return Some(if shared_write {
                    Right::Write
                } else {
                    Right::Use
                });
            }
        }
        match self.share_permission(agent, scope, user) {
            Some(SharePermission::Write) => Some(Right::Write),
            Some(SharePermission::Read) => Some(Right::Use),
            None if agent.visibility == Visibility::Public => Some(Right::Use),
            None => None,
        }
    }

    fn share_permission(
        &self,
        agent: &Agent,
        scope: &Scope,
        user: UserId,
    ) -> Option<SharePermission> {
        agent
            .shares
            .iter()
            .filter(|s| {
                s.entity == ShareEntity::Workspace(scope.id())
                    || s.entity == ShareEntity::User(user)
            })
            .map(|s| s.permission)
            .max()
    }

    async fn agent_with_right(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
        needed: Right,
    ) -> Result<Agent, CoreError> {
        let agent = self
            .store
            .agent(id)
            .await?
            .ok_or(CoreError::NotFound("Agent"))?;
        match self.agent_right(principal, scope, &agent) {
            None => Err(CoreError::NotFound("Agent")),
            Some(right) if right < needed => Err(CoreError::Forbidden(
                "You may use this agent but not change it.".into(),
            )),
            Some(_) => Ok(agent),
        }
    }

    /// An agent the caller may see and run threads with.
    pub async fn usable_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
    ) -> Result<Agent, CoreError> {
        self.agent_with_right(principal, scope, id, Right::Use)
            .await
    }

    pub async fn create_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: AgentInput,
    ) -> Result<Agent, CoreError> {
        let agent = self.new_agent(principal, scope, input).await?;
        self.store.insert_agent(agent.clone()).await?;
        Ok(agent)
    }

    /// The agent `input` describes, checked as creating it checks, not stored.
    pub(super) async fn new_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: AgentInput,
    ) -> Result<Agent, CoreError> {
        let mut errors = ValidationErrors::new();
        let name = match input.name.as_deref() {
            Some(name) => validate::name("name", name, &mut errors),
            None => {
                errors.add("name", "The name field is required.");
                String::new()
            }
        };
        let at = now();
        let mut agent = Agent {
            id: AgentId::new(),
            workspace_id: scope.id(),
            user_id: Some(principal.user_id()),
            name,
            description: None,
            instruction: None,
            profile_photo_url: None,
            profile_photo_config: None,
            visibility: Visibility::Workspace,
            metadata: Metadata::default(),
            tools: Vec::new(),
            shares: Vec::new(),
            threads_count: 0,
            usage_count: 0,
            last_used_at: None,
            created_at: at,
            updated_at: at,
        };
        let tools_given = input.tools.is_some();
        apply(
            &mut agent,
            AgentInput {
                name: None,
                ..input
            },
            &mut errors,
        );
        if tools_given && errors.is_empty() {
            let caller = self.runtime().tool_caller.as_deref();
            crate::tools::check_urls(caller, "tools", &agent.tools, &mut errors).await;
        }
        errors.into_result()?;
        Ok(agent)
    }

    pub async fn agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
    ) -> Result<Agent, CoreError> {
        self.usable_agent(principal, scope, id).await
    }

    pub async fn list_agents(
        &self,
        principal: &Principal,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<Agent>, CoreError> {
        let user = principal.user_id();
        let query = AgentQuery {
            workspace: scope.id(),
            viewer: (!scope.sees_all()).then_some(user),
            shared_with_user: matches!(principal, Principal::Session { .. }).then_some(user),
        };
        Ok(self.store.list_agents(query, page).await?)
    }

    /// An OpenAI-style window of the agents the caller may use, ordered by
    /// creation (`descending`: newest first): at most `limit` after the
    /// agent `after` (or before `before`), and whether more follow in the
    /// direction read. The store pages agents by offset, so the window is
    /// cut from the whole list (at most [`AGENT_WINDOW_MAX`] agents).
    pub async fn agent_window(
        &self,
        principal: &Principal,
        scope: &Scope,
        window: AgentWindow,
    ) -> Result<(Vec<Agent>, bool), CoreError> {
        let mut errors = ValidationErrors::new();
        if !(1..=crate::paging::MAX_PER_PAGE).contains(&window.limit) {
            errors.add(
                "limit",
                format!(
                    "The limit must be between 1 and {}.",
                    crate::paging::MAX_PER_PAGE
                ),
            );
        }
        if window.after.is_some() && window.before.is_some() {
            errors.add("before", "Give either after or before, not both.");
        }
        errors.into_result()?;
        let per_page = crate::paging::MAX_PER_PAGE;
        let mut all = Vec::new();
        for page in 1.. {
            let request = PageRequest::parse(Some(page), Some(per_page))?;
            let found = self.list_agents(principal, scope, request).await?;
            let done = found.items.len() < per_page as usize
                || all.len() + found.items.len() >= AGENT_WINDOW_MAX;
            all.extend(found.items);
            if done {
                break;
            }
        }
        all.sort_by_key(|a| (a.created_at, a.id.0));
        if window.descending {
            all.reverse();
        }
        let position = |field: &str, id: AgentId| {
            all.iter().position(|a| a.id == id).ok_or_else(|| {
                CoreError::invalid(field, format!("The {field} names nothing in this list."))
            })
        };
        let limit = window.limit as usize;
        let (start, end) = match (window.after, window.before) {
            (Some(id), _) => {
                let start = position("after", id)? + 1;
                (start, (start + limit).min(all.len()))
            }
            (None, Some(id)) => {
                let end = position("before", id)?;
                (end.saturating_sub(limit), end)
            }
            (None, None) => (0, limit.min(all.len())),
        };
        let more = if window.before.is_some() {
            start > 0
        } else {
            end < all.len()
        };
        Ok((all.drain(start..end).collect(), more))
    }

    pub async fn update_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
        input: AgentInput,
    ) -> Result<Agent, CoreError> {
        let mut agent = self
            .agent_with_right(principal, scope, id, Right::Write)
            .await?;
        let mut errors = ValidationErrors::new();
        if let Some(name) = input.name.as_deref() {
            agent.name = validate::name("name", name, &mut errors);
        }
        if input.visibility.is_some()
            && self.agent_right(principal, scope, &agent) < Some(Right::Manage)
        {
            return Err(CoreError::Forbidden(
                "Only the agent's workspace may change its visibility.".into(),
            ));
        }
        let tools_given = input.tools.is_some();
        apply(
            &mut agent,
            AgentInput {
                name: None,
                ..input
            },
            &mut errors,
        );
        if tools_given && errors.is_empty() {
            let caller = self.runtime().tool_caller.as_deref();
            crate::tools::check_urls(caller, "tools", &agent.tools, &mut errors).await;
        }
        errors.into_result()?;
        agent.updated_at = now();
        if self.store.update_agent(&agent).await? {
            Ok(agent)
        } else {
            Err(CoreError::NotFound("Agent"))
        }
    }

    pub async fn delete_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
    ) -> Result<(), CoreError> {
        self.agent_with_right(principal, scope, id, Right::Manage)
            .await?;
        if self.store.delete_agent(id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound("Agent"))
        }
    }

    pub async fn share_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: AgentId,
        input: ShareInput,
    ) -> Result<Agent, CoreError> {
        self.agent_with_right(principal, scope, id, Right::Manage)
            .await?;
        let mut errors = ValidationErrors::new();
        let permission = SharePermission::parse(&input.permission).unwrap_or_else(|| {
            errors.add(
                "permission",
                "The selected permission is invalid (read or write).",
            );
            SharePermission::Read
        });
        let text = match &input.entity_id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let entity = match input.entity_type.as_str() {
            "workspace" => match WorkspaceId::parse(&text) {
                Some(ws) if self.store.workspace(ws).await?.is_some() => {
                    Some(ShareEntity::Workspace(ws))
                }
                _ => None,
            },
            "user" => match text.parse::<i64>().ok().map(UserId) {
                Some(user) if self.store.user(user).await?.is_some() => {
                    Some(ShareEntity::User(user))
                }
                _ => None,
            },
            _ => {
                errors.add(
                    "entity_type",
                    "The selected entity type is invalid (workspace or user).",
                );
                None
            }
        };
        if entity.is_none() && errors.is_empty() {
            errors.add("entity_id", "The selected entity id is invalid.");
        }
        errors.into_result()?;
        let share = AgentShare {
            entity: entity.expect("checked above"),
            permission,
            created_at: now(),
        };
        self.store.put_agent_share(id, share).await?;
        self.store
            .agent(id)
            .await?
            .ok_or(CoreError::NotFound("Agent"))
    }
}

/// Checks and applies the optional fields of `input` (not the name).
fn apply(agent: &mut Agent, input: AgentInput, errors: &mut ValidationErrors) {
    if let Some(description) = input.description {
        agent.description = long_text("description", description, DESCRIPTION_MAX_CHARS, errors);
    }
    if let Some(instruction) = input.instruction {
        agent.instruction = long_text("instruction", instruction, INSTRUCTION_MAX_CHARS, errors);
    }
    if let Some(url) = input.profile_photo_url {
        agent.profile_photo_url = validate::short_text("profile_photo_url", url.as_deref(), errors);
    }
    if let Some(config) = input.profile_photo_config {
        agent.profile_photo_config =
            config.map(|c| Metadata::parse("profile_photo_config", c, errors).into_map());
    }
    if let Some(visibility) = input.visibility {
        match Visibility::parse(&visibility) {
            Some(v) => agent.visibility = v,
            None => errors.add(
                "visibility",
                "The selected visibility is invalid (private, workspace or public).",
            ),
        }
    }
    if let Some(metadata) = input.metadata {
        check_persona(&metadata, errors);
        agent.metadata = Metadata::client(validate::MetadataOf::Agent, metadata, errors);
    }
    if let Some(tools) = input.tools {
        agent.tools = crate::tools::parse_tools("tools", &tools, errors);
    }
}
