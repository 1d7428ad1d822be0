//! Memories: facts an agent keeps about a user.

use super::engine::backend_error;
use super::rows::{Blob, instant, micros};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::model::Memory;
use spool_core::paging::{Page, PageRequest};
use spool_core::{AgentId, MemoryId, MessageId, StoreError, ThreadId, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const MEMORY_COLUMNS: &str =
    "id, workspace_id, agent_id, user_id, content, thread_id, message_id, created_at, updated_at";

fn memory_row(row: &Row<'_>) -> rusqlite::Result<Memory> {
    Ok(Memory {
        id: MemoryId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        agent_id: AgentId(row.get::<_, Blob>(2)?.0),
        user_id: UserId(row.get(3)?),
        content: row.get(4)?,
        thread_id: row.get::<_, Option<Blob>>(5)?.map(|b| ThreadId(b.0)),
        message_id: row.get::<_, Option<Blob>>(6)?.map(|b| MessageId(b.0)),
        created_at: instant(row.get(7)?)?,
        updated_at: instant(row.get(8)?)?,
    })
}

pub(super) fn insert(conn: &Connection, memories: &[Memory]) -> Result<()> {
    let mut statement = conn
        .prepare_cached(&format!(
            "INSERT INTO memories ({MEMORY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .map_err(backend_error)?;
    for memory in memories {
        statement
            .execute(params![
                Blob(memory.id.0),
                Blob(memory.workspace_id.0),
                Blob(memory.agent_id.0),
                memory.user_id.0,
                memory.content,
                memory.thread_id.map(|t| Blob(t.0)),
                memory.message_id.map(|m| Blob(m.0)),
                micros(memory.created_at),
                micros(memory.updated_at),
            ])
            .map_err(backend_error)?;
    }
    Ok(())
}

pub(super) fn get(
    conn: &Connection,
    workspace: WorkspaceId,
    id: MemoryId,
) -> Result<Option<Memory>> {
    conn.prepare_cached(&format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?1 AND workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row([Blob(id.0), Blob(workspace.0)], memory_row)
            .optional()
    })
    .map_err(backend_error)
}

/// Newest first; `agent` and `user` narrow the list when given.
pub(super) fn list(
    conn: &Connection,
    workspace: WorkspaceId,
    agent: Option<AgentId>,
    user: Option<UserId>,
    page: PageRequest,
) -> Result<Page<Memory>> {
    const FILTER: &str =
        "workspace_id = ?1 AND (?2 IS NULL OR agent_id = ?2) AND (?3 IS NULL OR user_id = ?3)";
    let (agent, user) = (agent.map(|a| Blob(a.0)), user.map(|u| u.0));
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM memories WHERE {FILTER}"))
        .and_then(|mut s| s.query_row(params![Blob(workspace.0), agent, user], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {MEMORY_COLUMNS} FROM memories WHERE {FILTER}
             ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(workspace.0), agent, user, page.per_page, page.offset()],
                memory_row,
            )?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

/// The agent's newest memories of the user, at most `limit`.
pub(super) fn recall(
    conn: &Connection,
    agent: AgentId,
    user: UserId,
    limit: u32,
) -> Result<Vec<Memory>> {
    conn.prepare_cached(&format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE agent_id = ?1 AND user_id = ?2
         ORDER BY created_at DESC, id DESC LIMIT ?3"
    ))
    .and_then(|mut s| {
        s.query_map(params![Blob(agent.0), user.0, limit], memory_row)?
            .collect()
    })
    .map_err(backend_error)
}

pub(super) fn update(conn: &Connection, memory: &Memory) -> Result<bool> {
    conn.prepare_cached("UPDATE memories SET content = ?2, updated_at = ?3 WHERE id = ?1")
        .and_then(|mut s| {
            s.execute(params![
                Blob(memory.id.0),
                memory.content,
                micros(memory.updated_at)
            ])
        })
        .map(|n| n == 1)
        .map_err(backend_error)
}

pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: MemoryId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM memories WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute([Blob(id.0), Blob(workspace.0)]))
        .map(|n| n == 1)
        .map_err(backend_error)
}
