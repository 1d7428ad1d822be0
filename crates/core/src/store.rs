//! The storage contract. SQLite and PostgreSQL implement it in `spool-store`;
//! the conformance story there runs the same expectations against both.
//! Every method that writes returns only after the write is durable.

use crate::Timestamp;
use crate::error::StoreError;
use crate::ids::{ApiKeyId, UserId, WorkspaceId};
use crate::model::{ApiKey, Member, NewUser, Role, Session, User, Workspace, WorkspacePatch};
use crate::paging::{Page, PageRequest};
use crate::secret::TokenHash;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which backend this is (`sqlite` or `postgres`), for logs and metrics.
    fn backend(&self) -> &'static str;

    /// Cheap round trip proving the database answers.
    async fn ping(&self) -> StoreResult<()>;

    // --- users -----------------------------------------------------------

    async fn count_users(&self) -> StoreResult<u64>;
    /// Fails with [`StoreError::Unique`] when the email is taken.
    async fn insert_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// The user and the argon2id PHC string of their password.
    async fn user_password_hash(&self, email: &str) -> StoreResult<Option<(User, String)>>;

    // --- workspaces --------------------------------------------------------

    /// Inserts the workspace, makes `owner` its owner and, when the owner has
    /// no primary workspace yet, makes it theirs — in one transaction.
    async fn insert_workspace(&self, workspace: Workspace, owner: UserId)
    -> StoreResult<Workspace>;
    async fn workspace(&self, id: WorkspaceId) -> StoreResult<Option<Workspace>>;
    /// The workspaces `user` is a member of, oldest first.
    async fn list_workspaces_for_user(
        &self,
        user: UserId,
        page: PageRequest,
    ) -> StoreResult<Page<Workspace>>;
    async fn update_workspace(
        &self,
        id: WorkspaceId,
        patch: WorkspacePatch,
        at: Timestamp,
    ) -> StoreResult<Option<Workspace>>;
    /// Deletes the workspace and everything in it. `false` when absent.
    async fn delete_workspace(&self, id: WorkspaceId) -> StoreResult<bool>;

    // --- members -----------------------------------------------------------

    async fn role(&self, workspace: WorkspaceId, user: UserId) -> StoreResult<Option<Role>>;
    async fn list_members(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<Member>>;
    /// Adds the user or changes their role; makes it their primary workspace
    /// when they have none.
    async fn put_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
        role: Role,
        at: Timestamp,
    ) -> StoreResult<()>;
    /// Removes the membership (and the user's API keys in that workspace).
    /// Refuses, returning `Ok(false)`, to remove the last owner.
    async fn remove_member(
        &self,
        workspace: WorkspaceId,
        user: UserId,
    ) -> StoreResult<RemoveMember>;

    // --- credentials ---------------------------------------------------------

    async fn insert_session(&self, session: Session) -> StoreResult<()>;
    async fn session_by_hash(&self, hash: TokenHash) -> StoreResult<Option<Session>>;
    async fn revoke_session(&self, hash: TokenHash, at: Timestamp) -> StoreResult<()>;

    async fn insert_api_key(&self, key: ApiKey) -> StoreResult<()>;
    async fn api_key_by_hash(&self, hash: TokenHash) -> StoreResult<Option<ApiKey>>;
    async fn list_api_keys(
        &self,
        workspace: WorkspaceId,
        page: PageRequest,
    ) -> StoreResult<Page<ApiKey>>;
    async fn api_key(&self, workspace: WorkspaceId, id: ApiKeyId) -> StoreResult<Option<ApiKey>>;
    /// Marks the key revoked; `false` when it is absent or already revoked.
    async fn revoke_api_key(
        &self,
        workspace: WorkspaceId,
        id: ApiKeyId,
        at: Timestamp,
    ) -> StoreResult<bool>;
    async fn touch_api_key(&self, id: ApiKeyId, at: Timestamp) -> StoreResult<()>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RemoveMember {
    Removed,
    NotMember,
    LastOwner,
}
