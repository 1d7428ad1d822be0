//! Agents and their shares. Shares are loaded for a whole batch of agents in
//! one extra query, never one per agent.

use super::engine::backend_error;
use super::rows::{self, Blob, count, instant, int, micros, opt_instant, parse_text, uuid_list};
use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};
use spool_core::model::{Agent, AgentShare, ShareEntity, SharePermission, Visibility};
use spool_core::paging::{Page, PageRequest};
use spool_core::query::AgentQuery;
use spool_core::tools::{self, ToolDefinition};
use spool_core::{AgentId, StoreError, UserId, WorkspaceId};
use std::collections::HashMap;
use uuid::Uuid;

type Result<T> = std::result::Result<T, StoreError>;

const AGENT_COLUMNS: &str = "a.id, a.workspace_id, a.user_id, a.name, a.description, \
     a.instruction, a.profile_photo_url, a.profile_photo_config, a.visibility, a.metadata, \
     a.threads_count, a.usage_count, a.last_used_at, a.created_at, a.updated_at, a.tools";

fn agent_row(row: &Row<'_>) -> rusqlite::Result<Agent> {
    let photo_config: Option<String> = row.get(7)?;
    let visibility: String = row.get(8)?;
    Ok(Agent {
        id: AgentId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        user_id: row.get::<_, Option<i64>>(2)?.map(UserId),
        name: row.get(3)?,
        description: row.get(4)?,
        instruction: row.get(5)?,
        profile_photo_url: row.get(6)?,
        profile_photo_config: match photo_config {
            Some(text) => match serde_json::from_str(&text) {
                Ok(serde_json::Value::Object(map)) => Some(map),
                _ => return Err(rusqlite::Error::InvalidColumnType(7, text, Type::Text)),
            },
            None => None,
        },
        visibility: parse_text(8, &visibility, Visibility::parse)?,
        metadata: rows::metadata(row.get(9)?)?,
        tools: tools_from_text(15, row.get(15)?)?,
        shares: Vec::new(),
        threads_count: count(row.get(10)?),
        usage_count: count(row.get(11)?),
        last_used_at: opt_instant(row.get(12)?)?,
        created_at: instant(row.get(13)?)?,
        updated_at: instant(row.get(14)?)?,
    })
}

fn tools_from_text(column: usize, text: String) -> rusqlite::Result<Vec<ToolDefinition>> {
    match serde_json::from_str(&text) {
        Ok(value) => Ok(tools::tools_from_stored(value)),
        Err(_) => Err(rusqlite::Error::InvalidColumnType(column, text, Type::Text)),
    }
}

fn tools_text(agent: &Agent) -> String {
    tools::tools_to_stored(&agent.tools).to_string()
}

/// `(entity_type, entity_id)` as stored: a workspace's hyphenated uuid or a
/// user's integer id, as text.
fn entity_columns(entity: ShareEntity) -> (&'static str, String) {
    let id = match entity {
        ShareEntity::Workspace(id) => id.to_string(),
        ShareEntity::User(id) => id.to_string(),
    };
    (entity.type_str(), id)
}

fn share_row(row: &Row<'_>) -> rusqlite::Result<(Uuid, AgentShare)> {
    let entity_type: String = row.get(1)?;
    let entity_id: String = row.get(2)?;
    let entity = match entity_type.as_str() {
        "workspace" => WorkspaceId::parse(&entity_id).map(ShareEntity::Workspace),
        "user" => entity_id
            .parse()
            .ok()
            .map(|id| ShareEntity::User(UserId(id))),
        _ => None,
    }
    .ok_or(rusqlite::Error::InvalidColumnType(2, entity_id, Type::Text))?;
    let permission: String = row.get(3)?;
    let share = AgentShare {
        entity,
        permission: parse_text(3, &permission, SharePermission::parse)?,
        created_at: instant(row.get(4)?)?,
    };
    Ok((row.get::<_, Blob>(0)?.0, share))
}

/// Fills in the shares of `agents` with one query.
fn with_shares(conn: &Connection, mut agents: Vec<Agent>) -> Result<Vec<Agent>> {
    if agents.is_empty() {
        return Ok(agents);
    }
    let list = uuid_list(agents.iter().map(|a| a.id.0));
    let found: Vec<(Uuid, AgentShare)> = conn
        .prepare_cached(
            "SELECT agent_id, entity_type, entity_id, permission, created_at FROM agent_shares
             WHERE agent_id IN (SELECT unhex(value) FROM json_each(?1))
             ORDER BY created_at, entity_type, entity_id",
        )
        .and_then(|mut s| s.query_map([list], share_row)?.collect())
        .map_err(backend_error)?;
    let mut shares: HashMap<Uuid, Vec<AgentShare>> = HashMap::new();
    for (agent, share) in found {
        shares.entry(agent).or_default().push(share);
    }
    for agent in &mut agents {
        agent.shares = shares.remove(&agent.id.0).unwrap_or_default();
    }
    Ok(agents)
}

fn upsert_share(conn: &Connection, id: AgentId, share: &AgentShare) -> Result<()> {
    let (entity_type, entity_id) = entity_columns(share.entity);
    conn.prepare_cached(
        "INSERT INTO agent_shares (agent_id, entity_type, entity_id, permission, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (agent_id, entity_type, entity_id) DO UPDATE SET permission = excluded.permission",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(id.0),
            entity_type,
            entity_id,
            share.permission.as_str(),
            micros(share.created_at)
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

fn photo_config(agent: &Agent) -> Option<String> {
    agent
        .profile_photo_config
        .as_ref()
        .map(|map| serde_json::Value::Object(map.clone()).to_string())
}

pub(super) fn insert(conn: &Connection, agent: &Agent) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO agents (id, workspace_id, user_id, name, description, instruction,
             profile_photo_url, profile_photo_config, visibility, metadata, threads_count,
             usage_count, last_used_at, created_at, updated_at, tools)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(agent.id.0),
            Blob(agent.workspace_id.0),
            agent.user_id.map(|id| id.0),
            agent.name,
            agent.description,
            agent.instruction,
            agent.profile_photo_url,
            photo_config(agent),
            agent.visibility.as_str(),
            agent.metadata.to_json_string(),
            int(agent.threads_count),
            int(agent.usage_count),
            agent.last_used_at.map(micros),
            micros(agent.created_at),
            micros(agent.updated_at),
            tools_text(agent)
        ])
    })
    .map_err(backend_error)?;
    for share in &agent.shares {
        upsert_share(conn, agent.id, share)?;
    }
    Ok(())
}

/// In id order; ids that name no agent are left out.
pub(super) fn by_ids(conn: &Connection, ids: &[AgentId]) -> Result<Vec<Agent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Readers run in one read transaction already (engine::in_snapshot):
    // the agents and their shares come from the same snapshot.
    let list = uuid_list(ids.iter().map(|id| id.0));
    let agents = conn
        .prepare_cached(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents a
             WHERE a.id IN (SELECT unhex(value) FROM json_each(?1)) ORDER BY a.id"
        ))
        .and_then(|mut s| s.query_map([list], agent_row)?.collect())
        .map_err(backend_error)?;
    with_shares(conn, agents)
}

/// The ids `query` may see, without duplicates: one branch per index
/// (workspace agents, workspace shares, user shares) rather than one OR
/// that would scan every agent. A NULL `?4` matches no user share.
const VISIBLE_AGENTS: &str = "WITH visible (id) AS (
         SELECT id FROM agents
         WHERE workspace_id = ?1 AND (visibility <> 'private' OR ?2 IS NULL OR user_id = ?2)
         UNION
         SELECT agent_id FROM agent_shares WHERE entity_type = 'workspace' AND entity_id = ?3
         UNION
         SELECT agent_id FROM agent_shares WHERE entity_type = 'user' AND entity_id = ?4) ";

pub(super) fn list(conn: &Connection, query: AgentQuery, page: PageRequest) -> Result<Page<Agent>> {
    let tx = conn.unchecked_transaction().map_err(backend_error)?;
    let workspace = Blob(query.workspace.0);
    let viewer = query.viewer.map(|id| id.0);
    let workspace_text = query.workspace.to_string();
    let user_text = query.shared_with_user.map(|id| id.to_string());
    let total: i64 = tx
        .prepare_cached(&format!("{VISIBLE_AGENTS} SELECT count(*) FROM visible"))
        .and_then(|mut s| {
            s.query_row(params![workspace, viewer, workspace_text, user_text], |r| {
                r.get(0)
            })
        })
        .map_err(backend_error)?;
    let agents = tx
        .prepare_cached(&format!(
            "{VISIBLE_AGENTS} SELECT {AGENT_COLUMNS} FROM visible v JOIN agents a ON a.id = v.id
             ORDER BY a.created_at DESC, a.id DESC LIMIT ?5 OFFSET ?6"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![
                    workspace,
                    viewer,
                    workspace_text,
                    user_text,
                    page.per_page,
                    int(page.offset())
                ],
                agent_row,
            )?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items: with_shares(&tx, agents)?,
        total: count(total),
        request: page,
    })
}

pub(super) fn update(conn: &Connection, agent: &Agent) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE agents SET name = ?3, description = ?4, instruction = ?5, profile_photo_url = ?6,
             profile_photo_config = ?7, visibility = ?8, metadata = ?9, updated_at = ?10,
             tools = ?11
         WHERE id = ?1 AND workspace_id = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(agent.id.0),
            Blob(agent.workspace_id.0),
            agent.name,
            agent.description,
            agent.instruction,
            agent.profile_photo_url,
            photo_config(agent),
            agent.visibility.as_str(),
            agent.metadata.to_json_string(),
            micros(agent.updated_at),
            tools_text(agent)
        ])
    })
    .map(|n| n > 0)
    .map_err(backend_error)
}

/// Shares go with it; its threads stay, with no agent (`ON DELETE SET NULL`).
pub(super) fn delete(conn: &Connection, id: AgentId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM agents WHERE id = ?1")
        .and_then(|mut s| s.execute([Blob(id.0)]))
        .map(|n| n > 0)
        .map_err(backend_error)
}

pub(super) fn put_share(conn: &Connection, id: AgentId, share: &AgentShare) -> Result<()> {
    upsert_share(conn, id, share)
}

/// Moves the agent's `threads_count` by `delta`, inside the caller's write.
pub(super) fn add_threads(conn: &Connection, id: AgentId, delta: i64) -> Result<()> {
    conn.prepare_cached("UPDATE agents SET threads_count = threads_count + ?2 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![Blob(id.0), delta]))
        .map(drop)
        .map_err(backend_error)
}
