//! Agents and their shares. Shares are loaded for a whole batch of agents in
//! one extra query, never one per agent.

use super::error::{corrupt, db};
use super::rows;
use spool_core::model::{Agent, AgentShare, ShareEntity, SharePermission, Visibility};
use spool_core::paging::{Page, PageRequest};
use spool_core::query::AgentQuery;
use spool_core::store::StoreResult;
use spool_core::tools::{tools_from_stored, tools_to_stored};
use spool_core::validate::Metadata;
use spool_core::{AgentId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool, Row};
use std::collections::HashMap;
use uuid::Uuid;

macro_rules! agent_columns {
    () => {
        "a.id, a.workspace_id, a.user_id, a.name, a.description, a.instruction, \
         a.profile_photo_url, a.profile_photo_config, a.visibility, a.metadata, \
         a.threads_count, a.usage_count, a.last_used_at, a.created_at, a.updated_at, a.tools"
    };
}
pub(super) use agent_columns;

pub(super) fn agent_row(row: &PgRow) -> sqlx::Result<Agent> {
    let visibility: String = row.try_get("visibility")?;
    let Json(metadata) = row.try_get("metadata")?;
    let Json(tools) = row.try_get("tools")?;
    let photo_config: Option<Json<_>> = row.try_get("profile_photo_config")?;
    Ok(Agent {
        id: AgentId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        instruction: row.try_get("instruction")?,
        profile_photo_url: row.try_get("profile_photo_url")?,
        profile_photo_config: photo_config.map(|Json(config)| config),
        visibility: Visibility::parse(&visibility).ok_or_else(|| corrupt("visibility"))?,
        metadata: Metadata::from_stored(metadata),
        tools: tools_from_stored(tools),
        shares: Vec::new(),
        threads_count: rows::count(row.try_get("threads_count")?),
        usage_count: rows::count(row.try_get("usage_count")?),
        last_used_at: row.try_get("last_used_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
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

pub(super) fn share_row(row: &PgRow) -> sqlx::Result<(Uuid, AgentShare)> {
    let entity_type: String = row.try_get("entity_type")?;
    let entity_id: String = row.try_get("entity_id")?;
    let entity = match entity_type.as_str() {
        "workspace" => WorkspaceId::parse(&entity_id).map(ShareEntity::Workspace),
        "user" => entity_id
            .parse()
            .ok()
            .map(|id| ShareEntity::User(UserId(id))),
        _ => None,
    }
    .ok_or_else(|| corrupt("share entity"))?;
    let permission: String = row.try_get("permission")?;
    let share = AgentShare {
        entity,
        permission: SharePermission::parse(&permission).ok_or_else(|| corrupt("permission"))?,
        created_at: row.try_get("created_at")?,
    };
    Ok((row.try_get("agent_id")?, share))
}

/// Decodes agent rows and fills in their shares with one query.
async fn with_shares(pool: &PgPool, found: Vec<PgRow>) -> StoreResult<Vec<Agent>> {
    let mut agents = found
        .iter()
        .map(agent_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(db)?;
    if agents.is_empty() {
        return Ok(agents);
    }
    let ids: Vec<Uuid> = agents.iter().map(|a| a.id.0).collect();
    let share_rows = sqlx::query(
        "SELECT agent_id, entity_type, entity_id, permission, created_at FROM agent_shares \
         WHERE agent_id = ANY($1) ORDER BY created_at, entity_type, entity_id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    attach_shares(&mut agents, &share_rows)?;
    Ok(agents)
}

/// Gives each agent its rows of `share_rows` (rows of `agent_shares`).
pub(super) fn attach_shares(agents: &mut [Agent], share_rows: &[PgRow]) -> StoreResult<()> {
    let mut shares: HashMap<Uuid, Vec<AgentShare>> = HashMap::new();
    for row in share_rows {
        let (agent, share) = share_row(row).map_err(db)?;
        shares.entry(agent).or_default().push(share);
    }
    for agent in agents {
        agent.shares = shares.remove(&agent.id.0).unwrap_or_default();
    }
    Ok(())
}

async fn upsert_share<'e>(
    executor: impl PgExecutor<'e>,
    id: AgentId,
    share: &AgentShare,
) -> StoreResult<()> {
    let (entity_type, entity_id) = entity_columns(share.entity);
    sqlx::query(
        "INSERT INTO agent_shares (agent_id, entity_type, entity_id, permission, created_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (agent_id, entity_type, entity_id) DO UPDATE SET permission = EXCLUDED.permission",
    )
    .bind(id.0)
    .bind(entity_type)
    .bind(entity_id)
    .bind(share.permission.as_str())
    .bind(share.created_at)
    .execute(executor)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn insert_agent(pool: &PgPool, agent: Agent) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO agents (id, workspace_id, user_id, name, description, instruction, \
             profile_photo_url, profile_photo_config, visibility, metadata, threads_count, \
             usage_count, last_used_at, created_at, updated_at, tools) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(agent.id.0)
    .bind(agent.workspace_id.0)
    .bind(agent.user_id.map(|id| id.0))
    .bind(&agent.name)
    .bind(&agent.description)
    .bind(&agent.instruction)
    .bind(&agent.profile_photo_url)
    .bind(agent.profile_photo_config.as_ref().map(Json))
    .bind(agent.visibility.as_str())
    .bind(Json(agent.metadata.as_map()))
    .bind(i64::try_from(agent.threads_count).unwrap_or(i64::MAX))
    .bind(i64::try_from(agent.usage_count).unwrap_or(i64::MAX))
    .bind(agent.last_used_at)
    .bind(agent.created_at)
    .bind(agent.updated_at)
    .bind(Json(tools_to_stored(&agent.tools)))
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    for share in &agent.shares {
        upsert_share(&mut *tx, agent.id, share).await?;
    }
    tx.commit().await.map_err(db)
}

pub(super) async fn agent(pool: &PgPool, id: AgentId) -> StoreResult<Option<Agent>> {
    Ok(agents_by_ids(pool, &[id]).await?.pop())
}

/// In id order; ids that name no agent are left out.
pub(super) async fn agents_by_ids(pool: &PgPool, ids: &[AgentId]) -> StoreResult<Vec<Agent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let found = sqlx::query(concat!(
        "SELECT ",
        agent_columns!(),
        " FROM agents a WHERE a.id = ANY($1) ORDER BY a.id"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    with_shares(pool, found).await
}

/// The agents `query` may see, as `(id, created_at)` without duplicates: one
/// branch per index (workspace agents, workspace shares, user shares)
/// instead of one OR that would scan every agent.
macro_rules! visible_agents {
    () => {
        "WITH visible AS ( \
             SELECT id, created_at FROM agents \
             WHERE workspace_id = $1 \
               AND (visibility <> 'private' OR $2::BIGINT IS NULL OR user_id = $2) \
             UNION \
             SELECT a.id, a.created_at FROM agent_shares s JOIN agents a ON a.id = s.agent_id \
             WHERE s.entity_type = 'workspace' AND s.entity_id = $3 \
             UNION \
             SELECT a.id, a.created_at FROM agent_shares s JOIN agents a ON a.id = s.agent_id \
             WHERE s.entity_type = 'user' AND s.entity_id = $4) "
    };
}

pub(super) async fn list_agents(
    pool: &PgPool,
    query: AgentQuery,
    page: PageRequest,
) -> StoreResult<Page<Agent>> {
    let (limit, offset) = rows::limit_offset(page);
    let viewer = query.viewer.map(|id| id.0);
    let workspace = query.workspace.to_string();
    // NULL never equals an entity id, so the user branch is empty without one.
    let user = query.shared_with_user.map(|id| id.to_string());
    let total: i64 = sqlx::query_scalar(concat!(visible_agents!(), "SELECT count(*) FROM visible"))
        .bind(query.workspace.0)
        .bind(viewer)
        .bind(&workspace)
        .bind(&user)
        .fetch_one(pool)
        .await
        .map_err(db)?;
    let found = sqlx::query(concat!(
        visible_agents!(),
        // The page is cut from the ids first, so that only its rows are read.
        ", page AS (SELECT id FROM visible ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6) \
         SELECT ",
        agent_columns!(),
        " FROM page JOIN agents a ON a.id = page.id ORDER BY a.created_at DESC, a.id DESC"
    ))
    .bind(query.workspace.0)
    .bind(viewer)
    .bind(&workspace)
    .bind(&user)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(Page {
        items: with_shares(pool, found).await?,
        total: rows::count(total),
        request: page,
    })
}

pub(super) async fn update_agent(pool: &PgPool, agent: &Agent) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE agents SET name = $3, description = $4, instruction = $5, profile_photo_url = $6, \
             profile_photo_config = $7, visibility = $8, metadata = $9, updated_at = $10, \
             tools = $11 \
         WHERE id = $1 AND workspace_id = $2",
    )
    .bind(agent.id.0)
    .bind(agent.workspace_id.0)
    .bind(&agent.name)
    .bind(&agent.description)
    .bind(&agent.instruction)
    .bind(&agent.profile_photo_url)
    .bind(agent.profile_photo_config.as_ref().map(Json))
    .bind(agent.visibility.as_str())
    .bind(Json(agent.metadata.as_map()))
    .bind(agent.updated_at)
    .bind(Json(tools_to_stored(&agent.tools)))
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

/// Shares go with it; its threads stay, with no agent (`ON DELETE SET NULL`).
pub(super) async fn delete_agent(pool: &PgPool, id: AgentId) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM agents WHERE id = $1")
        .bind(id.0)
        .execute(pool)
        .await
        .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn put_agent_share(
    pool: &PgPool,
    id: AgentId,
    share: AgentShare,
) -> StoreResult<()> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    upsert_share(&mut *tx, id, &share).await?;
    tx.commit().await.map_err(db)
}

/// Moves the agent's `threads_count` by `delta` inside the caller's transaction.
pub(super) async fn add_threads<'e>(
    executor: impl PgExecutor<'e>,
    id: AgentId,
    delta: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE agents SET threads_count = threads_count + $2 WHERE id = $1")
        .bind(id.0)
        .bind(delta)
        .execute(executor)
        .await
        .map_err(db)?;
    Ok(())
}
