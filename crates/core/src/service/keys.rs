//! API keys: made by owners and admins (or the operator's CLI), shown once,
//! stored as a hash, revoked rather than deleted so that logs stay explainable.

use super::{Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{ApiKey, Role};
use crate::paging::{Page, PageRequest};
use crate::secret::{API_KEY_PREFIX, PlainToken};
use crate::{ApiKeyId, Timestamp, UserId, WorkspaceId, now, validate};

pub struct NewApiKeyInput {
    pub name: String,
    pub expires_at: Option<Timestamp>,
}

/// A key just made: `token` is its only appearance in clear.
#[derive(Debug)]
pub struct CreatedApiKey {
    pub key: ApiKey,
    pub token: PlainToken,
}

impl Spool {
    pub async fn create_api_key(
        &self,
        scope: &Scope,
        user: UserId,
        input: NewApiKeyInput,
    ) -> Result<CreatedApiKey, CoreError> {
        scope.require_role(Role::Admin, "create API keys")?;
        self.create_api_key_for(scope.id(), user, input).await
    }

    /// The operator's path (`spool key create`): the key belongs to the
    /// workspace's owner.
    pub async fn create_api_key_as_operator(
        &self,
        workspace: WorkspaceId,
        input: NewApiKeyInput,
    ) -> Result<CreatedApiKey, CoreError> {
        let workspace = self
            .store
            .workspace(workspace)
            .await?
            .ok_or(CoreError::NotFound("Workspace"))?;
        let owner = workspace.owner_id.ok_or_else(|| {
            CoreError::Conflict("The workspace has no owner to hold the key.".into())
        })?;
        self.create_api_key_for(workspace.id, owner, input).await
    }

    async fn create_api_key_for(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        input: NewApiKeyInput,
    ) -> Result<CreatedApiKey, CoreError> {
        let mut errors = ValidationErrors::new();
        let name = validate::name("name", &input.name, &mut errors);
        let created_at = now();
        if input.expires_at.is_some_and(|at| at <= created_at) {
            errors.add("expires_at", "The expires at must be a date in the future.");
        }
        errors.into_result()?;

        let token = PlainToken::generate(API_KEY_PREFIX);
        let key = ApiKey {
            id: ApiKeyId::new(),
            workspace_id: workspace,
            user_id: user,
            name,
            prefix: token.display_prefix(),
            hash: token.hash(),
            created_at,
            last_used_at: None,
            expires_at: input.expires_at,
            revoked_at: None,
        };
        self.store.insert_api_key(key.clone()).await?;
        tracing::info!(workspace.id = %workspace, api_key.id = %key.id, "API key created");
        Ok(CreatedApiKey { key, token })
    }

    pub async fn list_api_keys(
        &self,
        scope: &Scope,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, CoreError> {
        scope.require_role(Role::Admin, "list API keys")?;
        Ok(self.store.list_api_keys(scope.id(), page).await?)
    }

    pub async fn revoke_api_key(&self, scope: &Scope, id: ApiKeyId) -> Result<(), CoreError> {
        scope.require_role(Role::Admin, "revoke API keys")?;
        if self.store.revoke_api_key(scope.id(), id, now()).await? {
            self.credentials.forget_key(id);
            tracing::info!(workspace.id = %scope.id(), api_key.id = %id, "API key revoked");
            Ok(())
        } else {
            Err(CoreError::NotFound("API key"))
        }
    }
}
