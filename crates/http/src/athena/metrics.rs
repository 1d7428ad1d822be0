//! Counts per day, week or month for dashboards.

use super::{Athena, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::Auth;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Serialize;
use spool_core::AgentId;
use spool_core::query::{Bucket, MetricsSubject};
use spool_core::service::{LeaderboardInput, MetricsInput};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMetricsPoint)]
pub struct MetricsPointBody {
    /// The period's first instant (UTC).
    #[schema(format = DateTime)]
    pub period_start: String,
    pub count: u64,
    /// Messages only: tokens of replies written by runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMetrics)]
pub struct MetricsBody {
    pub data: Vec<MetricsPointBody>,
    pub meta: MetricsMeta,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaMetricsMeta)]
pub struct MetricsMeta {
    #[schema(value_type = super::openapi::Period)]
    pub period: String,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// The sum of the periods' counts.
    pub total: u64,
}

async fn metrics(
    state: AppState,
    auth: Auth<Athena>,
    query: QueryPairs<Athena>,
    subject: MetricsSubject,
) -> Result<axum::Json<MetricsBody>> {
    let Auth(principal, _) = auth;
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let input = MetricsInput {
        subject,
        agent: query.id("agent_uuid", AgentId::parse)?,
        period: query.string("period"),
        from: query.timestamp("from")?,
        to: query.timestamp("to")?,
    };
    let series = state.spool.metrics(&scope, input).await?;
    let messages = subject == MetricsSubject::Messages;
    let meta = MetricsMeta {
        period: match series.bucket {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
        .to_owned(),
        from: super::wire::time(series.from),
        to: super::wire::time(series.to),
        total: series.points.iter().map(|p| p.count).sum(),
    };
    let data = series
        .points
        .into_iter()
        .map(|p| MetricsPointBody {
            period_start: super::wire::time(p.start),
            count: p.count,
            input_tokens: messages.then_some(p.input_tokens),
            output_tokens: messages.then_some(p.output_tokens),
            total_tokens: messages.then_some(p.input_tokens + p.output_tokens),
        })
        .collect();
    Ok(axum::Json(MetricsBody { data, meta }))
}

/// Threads per period
///
/// Threads created per day, week or month.
#[utoipa::path(get, path = "/api/v1/metrics/threads", tag = "athena: metrics", operation_id = "athena_get_thread_metrics",
    params(WorkspaceParam, super::openapi::MetricsParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One point per period of the range, zeros included", body = MetricsBody)))]
pub async fn threads(
    State(state): State<AppState>,
    auth: Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<MetricsBody>> {
    metrics(state, auth, query, MetricsSubject::Threads).await
}

/// Messages per period
///
/// Messages created per day, week or month, with the token sums of replies.
#[utoipa::path(get, path = "/api/v1/metrics/messages", tag = "athena: metrics", operation_id = "athena_get_message_metrics",
    params(WorkspaceParam, super::openapi::MetricsParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One point per period of the range, zeros included", body = MetricsBody)))]
pub async fn messages(
    State(state): State<AppState>,
    auth: Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<MetricsBody>> {
    metrics(state, auth, query, MetricsSubject::Messages).await
}

/// Agents per period
///
/// Agents created per day, week or month.
#[utoipa::path(get, path = "/api/v1/metrics/agents", tag = "athena: metrics", operation_id = "athena_get_agent_metrics",
    params(WorkspaceParam, super::openapi::MetricsParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One point per period of the range, zeros included", body = MetricsBody)))]
pub async fn agents(
    State(state): State<AppState>,
    auth: Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<MetricsBody>> {
    metrics(state, auth, query, MetricsSubject::Agents).await
}

/// One agent's place on the leaderboard.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaLeaderboardEntry)]
pub struct LeaderboardEntryBody {
    /// 1 for the best.
    pub rank: u32,
    #[schema(format = Uuid)]
    pub agent_uuid: String,
    pub name: String,
    /// Threads made with it in the range.
    pub threads: u64,
    /// Runs with it in the range, and their tokens.
    pub runs: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    /// Ratings of its threads' replies given in the range.
    pub positive_feedback: u64,
    pub negative_feedback: u64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaLeaderboard)]
pub struct LeaderboardBody {
    pub data: Vec<LeaderboardEntryBody>,
    pub meta: LeaderboardMeta,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaLeaderboardMeta)]
pub struct LeaderboardMeta {
    #[schema(value_type = LeaderboardSortName)]
    pub sort: &'static str,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
}

/// What the leaderboard ranks by.
#[derive(ToSchema)]
#[schema(as = AthenaLeaderboardSort, rename_all = "snake_case")]
pub enum LeaderboardSortName {
    Runs,
    Threads,
    Tokens,
    PositiveFeedback,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct LeaderboardParams {
    /// `runs` (default), `threads`, `tokens` or `positive_feedback`.
    #[param(value_type = Option<LeaderboardSortName>)]
    sort: Option<String>,
    /// A date (`YYYY-MM-DD`) or an RFC 3339 time; default 30 days before `to`.
    #[param(value_type = Option<super::openapi::DateOrTime>)]
    from: Option<String>,
    /// A date or an RFC 3339 time after `from`; default now.
    #[param(value_type = Option<super::openapi::DateOrTime>)]
    to: Option<String>,
    /// How many agents, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<u32>,
}

/// Get the agent leaderboard
///
/// The workspace's agents the caller may use, ranked by runs (or threads,
/// tokens, positive feedback) in the range.
#[utoipa::path(get, path = "/api/v1/agents/leaderboard", tag = "athena: agents", operation_id = "athena_agent_leaderboard",
    params(WorkspaceParam, LeaderboardParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "Best first", body = LeaderboardBody)))]
pub async fn leaderboard(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<LeaderboardBody>> {
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    let input = LeaderboardInput {
        sort: query.string("sort"),
        from: query.timestamp("from")?,
        to: query.timestamp("to")?,
        limit: query.u32("limit")?,
    };
    let board = state
        .spool
        .agent_leaderboard(&principal, &scope, input)
        .await?;
    let data = board
        .entries
        .into_iter()
        .zip(1..)
        .map(|((agent, stats), rank)| LeaderboardEntryBody {
            rank,
            agent_uuid: agent.id.to_string(),
            name: agent.name,
            threads: stats.threads,
            runs: stats.runs,
            input_tokens: stats.input_tokens,
            output_tokens: stats.output_tokens,
            total_tokens: stats.input_tokens + stats.output_tokens,
            positive_feedback: stats.positive_feedback,
            negative_feedback: stats.negative_feedback,
        })
        .collect();
    Ok(axum::Json(LeaderboardBody {
        data,
        meta: LeaderboardMeta {
            sort: board.sort.as_str(),
            from: super::wire::time(board.from),
            to: super::wire::time(board.to),
        },
    }))
}

/// One workspace's series.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWorkspaceMetrics)]
pub struct WorkspaceMetricsBody {
    #[schema(format = Uuid)]
    pub workspace_uuid: String,
    pub name: String,
    /// Threads created per period.
    pub threads: Vec<MetricsPointBody>,
    /// Messages created per period, with the token sums of replies.
    pub messages: Vec<MetricsPointBody>,
    /// Runs started per period, with their token sums.
    pub runs: Vec<MetricsPointBody>,
    pub totals: WorkspaceTotals,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWorkspaceTotals)]
pub struct WorkspaceTotals {
    pub threads: u64,
    pub messages: u64,
    pub runs: u64,
    /// Tokens of the range's runs.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWorkspacesMetrics)]
pub struct WorkspacesMetricsBody {
    pub data: Vec<WorkspaceMetricsBody>,
    pub meta: WorkspacesMetricsMeta,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaWorkspacesMetricsMeta)]
pub struct WorkspacesMetricsMeta {
    #[schema(value_type = super::openapi::Period)]
    pub period: String,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct WorkspacesMetricsParams {
    /// `day` (default), `week` or `month`.
    #[param(value_type = Option<super::openapi::Period>)]
    period: Option<String>,
    /// A date (`YYYY-MM-DD`) or an RFC 3339 time; default 30 days before `to`.
    #[param(value_type = Option<super::openapi::DateOrTime>)]
    from: Option<String>,
    /// A date or an RFC 3339 time after `from`; default now.
    #[param(value_type = Option<super::openapi::DateOrTime>)]
    to: Option<String>,
}

fn points(series: spool_core::service::MetricsSeries, tokens: bool) -> Vec<MetricsPointBody> {
    series
        .points
        .into_iter()
        .map(|p| MetricsPointBody {
            period_start: super::wire::time(p.start),
            count: p.count,
            input_tokens: tokens.then_some(p.input_tokens),
            output_tokens: tokens.then_some(p.output_tokens),
            total_tokens: tokens.then_some(p.input_tokens + p.output_tokens),
        })
        .collect()
}

fn bucket_name(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Day => "day",
        Bucket::Week => "week",
        Bucket::Month => "month",
    }
}

/// Get workspaces metrics
///
/// Threads, messages, runs and tokens per period for each of the caller's
/// workspaces (an API key: its own).
#[utoipa::path(get, path = "/api/v1/workspaces/metrics", tag = "athena: metrics", operation_id = "athena_workspaces_metrics",
    params(WorkspacesMetricsParams), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "One entry per workspace, one point per period, zeros included", body = WorkspacesMetricsBody)))]
pub async fn workspaces(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<WorkspacesMetricsBody>> {
    let (period, from, to) = (
        query.string("period"),
        query.timestamp("from")?,
        query.timestamp("to")?,
    );
    let found = state
        .spool
        .workspace_metrics(&principal, period.clone(), from, to)
        .await?;
    let meta = match found.first() {
        Some(first) => WorkspacesMetricsMeta {
            period: bucket_name(first.threads.bucket).to_owned(),
            from: super::wire::time(first.threads.from),
            to: super::wire::time(first.threads.to),
        },
        None => WorkspacesMetricsMeta {
            period: period.unwrap_or_else(|| "day".to_owned()),
            from: super::wire::time(from.unwrap_or_else(spool_core::now)),
            to: super::wire::time(to.unwrap_or_else(spool_core::now)),
        },
    };
    let data = found
        .into_iter()
        .map(|w| {
            let sum = |s: &spool_core::service::MetricsSeries| -> u64 {
                s.points.iter().map(|p| p.count).sum()
            };
            let input_tokens = w.runs.points.iter().map(|p| p.input_tokens).sum::<u64>();
            let output_tokens = w.runs.points.iter().map(|p| p.output_tokens).sum::<u64>();
            let totals = WorkspaceTotals {
                threads: sum(&w.threads),
                messages: sum(&w.messages),
                runs: sum(&w.runs),
                input_tokens,
                output_tokens,
                total_tokens: input_tokens + output_tokens,
            };
            WorkspaceMetricsBody {
                workspace_uuid: w.workspace.id.to_string(),
                name: w.workspace.name,
                threads: points(w.threads, false),
                messages: points(w.messages, true),
                runs: points(w.runs, true),
                totals,
            }
        })
        .collect();
    Ok(axum::Json(WorkspacesMetricsBody { data, meta }))
}
