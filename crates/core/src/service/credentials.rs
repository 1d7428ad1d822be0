//! A short-lived, in-process memory of who presented which credential, and
//! of the scope (role and workspace) that credential has in a workspace, so
//! that a busy client does not cost database reads on every request before
//! the one its request is about. Entries live `ttl` (2 s by default) and are
//! dropped at once when this process logs the session out, revokes the key,
//! changes or removes a member, or changes or deletes the workspace. Another
//! node (PostgreSQL deployments) sees such a change within `ttl`.
//!
//! A scope is keyed by the credential's own id, never shared between
//! credentials: what one credential may see is never answered from another's.

use super::{Principal, Scope};
use crate::secret::TokenHash;
use crate::{ApiKeyId, Timestamp, UserId, WorkspaceId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Entries kept at most; past it the memory starts afresh.
const MAX_ENTRIES: usize = 50_000;

type Scopes = HashMap<(Uuid, WorkspaceId), (Scope, Instant)>;

pub(crate) struct CredentialCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenHash, (Principal, Instant)>>,
    scopes: Mutex<Scopes>,
}

impl CredentialCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
            scopes: Mutex::new(HashMap::new()),
        }
    }

    fn scopes(&self) -> std::sync::MutexGuard<'_, Scopes> {
        self.scopes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The scope remembered for this credential in `workspace`, if recent.
    pub(crate) fn scope(&self, credential: Uuid, workspace: WorkspaceId) -> Option<Scope> {
        let scopes = self.scopes();
        let (scope, since) = scopes.get(&(credential, workspace))?;
        (since.elapsed() < self.ttl).then(|| scope.clone())
    }

    pub(crate) fn put_scope(&self, credential: Uuid, scope: Scope) {
        if self.ttl.is_zero() {
            return;
        }
        let mut scopes = self.scopes();
        if scopes.len() >= MAX_ENTRIES {
            scopes.clear();
        }
        scopes.insert((credential, scope.id()), (scope, Instant::now()));
    }

    /// The workspace, or a role in it, changed: every credential's scope
    /// in it is read again.
    pub(crate) fn forget_scopes(&self, workspace: WorkspaceId) {
        self.scopes().retain(|(_, w), _| *w != workspace);
    }

    fn forget_scopes_of(&self, credential: Uuid) {
        self.scopes().retain(|(c, _), _| *c != credential);
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<TokenHash, (Principal, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The principal remembered for `hash`, if recent and still active at `at`.
    pub(crate) fn get(&self, hash: &TokenHash, at: Timestamp) -> Option<Principal> {
        let entries = self.entries();
        let (principal, since) = entries.get(hash)?;
        let active = match principal {
            Principal::ApiKey { key, .. } => key.is_active(at),
            Principal::Session { session, .. } => session.is_active(at),
        };
        (active && since.elapsed() < self.ttl).then(|| principal.clone())
    }

    pub(crate) fn put(&self, hash: TokenHash, principal: Principal) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (principal, Instant::now()));
    }

    /// Records a key's use in the remembered copy too, so that it is not
    /// recorded again on every request.
    pub(crate) fn touched(&self, hash: &TokenHash, at: Timestamp) {
        if let Some((Principal::ApiKey { key, .. }, _)) = self.entries().get_mut(hash) {
            key.last_used_at = Some(at);
        }
    }

    pub(crate) fn forget(&self, hash: &TokenHash) {
        if let Some((principal, _)) = self.entries().remove(hash) {
            self.forget_scopes_of(principal.credential_id());
        }
    }

    pub(crate) fn forget_key(&self, id: ApiKeyId) {
        self.entries()
            .retain(|_, (p, _)| !matches!(p, Principal::ApiKey { key, .. } if key.id == id));
        self.forget_scopes_of(id.0);
    }

    /// A workspace gone, or a user no longer in it: its keys go too.
    pub(crate) fn forget_workspace(&self, workspace: WorkspaceId, user: Option<UserId>) {
        self.entries().retain(|_, (p, _)| match p {
            Principal::ApiKey { key, .. } => {
                !(key.workspace_id == workspace && user.is_none_or(|u| key.user_id == u))
            }
            Principal::Session { .. } => true,
        });
        self.forget_scopes(workspace);
    }
}
