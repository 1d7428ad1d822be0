//! Many rows by id in one query, for nesting (a thread's creator, an
//! agent's workspace) without one query per row.

use super::engine::backend_error;
use super::row_cache::Seen;
use super::rows::{self, USER_COLUMNS, WORKSPACE_COLUMNS, uuid_list};
use rusqlite::Connection;
use spool_core::model::{Agent, User, Workspace};
use spool_core::store::ThreadNesting;
use spool_core::{AgentId, StoreError, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

/// In id order; ids that name no user are left out. Rows `seen` holds are
/// not read again; those read are kept there.
pub(super) fn users(conn: &Connection, seen: &Seen, ids: &[UserId]) -> Result<Vec<User>> {
    let (mut found, missing) = seen.users(ids);
    if !missing.is_empty() {
        let list =
            serde_json::Value::from(missing.iter().map(|id| id.0).collect::<Vec<_>>()).to_string();
        let read: Vec<User> = conn
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users u
                 WHERE u.id IN (SELECT value FROM json_each(?1)) ORDER BY u.id"
            ))
            .and_then(|mut s| s.query_map([list], rows::user)?.collect())
            .map_err(backend_error)?;
        seen.keep_users(&read);
        found.extend(read);
        found.sort_unstable_by_key(|u| u.id);
    }
    Ok(found)
}

/// Agents with their shares, in id order, as [`users`].
fn cached_agents(conn: &Connection, seen: &Seen, ids: &[AgentId]) -> Result<Vec<Agent>> {
    let (mut found, missing) = seen.agents(ids);
    if !missing.is_empty() {
        let read = super::agents::by_ids(conn, &missing)?;
        seen.keep_agents(&read);
        found.extend(read);
        found.sort_unstable_by_key(|a| a.id);
    }
    Ok(found)
}

/// In id order; ids that name no workspace are left out. As [`users`].
pub(super) fn workspaces(
    conn: &Connection,
    seen: &Seen,
    ids: &[WorkspaceId],
) -> Result<Vec<Workspace>> {
    let (mut found, missing) = seen.workspaces(ids);
    if !missing.is_empty() {
        let list = uuid_list(missing.iter().map(|id| id.0));
        let read: Vec<Workspace> = conn
            .prepare_cached(&format!(
                "SELECT {WORKSPACE_COLUMNS} FROM workspaces w
                 WHERE w.id IN (SELECT unhex(value) FROM json_each(?1)) ORDER BY w.id"
            ))
            .and_then(|mut s| s.query_map([list], rows::workspace)?.collect())
            .map_err(backend_error)?;
        seen.keep_workspaces(&read);
        found.extend(read);
        found.sort_unstable_by_key(|w| w.id);
    }
    Ok(found)
}

/// The agents, users and workspaces threads naming `agents` and `creators`
/// nest, read on one connection (inside the caller's read transaction).
pub(super) fn thread_nesting(
    conn: &Connection,
    seen: &Seen,
    agents: &[AgentId],
    creators: &[UserId],
) -> Result<ThreadNesting> {
    let agents = cached_agents(conn, seen, &dedup(agents.to_vec()))?;
    let user_ids = dedup(
        creators
            .iter()
            .copied()
            .chain(agents.iter().filter_map(|a| a.user_id))
            .collect(),
    );
    let users = users(conn, seen, &user_ids)?;
    let workspace_ids = dedup(
        agents
            .iter()
            .map(|a| a.workspace_id)
            .chain(users.iter().filter_map(|u| u.primary_workspace_id))
            .collect(),
    );
    let workspaces = workspaces(conn, seen, &workspace_ids)?;
    Ok(ThreadNesting {
        agents,
        users,
        workspaces,
    })
}

fn dedup<T: Ord>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Every user in id order after `after`, at most `limit`.
pub(super) fn users_after(
    conn: &Connection,
    after: Option<UserId>,
    limit: u32,
) -> Result<Vec<User>> {
    conn.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM users u WHERE u.id > ?1 ORDER BY u.id LIMIT ?2"
    ))
    .and_then(|mut s| {
        s.query_map((after.map_or(0, |id| id.0), limit), rows::user)?
            .collect()
    })
    .map_err(backend_error)
}

/// Every workspace in id order after `after`, at most `limit`.
pub(super) fn workspaces_after(
    conn: &Connection,
    after: Option<WorkspaceId>,
    limit: u32,
) -> Result<Vec<Workspace>> {
    let after = after.map_or_else(Vec::new, |id| id.0.as_bytes().to_vec());
    conn.prepare_cached(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id > ?1 ORDER BY w.id LIMIT ?2"
    ))
    .and_then(|mut s| s.query_map((after, limit), rows::workspace)?.collect())
    .map_err(backend_error)
}
