//! Feedback on assistant messages: one row per message, replaced in place.

use super::error::{corrupt, db};
use spool_core::model::{Feedback, FeedbackType};
use spool_core::store::StoreResult;
use spool_core::{FeedbackId, MessageId, RunId, ThreadId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use uuid::Uuid;

macro_rules! feedback_columns {
    () => {
        "id, workspace_id, thread_id, message_id, human_message_id, run_id, user_id, \
         anon_user_id, feedback_type, issue_type, comment, created_at, updated_at"
    };
}

fn feedback_row(row: &PgRow) -> sqlx::Result<Feedback> {
    let kind: String = row.try_get("feedback_type")?;
    Ok(Feedback {
        id: FeedbackId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        thread_id: ThreadId(row.try_get("thread_id")?),
        message_id: MessageId(row.try_get("message_id")?),
        human_message_id: row
            .try_get::<Option<Uuid>, _>("human_message_id")?
            .map(MessageId),
        run_id: row.try_get::<Option<Uuid>, _>("run_id")?.map(RunId),
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        anon_user_id: row.try_get("anon_user_id")?,
        feedback_type: FeedbackType::parse(&kind).ok_or_else(|| corrupt("feedback type"))?,
        issue_type: row.try_get("issue_type")?,
        comment: row.try_get("comment")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts or replaces the message's feedback in one statement; `None` when
/// the message is not in the feedback's thread (any more).
pub(super) async fn put_feedback(
    pool: &PgPool,
    feedback: Feedback,
) -> StoreResult<Option<Feedback>> {
    let mut tx = super::idempotency::begin_write(pool).await?;
    let row = sqlx::query(concat!(
        "INSERT INTO feedback (",
        feedback_columns!(),
        ") SELECT $1, $2, $3, m.id, $5, $6, $7, $8, $9, $10, $11, $12, $13
           FROM messages m WHERE m.id = $4 AND m.thread_id = $3
         ON CONFLICT (message_id) DO UPDATE SET
             human_message_id = excluded.human_message_id, run_id = excluded.run_id,
             user_id = excluded.user_id, anon_user_id = excluded.anon_user_id,
             feedback_type = excluded.feedback_type, issue_type = excluded.issue_type,
             comment = excluded.comment, updated_at = excluded.updated_at
         RETURNING ",
        feedback_columns!()
    ))
    .bind(feedback.id.0)
    .bind(feedback.workspace_id.0)
    .bind(feedback.thread_id.0)
    .bind(feedback.message_id.0)
    .bind(feedback.human_message_id.map(|m| m.0))
    .bind(feedback.run_id.map(|r| r.0))
    .bind(feedback.user_id.map(|u| u.0))
    .bind(feedback.anon_user_id)
    .bind(feedback.feedback_type.as_str())
    .bind(feedback.issue_type)
    .bind(feedback.comment)
    .bind(feedback.created_at)
    .bind(feedback.updated_at)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;
    row.as_ref().map(feedback_row).transpose().map_err(db)
}

pub(super) async fn feedback_for_messages(
    pool: &PgPool,
    ids: &[MessageId],
) -> StoreResult<Vec<Feedback>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    let found = sqlx::query(concat!(
        "SELECT ",
        feedback_columns!(),
        " FROM feedback WHERE message_id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(feedback_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}
