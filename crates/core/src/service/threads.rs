//! Threads: creating, reading, changing, listing, deleting. Members see the
//! threads they made; owners, admins and API keys see every thread of the
//! workspace. A key-authenticated caller that names an anonymous end user
//! sees only that user's threads.

use super::{Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::listing::{Listing, Paging};
use crate::model::{Thread, ThreadStatus};
use crate::query::{ThreadQuery, ThreadSort};
use crate::validate::{self, Metadata};
use crate::{AgentId, ThreadId, Timestamp, now};
use serde_json::{Map, Value};

pub const ANON_USER_ID_MAX_CHARS: usize = 200;

#[derive(Debug, Default)]
pub struct NewThreadInput {
    pub title: Option<String>,
    pub subject: Option<String>,
    pub agent: Option<AgentId>,
    pub metadata: Option<Map<String, Value>>,
    pub anon_user_id: Option<String>,
    pub visible_in_ui: Option<bool>,
    /// When the retention sweep deletes the thread; in the future.
    pub expires_at: Option<Timestamp>,
}

/// `None` keeps a field; `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct ThreadUpdateInput {
    pub title: Option<Option<String>>,
    pub subject: Option<Option<String>>,
    pub agent: Option<Option<AgentId>>,
    pub metadata: Option<Map<String, Value>>,
    pub is_pinned: Option<bool>,
    pub visible_in_ui: Option<bool>,
    pub expires_at: Option<Option<Timestamp>>,
}

#[derive(Debug)]
pub struct ThreadListInput {
    pub agent: Option<AgentId>,
    pub pinned: Option<bool>,
    pub metadata: Vec<(String, String)>,
    pub search: Option<String>,
    /// `last_message_at` (default), `created_at` or `updated_at`.
    pub sort: Option<String>,
    /// `asc` or `desc` (default).
    pub order: Option<String>,
    pub anon_user_id: Option<String>,
    pub paging: Paging,
}

fn optional_title(
    field: &str,
    value: Option<String>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?;
    if value.trim().is_empty() {
        return None;
    }
    Some(validate::name(field, &value, errors))
}

fn anon_user(
    value: Option<String>,
    principal: &Principal,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?;
    check_end_user("anon_user_id", &value, principal, errors);
    Some(value.trim().to_owned())
}

/// The rule for naming an anonymous end user (`anon_user_id`), wherever a
/// dialect reads it: API keys only, 1 to 200 characters, not blank. `field`
/// names the place for the error (`query.anon_user_id`).
pub fn check_end_user(
    field: &str,
    value: &str,
    principal: &Principal,
    errors: &mut ValidationErrors,
) {
    if !matches!(principal, Principal::ApiKey { .. }) {
        errors.add(
            field,
            "Only API-key callers may act for an anonymous end user.",
        );
    } else if value.trim().is_empty() || value.chars().count() > ANON_USER_ID_MAX_CHARS {
        errors.add(
            field,
            format!(
                "The anon_user_id must be 1 to {ANON_USER_ID_MAX_CHARS} characters, not blank."
            ),
        );
    }
}

/// A thread's expiry must lie ahead: one in the past would delete the
/// thread at the next sweep, which a DELETE says more plainly.
fn expiry(
    value: Option<Timestamp>,
    at: Timestamp,
    errors: &mut ValidationErrors,
) -> Option<Timestamp> {
    let value = value?;
    if value <= at {
        errors.add("expires_at", "The expires at must be a date in the future.");
    }
    Some(value)
}

/// `visible_in_ui` belongs to the people using the product's UI: a signed-in
/// user sets it, an API key (a server acting for the workspace) may not.
fn ui_setting(value: Option<bool>, principal: &Principal, errors: &mut ValidationErrors) {
    if value.is_some() && !matches!(principal, Principal::Session { .. }) {
        errors.add(
            "visible_in_ui",
            "The visible_in_ui setting may only be set by a signed-in user (a session token), not an API key.",
        );
    }
}

impl Spool {
    pub async fn create_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: NewThreadInput,
    ) -> Result<Thread, CoreError> {
        if let Some(run) = crate::idempotency::resumed_run() {
            // A retried agent run: its thread was made the first time.
            let run = self.run(principal, scope, run).await?;
            return self.thread(principal, scope, run.thread_id, None).await;
        }
        let mut errors = ValidationErrors::new();
        let title = optional_title("name", input.title, &mut errors);
        let subject = optional_title("with", input.subject, &mut errors);
        let metadata = Metadata::client(
            validate::MetadataOf::Thread,
            input.metadata.unwrap_or_default(),
            &mut errors,
        );
        let anon_user_id = anon_user(input.anon_user_id, principal, &mut errors);
        ui_setting(input.visible_in_ui, principal, &mut errors);
        if let Some(agent) = input.agent
            && self.usable_agent(principal, scope, agent).await.is_err()
        {
            errors.add("agent_uuid", "The selected agent is invalid.");
        }
        let at = now();
        let expires_at = expiry(input.expires_at, at, &mut errors);
        errors.into_result()?;
        let thread = Thread {
            id: ThreadId::new(),
            workspace_id: scope.id(),
            creator_id: anon_user_id.is_none().then(|| principal.user_id()),
            anon_user_id,
            agent_id: input.agent,
            title,
            subject,
            metadata,
            status: ThreadStatus::Idle,
            message_count: 0,
            last_message_at: None,
            last_model_used: None,
            is_pinned: false,
            pinned_at: None,
            visible_in_ui: input.visible_in_ui.unwrap_or(true),
            input_tokens: 0,
            output_tokens: 0,
            expires_at,
            created_at: at,
            updated_at: at,
        };
        self.store.insert_thread(thread.clone()).await?;
        Ok(thread)
    }

    /// A thread the caller may see, or `NotFound`.
    pub async fn thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<Thread, CoreError> {
        let thread = self
            .store
            .thread(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Thread"))?;
        self.visible(principal, scope, thread, anon_user_id)
    }

    /// `thread` if the caller may see it, else `NotFound`.
    pub(crate) fn visible(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: Thread,
        anon_user_id: Option<&str>,
    ) -> Result<Thread, CoreError> {
        let visible = match anon_user_id {
            Some(anon) if matches!(principal, Principal::ApiKey { .. }) => {
                thread.anon_user_id.as_deref() == Some(anon)
            }
            // A person sees what their role allows; an end user's id does not widen it.
            Some(_) => {
                return Err(CoreError::invalid(
                    "anon_user_id",
                    "Only API-key callers may act for an anonymous end user.",
                ));
            }
            None => scope.sees_all() || thread.creator_id == Some(principal.user_id()),
        };
        if visible {
            Ok(thread)
        } else {
            Err(CoreError::NotFound("Thread"))
        }
    }

    pub async fn update_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: ThreadId,
        input: ThreadUpdateInput,
        anon_user_id: Option<&str>,
    ) -> Result<Thread, CoreError> {
        let mut thread = self.thread(principal, scope, id, anon_user_id).await?;
        let mut errors = ValidationErrors::new();
        ui_setting(input.visible_in_ui, principal, &mut errors);
        if let Some(title) = input.title {
            thread.title = optional_title("name", title, &mut errors);
        }
        if let Some(subject) = input.subject {
            thread.subject = optional_title("with", subject, &mut errors);
        }
        if let Some(metadata) = input.metadata {
            thread.metadata = Metadata::client(validate::MetadataOf::Thread, metadata, &mut errors);
        }
        if let Some(agent) = input.agent {
            if let Some(id) = agent
                && thread.agent_id != Some(id)
                && self.usable_agent(principal, scope, id).await.is_err()
            {
                errors.add("agent_uuid", "The selected agent is invalid.");
            }
            thread.agent_id = agent;
        }
        let at = now();
        if let Some(expires_at) = input.expires_at {
            thread.expires_at = expires_at.and_then(|e| expiry(Some(e), at, &mut errors));
        }
        errors.into_result()?;
        if let Some(pinned) = input.is_pinned
            && pinned != thread.is_pinned
        {
            thread.is_pinned = pinned;
            thread.pinned_at = pinned.then_some(at);
        }
        if let Some(visible) = input.visible_in_ui {
            thread.visible_in_ui = visible;
        }
        thread.updated_at = at;
        if self.store.update_thread(&thread).await? {
            Ok(thread)
        } else {
            Err(CoreError::NotFound("Thread"))
        }
    }

    pub async fn delete_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<(), CoreError> {
        self.thread(principal, scope, id, anon_user_id).await?;
        if self.store.delete_thread(scope.id(), id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound("Thread"))
        }
    }

    pub async fn list_threads(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: ThreadListInput,
    ) -> Result<Listing<Thread>, CoreError> {
        let query = thread_query(principal, scope, input)?;
        Ok(self.store.list_threads(query).await?)
    }

    /// [`Spool::list_threads`] with what each thread nests, in one trip to
    /// the store.
    pub async fn list_thread_views(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: ThreadListInput,
    ) -> Result<Listing<super::ThreadView>, CoreError> {
        let query = thread_query(principal, scope, input)?;
        let (listing, nesting) = self.store.list_threads_nested(query).await?;
        let mut views = super::views::nest(listing.items().to_vec(), nesting).into_iter();
        Ok(listing.map(|_| views.next().expect("one view per thread")))
    }
}

/// The store's query for a listing the caller asked for, validated.
fn thread_query(
    principal: &Principal,
    scope: &Scope,
    input: ThreadListInput,
) -> Result<ThreadQuery, CoreError> {
    let mut errors = ValidationErrors::new();
    let sort = match input.sort.as_deref() {
        None => ThreadSort::LastMessageAt,
        Some(text) => ThreadSort::parse(text).unwrap_or_else(|| {
            errors.add(
                "sort",
                "The sort must be last_message_at, created_at or updated_at.",
            );
            ThreadSort::LastMessageAt
        }),
    };
    let descending = match input.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(_) => {
            errors.add("order", "The order must be asc or desc.");
            true
        }
    };
    let anon_user_id = anon_user(input.anon_user_id, principal, &mut errors);
    let search = input
        .search
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if search.as_deref().is_some_and(|s| s.chars().count() > 500) {
        errors.add(
            "search",
            "The search may not be greater than 500 characters.",
        );
    }
    if input.metadata.len() > validate::METADATA_MAX_KEYS {
        errors.add("metadata", "At most 16 metadata filters.");
    }
    errors.into_result()?;
    let creator = match (&anon_user_id, scope.sees_all()) {
        (Some(_), _) | (None, true) => None,
        (None, false) => Some(principal.user_id()),
    };
    Ok(ThreadQuery {
        workspace: scope.id(),
        creator,
        anon_user_id,
        agent: input.agent,
        pinned: input.pinned,
        metadata: input.metadata,
        search,
        sort,
        descending,
        paging: input.paging,
    })
}
