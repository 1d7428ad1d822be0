//! Creating, reading, changing and deleting workspaces.

use super::{Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Role, Workspace, WorkspacePatch};
use crate::paging::{Page, PageRequest};
use crate::validate::{self, Metadata};
use crate::{WorkspaceId, now};
use serde_json::{Map, Value};

#[derive(Debug, Default)]
pub struct NewWorkspaceInput {
    pub name: String,
    pub slug: Option<String>,
    pub profile_photo_url: Option<String>,
    pub is_onboarded: Option<bool>,
    pub metadata: Option<Map<String, Value>>,
}

/// `None` leaves a field unchanged; `profile_photo_url: Some(None)` clears it.
#[derive(Debug, Default)]
pub struct WorkspaceUpdateInput {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub profile_photo_url: Option<Option<String>>,
    pub is_onboarded: Option<bool>,
    pub metadata: Option<Map<String, Value>>,
    /// `Some(None)`: keep threads for good.
    pub thread_retention_days: Option<Option<u64>>,
}

/// A hundred years, as for run events: beyond it retention means nothing.
pub const MAX_THREAD_RETENTION_DAYS: u64 = 36_600;

fn slug(value: Option<&str>, name: &str, errors: &mut ValidationErrors) -> String {
    match value {
        Some(given) => {
            let slug = validate::slugify(given);
            if given.trim().is_empty() || slug != given.trim() {
                errors.add(
                    "slug",
                    "The slug may only contain lower-case letters, digits and dashes.",
                );
            }
            slug
        }
        None => validate::slugify(name),
    }
}

impl Spool {
    /// Creates a workspace owned by the signed-in caller.
    pub async fn create_workspace(
        &self,
        principal: &Principal,
        input: NewWorkspaceInput,
    ) -> Result<Workspace, CoreError> {
        let owner = principal.require_session()?.id;
        let mut errors = ValidationErrors::new();
        let name = validate::name("name", &input.name, &mut errors);
        let slug = slug(input.slug.as_deref(), &name, &mut errors);
        let photo = validate::short_text(
            "profile_photo_url",
            input.profile_photo_url.as_deref(),
            &mut errors,
        );
        let metadata = Metadata::client(
            validate::MetadataOf::Workspace,
            input.metadata.unwrap_or_default(),
            &mut errors,
        );
        errors.into_result()?;
        self.create_workspace_for(
            owner,
            name,
            slug,
            photo,
            input.is_onboarded.unwrap_or(false),
            metadata,
        )
        .await
    }

    /// The operator's path (`spool workspace create`, first start): no principal.
    pub async fn create_workspace_as_operator(
        &self,
        owner: crate::UserId,
        name: &str,
    ) -> Result<Workspace, CoreError> {
        let mut errors = ValidationErrors::new();
        let name = validate::name("name", name, &mut errors);
        errors.into_result()?;
        let slug = validate::slugify(&name);
        self.create_workspace_for(owner, name, slug, None, false, Metadata::default())
            .await
    }

    async fn create_workspace_for(
        &self,
        owner: crate::UserId,
        name: String,
        slug: String,
        profile_photo_url: Option<String>,
        is_onboarded: bool,
        metadata: Metadata,
    ) -> Result<Workspace, CoreError> {
        let at = now();
        let workspace = Workspace {
            id: WorkspaceId::new(),
            slug,
            name,
            profile_photo_url,
            is_onboarded,
            metadata,
            owner_id: Some(owner),
            thread_retention_days: None,
            created_at: at,
            updated_at: at,
        };
        Ok(self.store.insert_workspace(workspace, owner).await?)
    }

    /// The workspaces the caller may act in: a user's memberships, or the
    /// API key's own workspace.
    pub async fn list_workspaces(
        &self,
        principal: &Principal,
        page: PageRequest,
    ) -> Result<Page<Workspace>, CoreError> {
        match principal {
            Principal::Session { user, .. } => {
                Ok(self.store.list_workspaces_for_user(user.id, page).await?)
            }
            Principal::ApiKey { key, .. } => {
                let workspace = self.store.workspace(key.workspace_id).await?;
                let total = u64::from(workspace.is_some());
                let items = workspace.into_iter().filter(|_| page.page == 1).collect();
                Ok(Page {
                    items,
                    total,
                    request: page,
                })
            }
        }
    }

    pub async fn update_workspace(
        &self,
        scope: &Scope,
        input: WorkspaceUpdateInput,
    ) -> Result<Workspace, CoreError> {
        scope.require_role(Role::Admin, "change workspace settings")?;
        let mut errors = ValidationErrors::new();
        let name = input
            .name
            .as_deref()
            .map(|n| validate::name("name", n, &mut errors));
        let slug = input
            .slug
            .as_deref()
            .map(|s| slug(Some(s), "", &mut errors));
        let profile_photo_url = input
            .profile_photo_url
            .map(|url| validate::short_text("profile_photo_url", url.as_deref(), &mut errors));
        let metadata = input
            .metadata
            .map(|m| Metadata::client(validate::MetadataOf::Workspace, m, &mut errors));
        let thread_retention_days = input.thread_retention_days.map(|days| {
            days.and_then(|days| match u32::try_from(days) {
                Ok(days @ 1..) if u64::from(days) <= MAX_THREAD_RETENTION_DAYS => Some(days),
                _ => {
                    errors.add(
                        "thread_retention_days",
                        format!(
                            "The thread retention days must be between 1 and {MAX_THREAD_RETENTION_DAYS}, or null."
                        ),
                    );
                    None
                }
            })
        });
        errors.into_result()?;
        let patch = WorkspacePatch {
            name,
            slug,
            profile_photo_url,
            is_onboarded: input.is_onboarded,
            metadata,
            thread_retention_days,
        };
        let updated = self
            .store
            .update_workspace(scope.id(), patch, now())
            .await?;
        self.credentials.forget_scopes(scope.id());
        updated.ok_or(CoreError::NotFound("Workspace"))
    }

    /// Deletes the workspace with everything in it. Owners only.
    pub async fn delete_workspace(&self, scope: &Scope) -> Result<(), CoreError> {
        scope.require_role(Role::Owner, "delete the workspace")?;
        if self.store.delete_workspace(scope.id()).await? {
            self.credentials.forget_workspace(scope.id(), None);
            self.remove_workspace_files(scope.id()).await;
            tracing::info!(workspace.id = %scope.id(), "workspace deleted");
            Ok(())
        } else {
            Err(CoreError::NotFound("Workspace"))
        }
    }
}
