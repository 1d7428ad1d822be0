//! Rows created per day, week or month, counted in SQL over a range of the
//! `(workspace_id, created_at)` indexes.

use super::engine::backend_error;
use super::rows::{Blob, count, instant, micros};
use rusqlite::{Connection, params};
use spool_core::query::{AgentStats, Bucket, MetricsPoint, MetricsQuery, MetricsSubject};
use spool_core::{AgentId, StoreError, Timestamp, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

/// The first instant (in microseconds) of `created_at`'s bucket, in UTC.
/// Floor division (`x - ((x % n) + n) % n`) so that instants before 1970
/// land in the right bucket too.
fn bucket_start(bucket: Bucket) -> &'static str {
    match bucket {
        // 86_400_000_000 µs a day.
        Bucket::Day => "created_at - ((created_at % 86400000000) + 86400000000) % 86400000000",
        // Weeks start on Monday; 1970-01-01 was a Thursday, so shift by
        // three days (259_200_000_000 µs) before flooring to 7 days.
        Bucket::Week => {
            "created_at - (((created_at + 259200000000) % 604800000000) + 604800000000) % 604800000000"
        }
        Bucket::Month => {
            "unixepoch((created_at - ((created_at % 1000000) + 1000000) % 1000000) / 1000000, \
             'unixepoch', 'start of month') * 1000000"
        }
    }
}

pub(super) fn metrics(conn: &Connection, query: &MetricsQuery) -> Result<Vec<MetricsPoint>> {
    let (table, agent_column, tokens) = match query.subject {
        MetricsSubject::Threads => ("threads", "agent_id", "0, 0"),
        MetricsSubject::Messages => (
            "messages",
            "agent_id",
            "coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0)",
        ),
        MetricsSubject::Agents => ("agents", "id", "0, 0"),
        MetricsSubject::Runs => (
            "runs",
            "agent_id",
            "coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0)",
        ),
    };
    let agent_filter = if query.agent.is_some() {
        format!(" AND {agent_column} = ?4")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {start} AS bucket, count(*), {tokens} FROM {table}
         WHERE workspace_id = ?1 AND created_at >= ?2 AND created_at < ?3{agent_filter}
         GROUP BY bucket ORDER BY bucket",
        start = bucket_start(query.bucket),
    );
    let workspace = Blob(query.workspace.0);
    let (from, to) = (micros(query.from), micros(query.to));
    let agent = query.agent.map(|id| Blob(id.0));
    let row = |r: &rusqlite::Row<'_>| {
        Ok(MetricsPoint {
            start: instant(r.get(0)?)?,
            count: count(r.get(1)?),
            input_tokens: count(r.get(2)?),
            output_tokens: count(r.get(3)?),
        })
    };
    conn.prepare_cached(&sql)
        .and_then(|mut s| match &agent {
            Some(agent) => s
                .query_map(params![workspace, from, to, agent], row)?
                .collect(),
            None => s.query_map(params![workspace, from, to], row)?.collect(),
        })
        .map_err(backend_error)
}

/// See [`spool_core::Store::agent_stats`]: one row per agent, each count a
/// range scan of a `created_at` index.
pub(super) fn agent_stats(
    conn: &Connection,
    workspace: WorkspaceId,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<AgentStats>> {
    conn.prepare_cached(
        "SELECT a.id,
           (SELECT count(*) FROM threads t
             WHERE t.agent_id = a.id AND t.created_at >= ?2 AND t.created_at < ?3),
           (SELECT count(*) FROM runs r
             WHERE r.agent_id = a.id AND r.created_at >= ?2 AND r.created_at < ?3),
           (SELECT coalesce(sum(r.input_tokens), 0) FROM runs r
             WHERE r.agent_id = a.id AND r.created_at >= ?2 AND r.created_at < ?3),
           (SELECT coalesce(sum(r.output_tokens), 0) FROM runs r
             WHERE r.agent_id = a.id AND r.created_at >= ?2 AND r.created_at < ?3),
           (SELECT count(*) FROM feedback f JOIN threads t ON t.id = f.thread_id
             WHERE t.agent_id = a.id AND f.feedback_type = 'positive'
               AND f.created_at >= ?2 AND f.created_at < ?3),
           (SELECT count(*) FROM feedback f JOIN threads t ON t.id = f.thread_id
             WHERE t.agent_id = a.id AND f.feedback_type = 'negative'
               AND f.created_at >= ?2 AND f.created_at < ?3)
         FROM agents a WHERE a.workspace_id = ?1",
    )
    .and_then(|mut s| {
        s.query_map(params![Blob(workspace.0), micros(from), micros(to)], |r| {
            Ok(AgentStats {
                agent: AgentId(r.get::<_, Blob>(0)?.0),
                threads: count(r.get(1)?),
                runs: count(r.get(2)?),
                input_tokens: count(r.get(3)?),
                output_tokens: count(r.get(4)?),
                positive_feedback: count(r.get(5)?),
                negative_feedback: count(r.get(6)?),
            })
        })?
        .collect()
    })
    .map_err(backend_error)
}
