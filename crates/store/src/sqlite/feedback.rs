//! Feedback on assistant messages: one row per message, replaced in place.

use super::engine::backend_error;
use super::rows::{Blob, instant, micros, parse_text, uuid_list};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::model::{Feedback, FeedbackType};
use spool_core::{FeedbackId, MessageId, RunId, StoreError, ThreadId, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const FEEDBACK_COLUMNS: &str = "id, workspace_id, thread_id, message_id, human_message_id, run_id, \
     user_id, anon_user_id, feedback_type, issue_type, comment, created_at, updated_at";

fn feedback_row(row: &Row<'_>) -> rusqlite::Result<Feedback> {
    let kind: String = row.get(8)?;
    Ok(Feedback {
        id: FeedbackId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        thread_id: ThreadId(row.get::<_, Blob>(2)?.0),
        message_id: MessageId(row.get::<_, Blob>(3)?.0),
        human_message_id: row.get::<_, Option<Blob>>(4)?.map(|b| MessageId(b.0)),
        run_id: row.get::<_, Option<Blob>>(5)?.map(|b| RunId(b.0)),
        user_id: row.get::<_, Option<i64>>(6)?.map(UserId),
        anon_user_id: row.get(7)?,
        feedback_type: parse_text(8, &kind, FeedbackType::parse)?,
        issue_type: row.get(9)?,
        comment: row.get(10)?,
        created_at: instant(row.get(11)?)?,
        updated_at: instant(row.get(12)?)?,
    })
}

/// Inserts or replaces the message's feedback; `None` when the message is
/// not in the feedback's thread (any more).
pub(super) fn put(conn: &Connection, feedback: Feedback) -> Result<Option<Feedback>> {
    let present = conn
        .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND thread_id = ?2")
        .and_then(|mut s| {
            s.query_row(
                params![Blob(feedback.message_id.0), Blob(feedback.thread_id.0)],
                |_| Ok(()),
            )
            .optional()
        })
        .map_err(backend_error)?;
    if present.is_none() {
        return Ok(None);
    }
    conn.prepare_cached(&format!(
        "INSERT INTO feedback ({FEEDBACK_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (message_id) DO UPDATE SET
             human_message_id = excluded.human_message_id, run_id = excluded.run_id,
             user_id = excluded.user_id, anon_user_id = excluded.anon_user_id,
             feedback_type = excluded.feedback_type, issue_type = excluded.issue_type,
             comment = excluded.comment, updated_at = excluded.updated_at"
    ))
    .and_then(|mut s| {
        s.execute(params![
            Blob(feedback.id.0),
            Blob(feedback.workspace_id.0),
            Blob(feedback.thread_id.0),
            Blob(feedback.message_id.0),
            feedback.human_message_id.map(|m| Blob(m.0)),
            feedback.run_id.map(|r| Blob(r.0)),
            feedback.user_id.map(|u| u.0),
            feedback.anon_user_id,
            feedback.feedback_type.as_str(),
            feedback.issue_type,
            feedback.comment,
            micros(feedback.created_at),
            micros(feedback.updated_at),
        ])
    })
    .map_err(backend_error)?;
    conn.prepare_cached(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback WHERE message_id = ?1"
    ))
    .and_then(|mut s| {
        s.query_row([Blob(feedback.message_id.0)], feedback_row)
            .optional()
    })
    .map_err(backend_error)
}

pub(super) fn for_messages(conn: &Connection, ids: &[MessageId]) -> Result<Vec<Feedback>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = uuid_list(ids.iter().map(|id| id.0));
    conn.prepare_cached(&format!(
        "SELECT {FEEDBACK_COLUMNS} FROM feedback
         WHERE message_id IN (SELECT unhex(value) FROM json_each(?1))"
    ))
    .and_then(|mut s| s.query_map([list], feedback_row)?.collect())
    .map_err(backend_error)
}
