//! Users, workspaces and agents (with their shares) as this process last
//! read them, for the views a thread nests (its agent, its creator, the
//! agent's creator, their workspaces): they are read on almost every
//! request and change far less often.
//!
//! SQLite is written by one process (`database_lock`), through the writer
//! thread: its connection's update hook notes any change to `users`,
//! `workspaces` or `agents` — by any statement, a foreign key's `SET NULL`
//! included; a change to `agent_shares` touches its agent (migration 0023)
//! — and once that batch has committed, before any of its writers is
//! answered, that kind starts afresh under a new generation. Agents change
//! with their counters (a new thread, a run), so they have a generation
//! of their own and do not take the users and workspaces with them. A read takes
//! the generation before its snapshot and keeps what it read only if the
//! generation is still the same: a snapshot older than the last change
//! never fills the cache. Rows are kept by id, not by who asked: access is
//! decided on the thread before its nesting is read.

use spool_core::model::{Agent, User, Workspace};
use spool_core::{AgentId, UserId, WorkspaceId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Rows kept of each kind at most; past it the cache starts afresh.
const MAX_ROWS: usize = 10_000;

#[derive(Default)]
struct Rows {
    /// Of the users and workspaces.
    generation: u64,
    users: HashMap<UserId, User>,
    workspaces: HashMap<WorkspaceId, Workspace>,
    agents_generation: u64,
    agents: HashMap<AgentId, Agent>,
}

#[derive(Default)]
pub(crate) struct RowCache {
    rows: Mutex<Rows>,
    /// Set by the writer's update hook while a batch runs.
    accounts_changed: AtomicBool,
    agents_changed: AtomicBool,
}

/// A read's view of the cache: the generations taken before its snapshot.
pub(crate) struct Seen {
    cache: Arc<RowCache>,
    generation: u64,
    agents_generation: u64,
}

impl RowCache {
    fn rows(&self) -> std::sync::MutexGuard<'_, Rows> {
        self.rows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// To be taken before the read transaction that uses it begins.
    pub(crate) fn seen(self: &Arc<Self>) -> Seen {
        let rows = self.rows();
        Seen {
            cache: self.clone(),
            generation: rows.generation,
            agents_generation: rows.agents_generation,
        }
    }

    /// The writer's update hook: a row of `table` changed.
    pub(crate) fn row_changed(&self, table: &str) {
        match table {
            "users" | "workspaces" => self.accounts_changed.store(true, Ordering::Release),
            "agents" => self.agents_changed.store(true, Ordering::Release),
            _ => {}
        }
    }

    /// After a batch ended (committed or not), before its writes are
    /// answered: what it changed is read again.
    pub(crate) fn batch_ended(&self) {
        let accounts = self.accounts_changed.swap(false, Ordering::AcqRel);
        let agents = self.agents_changed.swap(false, Ordering::AcqRel);
        if !(accounts || agents) {
            return;
        }
        let mut rows = self.rows();
        if accounts {
            rows.generation += 1;
            rows.users.clear();
            rows.workspaces.clear();
        }
        if agents {
            rows.agents_generation += 1;
            rows.agents.clear();
        }
    }
}

impl Seen {
    /// The cached users of `ids`, and the ids to read.
    pub(crate) fn users(&self, ids: &[UserId]) -> (Vec<User>, Vec<UserId>) {
        let rows = self.cache.rows();
        split(ids, |id| rows.users.get(id).cloned())
    }

    pub(crate) fn workspaces(&self, ids: &[WorkspaceId]) -> (Vec<Workspace>, Vec<WorkspaceId>) {
        let rows = self.cache.rows();
        split(ids, |id| rows.workspaces.get(id).cloned())
    }

    pub(crate) fn agents(&self, ids: &[AgentId]) -> (Vec<Agent>, Vec<AgentId>) {
        let rows = self.cache.rows();
        split(ids, |id| rows.agents.get(id).cloned())
    }

    pub(crate) fn keep_agents(&self, agents: &[Agent]) {
        let mut rows = self.cache.rows();
        if rows.agents_generation == self.agents_generation {
            keep(&mut rows.agents, agents, |a| a.id);
        }
    }

    pub(crate) fn keep_users(&self, users: &[User]) {
        let mut rows = self.cache.rows();
        if rows.generation == self.generation {
            keep(&mut rows.users, users, |u| u.id);
        }
    }

    pub(crate) fn keep_workspaces(&self, workspaces: &[Workspace]) {
        let mut rows = self.cache.rows();
        if rows.generation == self.generation {
            keep(&mut rows.workspaces, workspaces, |w| w.id);
        }
    }
}

/// Adds `read` to `kept`, which starts afresh rather than pass [`MAX_ROWS`].
fn keep<K: Eq + std::hash::Hash, V: Clone>(
    kept: &mut HashMap<K, V>,
    read: &[V],
    key: impl Fn(&V) -> K,
) {
    if kept.len() + read.len() > MAX_ROWS {
        kept.clear();
    }
    kept.extend(read.iter().map(|row| (key(row), row.clone())));
}

fn split<K: Copy, V>(ids: &[K], cached: impl Fn(&K) -> Option<V>) -> (Vec<V>, Vec<K>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match cached(id) {
            Some(row) => found.push(row),
            None => missing.push(*id),
        }
    }
    (found, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, name: &str) -> User {
        User {
            id: UserId(id),
            uuid: uuid::Uuid::nil(),
            name: name.into(),
            first_name: None,
            last_name: None,
            email: format!("{name}@example.com"),
            profile_photo_url: None,
            primary_workspace_id: None,
            created_at: spool_core::Timestamp::UNIX_EPOCH,
            updated_at: spool_core::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_read_older_than_a_change_is_not_kept() {
        let cache = Arc::new(RowCache::default());
        let before = cache.seen();
        cache.row_changed("users");
        cache.batch_ended();
        before.keep_users(&[user(1, "old")]);
        assert_eq!(cache.seen().users(&[UserId(1)]).1, [UserId(1)]);

        let after = cache.seen();
        after.keep_users(&[user(1, "new")]);
        let (found, missing) = cache.seen().users(&[UserId(1), UserId(2)]);
        assert_eq!(found[0].name, "new");
        assert_eq!(missing, [UserId(2)]);
    }

    #[test]
    fn agents_have_a_generation_of_their_own() {
        let cache = Arc::new(RowCache::default());
        let seen = cache.seen();
        seen.keep_users(&[user(1, "ada")]);
        cache.row_changed("agents");
        cache.batch_ended();
        assert!(cache.seen().users(&[UserId(1)]).1.is_empty());
        let agent = AgentId::new();
        assert_eq!(cache.seen().agents(&[agent]).1, [agent]);
    }

    #[test]
    fn other_tables_and_unchanged_batches_keep_the_cache() {
        let cache = Arc::new(RowCache::default());
        cache.seen().keep_users(&[user(1, "ada")]);
        cache.row_changed("threads");
        cache.batch_ended();
        assert!(cache.seen().users(&[UserId(1)]).1.is_empty());
        cache.row_changed("workspaces");
        cache.batch_ended();
        assert_eq!(cache.seen().users(&[UserId(1)]).1, [UserId(1)]);
    }
}
