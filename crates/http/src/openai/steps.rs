//! Run steps, derived from what the run stored: each assistant message it
//! wrote is a step (`tool_calls` when it called tools, else
//! `message_creation`), `step_` + the message's id.

use super::wire::{List, StepObject, is_step};
use super::{ListQuery, OpenAi, OpenAiError, Result, RunPath, StepPath, ids, scope};
use crate::AppState;
use crate::extract::Auth;
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::State;
use spool_core::CoreError;
use spool_core::model::{Message, Run};

fn steps(run: &Run, messages: Vec<Message>) -> Vec<StepObject> {
    let messages: Vec<Message> = messages.into_iter().filter(is_step).collect();
    let count = messages.len();
    messages
        .iter()
        .enumerate()
        .map(|(i, m)| StepObject::new(run, m, StepObject::stored_status(run, m, i + 1 == count)))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(RunPath(thread, run), _): PathId<OpenAi, RunPath>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<List<StepObject>>> {
    let scope = scope(&state, &principal).await?;
    let params = ListQuery::parse(&query, ids::STEP)?;
    let (run, messages) = state
        .spool
        .run_messages(&principal, &scope, thread, run)
        .await?;
    let mut all = steps(&run, messages);
    if params.descending {
        all.reverse();
    }
    let position = |field: &str, id: uuid::Uuid| {
        let shown = ids::render(ids::STEP, id);
        all.iter().position(|s| s.id == shown).ok_or_else(|| {
            OpenAiError::invalid(field, format!("The {field} names nothing in this list."))
        })
    };
    let limit = params.limit as usize;
    let (start, end) = match (params.after, params.before) {
        (Some(id), _) => {
            let start = position("after", id)? + 1;
            (start, (start + limit).min(all.len()))
        }
        (None, Some(id)) => {
            let end = position("before", id)?;
            (end.saturating_sub(limit), end)
        }
        (None, None) => (0, limit.min(all.len())),
    };
    let more = if params.before.is_some() {
        start > 0
    } else {
        end < all.len()
    };
    let data: Vec<StepObject> = all.drain(start..end).collect();
    Ok(axum::Json(List::new(data, more, |s: &StepObject| &s.id)))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(StepPath(thread, run, step), _): PathId<OpenAi, StepPath>,
) -> Result<axum::Json<StepObject>> {
    let scope = scope(&state, &principal).await?;
    let (run, messages) = state
        .spool
        .run_messages(&principal, &scope, thread, run)
        .await?;
    let shown = ids::render(ids::STEP, step.0);
    steps(&run, messages)
        .into_iter()
        .find(|s| s.id == shown)
        .map(axum::Json)
        .ok_or_else(|| CoreError::NotFound("Run step").into())
}
