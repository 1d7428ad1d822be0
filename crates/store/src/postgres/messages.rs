//! Messages: appended under the thread's row lock, which hands out `seq`
//! and moves the thread's counters in the same transaction.

use super::error::{corrupt, db};
use super::rows;
use super::threads::{prefixed_thread_columns, prefixed_thread_row};
use spool_core::listing::{Listing, Paging, keyset_page};
use spool_core::model::{Message, MessageRole, RunInfo, Thread};
use spool_core::paging::Page;
use spool_core::store::StoreResult;
use spool_core::validate::Metadata;
use spool_core::{MessageId, RunId, ThreadId, UserId, WorkspaceId};
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Row};
use uuid::Uuid;

macro_rules! message_columns {
    () => {
        "m.id, m.thread_id, m.workspace_id, m.seq, m.role, m.content, m.content_html, m.metadata, \
         m.tool_calls, m.user_id, m.run_id, m.model, m.temperature, m.input_tokens, \
         m.output_tokens, m.finish_reason, m.created_at, m.updated_at, m.attachments, \
         m.token_count"
    };
}

fn tokens(n: Option<i64>) -> Option<u64> {
    n.map(rows::count)
}

pub(super) fn signed(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

fn message_row(row: &PgRow) -> sqlx::Result<Message> {
    let role: String = row.try_get("role")?;
    let Json(metadata) = row.try_get("metadata")?;
    let Json(tool_calls) = row.try_get("tool_calls")?;
    let Json(attachments) = row.try_get("attachments")?;
    Ok(Message {
        id: MessageId(row.try_get("id")?),
        thread_id: ThreadId(row.try_get("thread_id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        seq: row.try_get("seq")?,
        role: MessageRole::parse(&role).ok_or_else(|| corrupt("message role"))?,
        content: row.try_get("content")?,
        content_html: row.try_get("content_html")?,
        metadata: Metadata::from_stored(metadata),
        run: RunInfo {
            run_id: row.try_get::<Option<Uuid>, _>("run_id")?.map(RunId),
            model: row.try_get("model")?,
            temperature: row.try_get("temperature")?,
            input_tokens: tokens(row.try_get("input_tokens")?),
            output_tokens: tokens(row.try_get("output_tokens")?),
            finish_reason: row.try_get("finish_reason")?,
        },
        tool_calls,
        user_id: row.try_get::<Option<i64>, _>("user_id")?.map(UserId),
        attachments,
        token_count: tokens(row.try_get("token_count")?),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn append_message(
    pool: &PgPool,
    message: Message,
) -> StoreResult<Option<Message>> {
    Ok(append_returning_thread(pool, message)
        .await?
        .map(|(message, _)| message))
}

/// The append, and the thread as it left it, in one statement.
pub(super) async fn append_message_with_thread(
    pool: &PgPool,
    message: Message,
) -> StoreResult<Option<(Message, Thread)>> {
    append_returning_thread(pool, message).await
}

/// The append inside the caller's transaction (`None`: no such thread in
/// the message's workspace, nothing written). Runs store their messages
/// through here, so the counters move exactly as for `append_message`.
pub(super) async fn append(
    conn: &mut PgConnection,
    message: Message,
) -> StoreResult<Option<Message>> {
    Ok(append_returning_thread(conn, message)
        .await?
        .map(|(message, _)| message))
}

/// [`append`], answering the thread's row as the append left it too: one
/// statement, so one round trip, whose CTEs claim the thread's next seq
/// (the UPDATE takes the thread's row lock until commit: concurrent appends
/// queue there and get consecutive seqs), insert the message and its file
/// references, and mark the request's idempotency claim when the thread was
/// there. Outside a transaction it commits by itself.
async fn append_returning_thread<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    message: Message,
) -> StoreResult<Option<(Message, Thread)>> {
    let files: Vec<Uuid> = message.attachments.iter().map(|a| a.file.id.0).collect();
    let append = sqlx::query(concat!(
        "WITH t AS (UPDATE threads AS t SET last_seq = last_seq + 1, message_count = message_count + 1, \
             last_message_at = $6, activity_at = $6, updated_at = $6, \
             input_tokens = input_tokens + $7, output_tokens = output_tokens + $8, \
             last_model_used = COALESCE($9, last_model_used) \
             WHERE workspace_id = $5 AND id = $4 RETURNING t.*), \
         m AS (INSERT INTO messages AS m (id, thread_id, workspace_id, agent_id, seq, role, content, \
             content_html, metadata, tool_calls, user_id, run_id, model, temperature, \
             input_tokens, output_tokens, finish_reason, created_at, updated_at, attachments, \
             token_count) \
             SELECT $10, t.id, t.workspace_id, t.agent_id, t.last_seq, $11, $12, $13, $14, $15, \
                 $16, $17, $9, $18, $19, $20, $21, $6, $22, $23, $24 FROM t \
             RETURNING m.*), \
         f AS (INSERT INTO message_files (message_id, file_id) \
             SELECT m.id, file.id FROM m, unnest($25::uuid[]) AS file (id)), ",
        super::idempotency::mark_claim!(" AND EXISTS (SELECT 1 FROM t)"),
        " SELECT ",
        message_columns!(),
        ", ",
        prefixed_thread_columns!(),
        " FROM m, t"
    ));
    let row = super::idempotency::bind_claim(append)
        .bind(message.thread_id.0)
        .bind(message.workspace_id.0)
        .bind(message.created_at)
        .bind(signed(message.run.input_tokens).unwrap_or(0))
        .bind(signed(message.run.output_tokens).unwrap_or(0))
        .bind(&message.run.model)
        .bind(message.id.0)
        .bind(message.role.as_str())
        .bind(&message.content)
        .bind(&message.content_html)
        .bind(Json(message.metadata.as_map()))
        .bind(Json(&message.tool_calls))
        .bind(message.user_id.map(|id| id.0))
        .bind(message.run.run_id.map(|id| id.0))
        .bind(message.run.temperature)
        .bind(signed(message.run.input_tokens))
        .bind(signed(message.run.output_tokens))
        .bind(&message.run.finish_reason)
        .bind(message.updated_at)
        .bind(Json(&message.attachments))
        .bind(signed(message.token_count))
        .bind(files)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let thread = prefixed_thread_row(&row).map_err(db)?;
    let message = message_row(&row).map_err(db)?;
    Ok(Some((message, thread)))
}

pub(super) async fn message(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: MessageId,
) -> StoreResult<Option<Message>> {
    let row = sqlx::query(concat!(
        "SELECT ",
        message_columns!(),
        " FROM messages m WHERE m.workspace_id = $1 AND m.id = $2"
    ))
    .bind(workspace.0)
    .bind(id.0)
    .fetch_optional(pool)
    .await
    .map_err(db)?;
    row.as_ref().map(message_row).transpose().map_err(db)
}

/// The search vector is a generated column: it follows `content` by itself.
pub(super) async fn update_message(pool: &PgPool, message: &Message) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE messages SET content = $3, content_html = $4, metadata = $5, tool_calls = $6, \
             run_id = $7, model = $8, temperature = $9, input_tokens = $10, output_tokens = $11, \
             finish_reason = $12, updated_at = $13, token_count = $14 \
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(message.workspace_id.0)
    .bind(message.id.0)
    .bind(&message.content)
    .bind(&message.content_html)
    .bind(Json(message.metadata.as_map()))
    .bind(Json(&message.tool_calls))
    .bind(message.run.run_id.map(|id| id.0))
    .bind(&message.run.model)
    .bind(message.run.temperature)
    .bind(signed(message.run.input_tokens))
    .bind(signed(message.run.output_tokens))
    .bind(&message.run.finish_reason)
    .bind(message.updated_at)
    .bind(signed(message.token_count))
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn delete_message(
    pool: &PgPool,
    workspace: WorkspaceId,
    id: MessageId,
) -> StoreResult<bool> {
    // One statement, so one transaction: the row and the count go together.
    let done = sqlx::query(
        "WITH gone AS (DELETE FROM messages WHERE workspace_id = $1 AND id = $2 RETURNING thread_id) \
         UPDATE threads t SET message_count = t.message_count - 1 FROM gone WHERE t.id = gone.thread_id",
    )
    .bind(workspace.0)
    .bind(id.0)
    .execute(pool)
    .await
    .map_err(db)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn list_messages(
    pool: &PgPool,
    thread: ThreadId,
    paging: Paging,
    descending: bool,
    max_bytes: Option<u64>,
) -> StoreResult<Listing<Message>> {
    match paging {
        Paging::Offset(page) => {
            let (limit, offset) = rows::limit_offset(page);
            let total: i64 =
                sqlx::query_scalar("SELECT count(*) FROM messages WHERE thread_id = $1")
                    .bind(thread.0)
                    .fetch_one(pool)
                    .await
                    .map_err(db)?;
            let window = Window {
                descending,
                from: if descending { i64::MAX } else { i64::MIN },
                fetch: limit,
                offset,
                keep: limit,
                max_bytes,
            };
            let (items, _) = bounded(pool, thread, &window).await?;
            Ok(Listing::Page(Page {
                items,
                total: rows::count(total),
                request: page,
            }))
        }
        Paging::Keyset {
            after,
            before,
            limit,
        } => {
            let backwards = before.is_some();
            let cursor = before.or(after);
            // Past the cursor in fetch order; no cursor: from the start.
            let fetch_descending = descending != backwards;
            let from = match (cursor, fetch_descending) {
                (Some(cursor), _) => cursor.key,
                (None, true) => i64::MAX,
                (None, false) => i64::MIN,
            };
            let window = Window {
                descending: fetch_descending,
                from,
                fetch: i64::from(limit) + 1,
                offset: 0,
                keep: i64::from(limit),
                max_bytes,
            };
            let (found, fetched) = bounded(pool, thread, &window).await?;
            let more = fetched > found.len();
            Ok(Listing::Cursor(keyset_page(
                found,
                more,
                limit,
                backwards,
                cursor.is_some(),
                Message::cursor,
            )))
        }
    }
}

/// Which rows of a thread a page reads: past `from` in fetch order,
/// skipping `offset`, at most `fetch` looked at and `keep` kept.
struct Window {
    descending: bool,
    from: i64,
    fetch: i64,
    offset: i64,
    keep: i64,
    max_bytes: Option<u64>,
}

/// One statement: the sizes of the window's rows first (`octet_length` and
/// `pg_column_size` read TOAST headers, not the values), then only the rows
/// within the byte bound (the first always), with how many the window held.
fn bounded_sql(descending: bool) -> String {
    let (op, order) = if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    format!(
        "WITH head AS ( \
             SELECT m.seq, octet_length(m.content)::bigint + octet_length(m.content_html) \
                 + pg_column_size(m.metadata) + pg_column_size(m.tool_calls) \
                 + pg_column_size(m.attachments) AS bytes \
             FROM messages m WHERE m.thread_id = $1 AND m.seq {op} $2 \
             ORDER BY m.seq {order} LIMIT $3 OFFSET $4 \
         ), sized AS ( \
             SELECT seq, row_number() OVER w AS n, sum(bytes) OVER w AS running FROM head \
             WINDOW w AS (ORDER BY seq {order} ROWS UNBOUNDED PRECEDING) \
         ) \
         SELECT {}, (SELECT count(*) FROM head) AS fetched \
         FROM sized s JOIN messages m ON m.thread_id = $1 AND m.seq = s.seq \
         WHERE s.n <= $5 AND (s.n = 1 OR s.running <= $6) ORDER BY s.n",
        message_columns!()
    )
}

async fn bounded(
    pool: &PgPool,
    thread: ThreadId,
    window: &Window,
) -> StoreResult<(Vec<Message>, usize)> {
    static SQL: std::sync::LazyLock<[String; 2]> =
        std::sync::LazyLock::new(|| [bounded_sql(false), bounded_sql(true)]);
    // Built from two fixed fragments, no client text.
    let found = sqlx::query(AssertSqlSafe(SQL[usize::from(window.descending)].as_str()))
        .bind(thread.0)
        .bind(window.from)
        .bind(window.fetch)
        .bind(window.offset)
        .bind(window.keep)
        .bind(
            window
                .max_bytes
                .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX)),
        )
        .fetch_all(pool)
        .await
        .map_err(db)?;
    let fetched = match found.first() {
        Some(row) => row.try_get::<i64, _>("fetched").map_err(db)?,
        None => 0,
    };
    Ok((messages(&found)?, usize::try_from(fetched).unwrap_or(0)))
}

fn messages(found: &[PgRow]) -> StoreResult<Vec<Message>> {
    found
        .iter()
        .map(message_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}
