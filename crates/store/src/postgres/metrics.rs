//! Rows created per day, week or month, from the `(…, created_at)` indexes.

use super::error::db;
use super::rows;
use spool_core::query::{AgentStats, Bucket, MetricsPoint, MetricsQuery, MetricsSubject};
use spool_core::store::StoreResult;
use spool_core::{AgentId, Timestamp, WorkspaceId};
use sqlx::{PgPool, Row};

fn unit(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Day => "day",
        Bucket::Week => "week", // ISO weeks: Monday first
        Bucket::Month => "month",
    }
}

/// One statement per subject and filter, so that each plan picks its own
/// index: `(workspace_id, created_at)`, or the agent's. `$1` workspace,
/// `$2`..`$3` the range, `$4` the unit, `$5` the agent. Buckets are cut in
/// UTC whatever the session's time zone.
macro_rules! per_bucket {
    ($table:literal, NONE, $agent:literal) => {
        per_bucket!($table, "0::BIGINT AS input, 0::BIGINT AS output", $agent)
    };
    ($table:literal, TOKENS, $agent:literal) => {
        per_bucket!(
            $table,
            "COALESCE(sum(input_tokens), 0)::BIGINT AS input, \
             COALESCE(sum(output_tokens), 0)::BIGINT AS output",
            $agent
        )
    };
    ($table:literal, $tokens:literal, $agent:literal) => {
        concat!(
            "SELECT date_trunc($4, created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start, \
                    count(*) AS n, ",
            $tokens,
            " FROM ",
            $table,
            " WHERE workspace_id = $1 AND created_at >= $2 AND created_at < $3",
            $agent,
            " GROUP BY 1 ORDER BY 1"
        )
    };
}

fn statement(subject: MetricsSubject, per_agent: bool) -> &'static str {
    match (subject, per_agent) {
        (MetricsSubject::Threads, false) => per_bucket!("threads", NONE, ""),
        (MetricsSubject::Threads, true) => per_bucket!("threads", NONE, " AND agent_id = $5"),
        (MetricsSubject::Agents, false) => per_bucket!("agents", NONE, ""),
        (MetricsSubject::Agents, true) => per_bucket!("agents", NONE, " AND id = $5"),
        (MetricsSubject::Messages, false) => per_bucket!("messages", TOKENS, ""),
        (MetricsSubject::Messages, true) => per_bucket!("messages", TOKENS, " AND agent_id = $5"),
        (MetricsSubject::Runs, false) => per_bucket!("runs", TOKENS, ""),
        (MetricsSubject::Runs, true) => per_bucket!("runs", TOKENS, " AND agent_id = $5"),
    }
}

pub(super) async fn metrics(pool: &PgPool, query: MetricsQuery) -> StoreResult<Vec<MetricsPoint>> {
    let mut statement = sqlx::query(statement(query.subject, query.agent.is_some()))
        .bind(query.workspace.0)
        .bind(query.from)
        .bind(query.to)
        .bind(unit(query.bucket));
    if let Some(agent) = query.agent {
        statement = statement.bind(agent.0);
    }
    let found = statement.fetch_all(pool).await.map_err(db)?;
    found
        .iter()
        .map(|row| {
            Ok(MetricsPoint {
                start: row.try_get("start")?,
                count: rows::count(row.try_get("n")?),
                input_tokens: rows::count(row.try_get("input")?),
                output_tokens: rows::count(row.try_get("output")?),
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(db)
}

/// See [`spool_core::Store::agent_stats`]: one statement, each count a
/// range scan of a `created_at` index.
pub(super) async fn agent_stats(
    pool: &PgPool,
    workspace: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<AgentStats>> {
    let found = sqlx::query(
        "SELECT a.id, \
           (SELECT count(*) FROM threads t \
             WHERE t.agent_id = a.id AND t.created_at >= $2 AND t.created_at < $3) AS threads, \
           r.runs, r.input, r.output, \
           (SELECT count(*) FROM feedback f JOIN threads t ON t.id = f.thread_id \
             WHERE t.agent_id = a.id AND f.feedback_type = 'positive' \
               AND f.created_at >= $2 AND f.created_at < $3) AS positive, \
           (SELECT count(*) FROM feedback f JOIN threads t ON t.id = f.thread_id \
             WHERE t.agent_id = a.id AND f.feedback_type = 'negative' \
               AND f.created_at >= $2 AND f.created_at < $3) AS negative \
         FROM agents a, LATERAL (SELECT count(*) AS runs, \
             coalesce(sum(input_tokens), 0)::bigint AS input, \
             coalesce(sum(output_tokens), 0)::bigint AS output \
             FROM runs WHERE agent_id = a.id AND created_at >= $2 AND created_at < $3) r \
         WHERE a.workspace_id = $1",
    )
    .bind(workspace.0)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(|row| {
            Ok(AgentStats {
                agent: AgentId(row.try_get("id")?),
                threads: rows::count(row.try_get("threads")?),
                runs: rows::count(row.try_get("runs")?),
                input_tokens: rows::count(row.try_get("input")?),
                output_tokens: rows::count(row.try_get("output")?),
                positive_feedback: rows::count(row.try_get("positive")?),
                negative_feedback: rows::count(row.try_get("negative")?),
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(db)
}
