//! Counts per day, week or month for dashboards.

use super::{Athena, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::Auth;
use crate::query::QueryPairs;
use axum::extract::State;
use serde::Serialize;
use spool_core::AgentId;
use spool_core::query::{Bucket, MetricsSubject};
use spool_core::service::MetricsInput;
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
