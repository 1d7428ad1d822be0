//! Threads: the rows, and the agent counters that move with them in the same
//! write. Listing and search live in [`super::thread_list`].

use super::agents;
use super::engine::backend_error;
use super::rows::{self, Blob, count, instant, int, micros, opt_instant, parse_text};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::model::{Thread, ThreadStatus};
use spool_core::{AgentId, StoreError, ThreadId, Timestamp, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

pub(super) const THREAD_COLUMNS: &str = "t.id, t.workspace_id, t.creator_id, t.anon_user_id, \
     t.agent_id, t.title, t.subject, t.metadata, t.status, t.message_count, t.last_message_at, \
     t.last_model_used, t.is_pinned, t.pinned_at, t.visible_in_ui, t.input_tokens, \
     t.output_tokens, t.created_at, t.updated_at, t.expires_at";

pub(super) fn thread_row(row: &Row<'_>) -> rusqlite::Result<Thread> {
    let status: String = row.get(8)?;
    Ok(Thread {
        id: ThreadId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        creator_id: row.get::<_, Option<i64>>(2)?.map(UserId),
        anon_user_id: row.get(3)?,
        agent_id: row.get::<_, Option<Blob>>(4)?.map(|b| AgentId(b.0)),
        title: row.get(5)?,
        subject: row.get(6)?,
        metadata: rows::metadata(row.get(7)?)?,
        status: parse_text(8, &status, ThreadStatus::parse)?,
        message_count: count(row.get(9)?),
        last_message_at: opt_instant(row.get(10)?)?,
        last_model_used: row.get(11)?,
        is_pinned: row.get(12)?,
        pinned_at: opt_instant(row.get(13)?)?,
        visible_in_ui: row.get(14)?,
        input_tokens: count(row.get(15)?),
        output_tokens: count(row.get(16)?),
        created_at: instant(row.get(17)?)?,
        updated_at: instant(row.get(18)?)?,
        expires_at: opt_instant(row.get(19)?)?,
    })
}

pub(super) fn insert(conn: &Connection, thread: &Thread) -> Result<()> {
    let activity = thread.last_message_at.unwrap_or(thread.created_at);
    conn.prepare_cached(
        "INSERT INTO threads (id, workspace_id, creator_id, anon_user_id, agent_id, title, subject,
             metadata, status, message_count, last_message_at, activity_at, last_model_used,
             is_pinned, pinned_at, visible_in_ui, input_tokens, output_tokens, created_at, updated_at,
             expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(thread.id.0),
            Blob(thread.workspace_id.0),
            thread.creator_id.map(|id| id.0),
            thread.anon_user_id,
            thread.agent_id.map(|id| Blob(id.0)),
            thread.title,
            thread.subject,
            thread.metadata.to_json_string(),
            thread.status.as_str(),
            int(thread.message_count),
            thread.last_message_at.map(micros),
            micros(activity),
            thread.last_model_used,
            thread.is_pinned,
            thread.pinned_at.map(micros),
            thread.visible_in_ui,
            int(thread.input_tokens),
            int(thread.output_tokens),
            micros(thread.created_at),
            micros(thread.updated_at),
            thread.expires_at.map(micros)
        ])
    })
    .map_err(backend_error)?;
    if let Some(agent) = thread.agent_id {
        agents::add_threads(conn, agent, 1)?;
    }
    Ok(())
}

pub(super) fn get(
    conn: &Connection,
    workspace: WorkspaceId,
    id: ThreadId,
) -> Result<Option<Thread>> {
    conn.prepare_cached(&format!(
        "SELECT {THREAD_COLUMNS} FROM threads t WHERE t.id = ?1 AND t.workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![Blob(id.0), Blob(workspace.0)], thread_row)
            .optional()
    })
    .map_err(backend_error)
}

/// `None` when absent; `Some(agent)` is the thread's agent.
fn agent_of(
    conn: &Connection,
    workspace: WorkspaceId,
    id: ThreadId,
) -> Result<Option<Option<AgentId>>> {
    conn.prepare_cached("SELECT agent_id FROM threads WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| {
            s.query_row(params![Blob(id.0), Blob(workspace.0)], |r| {
                Ok(r.get::<_, Option<Blob>>(0)?.map(|b| AgentId(b.0)))
            })
            .optional()
        })
        .map_err(backend_error)
}

pub(super) fn update(conn: &Connection, thread: &Thread) -> Result<bool> {
    let Some(before) = agent_of(conn, thread.workspace_id, thread.id)? else {
        return Ok(false);
    };
    conn.prepare_cached(
        "UPDATE threads SET title = ?3, subject = ?4, metadata = ?5, agent_id = ?6, is_pinned = ?7,
             pinned_at = ?8, visible_in_ui = ?9, updated_at = ?10, expires_at = ?11
         WHERE id = ?1 AND workspace_id = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(thread.id.0),
            Blob(thread.workspace_id.0),
            thread.title,
            thread.subject,
            thread.metadata.to_json_string(),
            thread.agent_id.map(|id| Blob(id.0)),
            thread.is_pinned,
            thread.pinned_at.map(micros),
            thread.visible_in_ui,
            micros(thread.updated_at),
            thread.expires_at.map(micros)
        ])
    })
    .map_err(backend_error)?;
    if before != thread.agent_id {
        if let Some(old) = before {
            agents::add_threads(conn, old, -1)?;
        }
        if let Some(new) = thread.agent_id {
            agents::add_threads(conn, new, 1)?;
        }
    }
    Ok(true)
}

/// Its messages go with it (`ON DELETE CASCADE`), and leave the search index
/// through their delete trigger.
pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: ThreadId) -> Result<bool> {
    let Some(agent) = agent_of(conn, workspace, id)? else {
        return Ok(false);
    };
    conn.prepare_cached("DELETE FROM threads WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute(params![Blob(id.0), Blob(workspace.0)]))
        .map_err(backend_error)?;
    if let Some(agent) = agent {
        agents::add_threads(conn, agent, -1)?;
    }
    Ok(true)
}

/// See [`spool_core::Store::delete_expired_threads`]: their own expiry
/// first, then their workspace's retention; each deleted as [`delete`] does.
pub(super) fn delete_expired(conn: &Connection, at: Timestamp, limit: u32) -> Result<u64> {
    let mut doomed: Vec<(Blob, Blob)> = conn
        .prepare_cached(
            "SELECT id, workspace_id FROM threads
             WHERE expires_at <= ?1 AND status = 'idle' ORDER BY expires_at LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![micros(at), limit], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(backend_error)?;
    let left = i64::from(limit) - i64::try_from(doomed.len()).unwrap_or(i64::MAX);
    if left > 0 {
        let stale: Vec<(Blob, Blob)> = conn
            .prepare_cached(
                // CROSS JOIN keeps the workspaces outside: a range of
                // threads_by_activity for each workspace with a retention, and
                // nothing read for the others. Left to the planner, the sweep
                // that runs at start scanned every thread on the writer's
                // connection, and its page cache (cache_size) kept the pages:
                // ~20 MB of 100,000 threads, for as long as the process ran.
                "SELECT t.id, t.workspace_id FROM workspaces w CROSS JOIN threads t ON t.workspace_id = w.id
                 WHERE w.thread_retention_days IS NOT NULL AND t.expires_at IS NULL
                   AND t.status = 'idle'
                   AND t.activity_at <= ?1 - w.thread_retention_days * 86400000000
                 LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![micros(at), left], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
            .map_err(backend_error)?;
        doomed.extend(stale);
    }
    let mut deleted = 0;
    for (thread, workspace) in doomed {
        if delete(conn, WorkspaceId(workspace.0), ThreadId(thread.0))? {
            deleted += 1;
        }
    }
    Ok(deleted)
}
