//! What threads' wire shapes nest (agents with their shares, users,
//! workspaces), in one round trip: each query names the ids it needs through
//! subqueries rather than through another query's answer, so all of them are
//! sent at once instead of one after another.

use super::agents::{agent_columns, agent_row, attach_shares};
use super::error::db;
use super::rows::{self, user_columns, workspace_columns};
use super::threads::{thread_columns, thread_row};
use spool_core::model::{Agent, Thread};
use spool_core::store::{StoreResult, ThreadNesting};
use spool_core::{AgentId, ThreadId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool};
use std::sync::LazyLock;

/// The queries of one nesting, given how the agent and creator ids are named:
/// built once from fixed text (no value is spliced in; values are bound).
struct Queries {
    agents: String,
    shares: String,
    users: String,
    workspaces: String,
}

impl Queries {
    fn new(agent_ids: &str, creator_ids: &str) -> Self {
        let agent_users = format!("SELECT user_id FROM agents WHERE id IN ({agent_ids})");
        let users = format!("u.id IN ({creator_ids}) OR u.id IN ({agent_users})");
        Self {
            agents: format!(
                "SELECT {} FROM agents a WHERE a.id IN ({agent_ids}) ORDER BY a.id",
                agent_columns!()
            ),
            shares: format!(
                "SELECT agent_id, entity_type, entity_id, permission, created_at FROM agent_shares \
                 WHERE agent_id IN ({agent_ids}) ORDER BY created_at, entity_type, entity_id"
            ),
            workspaces: format!(
                "SELECT {} FROM workspaces w \
                 WHERE w.id IN (SELECT workspace_id FROM agents WHERE id IN ({agent_ids})) \
                    OR w.id IN (SELECT u.primary_workspace_id FROM users u WHERE {users}) \
                 ORDER BY w.id",
                workspace_columns!()
            ),
            users: format!(
                "SELECT {} FROM users u WHERE {users} ORDER BY u.id",
                user_columns!()
            ),
        }
    }
}

/// Ids given as arrays: `$1` the agents', `$2` the creators'.
static LISTED: LazyLock<Queries> =
    LazyLock::new(|| Queries::new("SELECT unnest($1::uuid[])", "SELECT unnest($2::bigint[])"));

const ONE_THREAD: &str = "FROM threads WHERE workspace_id = $1 AND id = $2";

/// Ids named by one thread: `$1` its workspace, `$2` its id.
static OF_THREAD: LazyLock<Queries> = LazyLock::new(|| {
    Queries::new(
        &format!("SELECT agent_id {ONE_THREAD}"),
        &format!("SELECT creator_id {ONE_THREAD}"),
    )
});

fn nesting(
    agents: &[PgRow],
    shares: &[PgRow],
    users: &[PgRow],
    workspaces: &[PgRow],
) -> StoreResult<ThreadNesting> {
    let mut agents = agents
        .iter()
        .map(agent_row)
        .collect::<Result<Vec<Agent>, _>>()
        .map_err(db)?;
    attach_shares(&mut agents, shares)?;
    Ok(ThreadNesting {
        agents,
        users: users
            .iter()
            .map(rows::user)
            .collect::<Result<_, _>>()
            .map_err(db)?,
        workspaces: workspaces
            .iter()
            .map(rows::workspace)
            .collect::<Result<_, _>>()
            .map_err(db)?,
    })
}

pub(super) async fn thread_nesting(
    pool: &PgPool,
    agents: &[AgentId],
    creators: &[UserId],
) -> StoreResult<ThreadNesting> {
    if agents.is_empty() && creators.is_empty() {
        return Ok(ThreadNesting::default());
    }
    let agents: Vec<uuid::Uuid> = agents.iter().map(|id| id.0).collect();
    let creators: Vec<i64> = creators.iter().map(|id| id.0).collect();
    let q = &*LISTED;
    let (agent_rows, share_rows, user_rows, workspace_rows) = tokio::try_join!(
        sqlx::query(AssertSqlSafe(q.agents.as_str()))
            .bind(&agents)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.shares.as_str()))
            .bind(&agents)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.users.as_str()))
            .bind(&agents)
            .bind(&creators)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.workspaces.as_str()))
            .bind(&agents)
            .bind(&creators)
            .fetch_all(pool),
    )
    .map_err(db)?;
    nesting(&agent_rows, &share_rows, &user_rows, &workspace_rows)
}

pub(super) async fn thread_with_nesting(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: ThreadId,
) -> StoreResult<Option<(Thread, ThreadNesting)>> {
    static THREAD: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {} FROM threads t WHERE t.workspace_id = $1 AND t.id = $2",
            thread_columns!()
        )
    });
    let q = &*OF_THREAD;
    let (thread, agent_rows, share_rows, user_rows, workspace_rows) = tokio::try_join!(
        sqlx::query(AssertSqlSafe(THREAD.as_str()))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_optional(pool),
        sqlx::query(AssertSqlSafe(q.agents.as_str()))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.shares.as_str()))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.users.as_str()))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_all(pool),
        sqlx::query(AssertSqlSafe(q.workspaces.as_str()))
            .bind(workspace.0)
            .bind(id.0)
            .fetch_all(pool),
    )
    .map_err(db)?;
    let Some(thread) = thread.as_ref().map(thread_row).transpose().map_err(db)? else {
        return Ok(None);
    };
    let nesting = nesting(&agent_rows, &share_rows, &user_rows, &workspace_rows)?;
    Ok(Some((thread, nesting)))
}
