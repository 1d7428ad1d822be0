//! Messages: appended at the end of their thread with the next `seq` and the
//! thread's counters moved in the same write; search follows by trigger.

use super::engine::backend_error;
use super::keyset;
use super::rows::{self, Blob, count, instant, int, micros, parse_text};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::listing::{Listing, Paging, keyset_page};
use spool_core::model::{Attachment, Message, MessageRole, RunInfo};
use spool_core::paging::Page;
use spool_core::{MessageId, RunId, StoreError, ThreadId, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const MESSAGE_COLUMNS: &str = "m.id, m.thread_id, m.workspace_id, m.seq, m.role, m.content, \
     m.content_html, m.metadata, m.tool_calls, m.user_id, m.run_id, m.model, m.temperature, \
     m.input_tokens, m.output_tokens, m.finish_reason, m.created_at, m.updated_at, \
     m.attachments, m.token_count";

fn message_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let role: String = row.get(4)?;
    let tool_calls: String = row.get(8)?;
    let tool_calls = match serde_json::from_str(&tool_calls) {
        Ok(serde_json::Value::Array(items)) => items,
        _ => {
            return Err(rusqlite::Error::InvalidColumnType(
                8,
                tool_calls,
                Type::Text,
            ));
        }
    };
    Ok(Message {
        id: MessageId(row.get::<_, Blob>(0)?.0),
        thread_id: ThreadId(row.get::<_, Blob>(1)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(2)?.0),
        seq: row.get(3)?,
        role: parse_text(4, &role, MessageRole::parse)?,
        content: row.get(5)?,
        content_html: row.get(6)?,
        metadata: rows::metadata(row.get(7)?)?,
        tool_calls,
        user_id: row.get::<_, Option<i64>>(9)?.map(UserId),
        run: RunInfo {
            run_id: row.get::<_, Option<Blob>>(10)?.map(|b| RunId(b.0)),
            model: row.get(11)?,
            temperature: row.get(12)?,
            input_tokens: row.get::<_, Option<i64>>(13)?.map(count),
            output_tokens: row.get::<_, Option<i64>>(14)?.map(count),
            finish_reason: row.get(15)?,
        },
        attachments: attachments_of(18, row.get(18)?)?,
        token_count: row.get::<_, Option<i64>>(19)?.map(count),
        created_at: instant(row.get(16)?)?,
        updated_at: instant(row.get(17)?)?,
    })
}

fn attachments_of(column: usize, text: String) -> rusqlite::Result<Vec<Attachment>> {
    serde_json::from_str(&text)
        .map_err(|_| rusqlite::Error::InvalidColumnType(column, text, Type::Text))
}

/// The message's attachments as stored on it, and a reference from it to
/// each file for the sweep.
fn attach(conn: &Connection, message: &Message) -> Result<()> {
    for attachment in &message.attachments {
        conn.prepare_cached("INSERT INTO message_files (message_id, file_id) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![Blob(message.id.0), Blob(attachment.file.id.0)]))
            .map_err(backend_error)?;
    }
    Ok(())
}

fn tool_calls(message: &Message) -> String {
    serde_json::Value::from(message.tool_calls.clone()).to_string()
}

pub(super) fn append(conn: &Connection, mut message: Message) -> Result<Option<Message>> {
    // The writer runs one write at a time, so reading `last_seq` back from
    // the same UPDATE hands out each seq exactly once.
    let at = micros(message.created_at);
    let claimed: Option<(i64, Option<Blob>)> = conn
        .prepare_cached(
            "UPDATE threads SET message_count = message_count + 1, last_seq = last_seq + 1,
                 last_message_at = ?3, activity_at = ?3, updated_at = ?3,
                 input_tokens = input_tokens + ?4, output_tokens = output_tokens + ?5,
                 last_model_used = coalesce(?6, last_model_used)
             WHERE id = ?1 AND workspace_id = ?2
             RETURNING last_seq, agent_id",
        )
        .and_then(|mut s| {
            s.query_row(
                params![
                    Blob(message.thread_id.0),
                    Blob(message.workspace_id.0),
                    at,
                    int(message.run.input_tokens.unwrap_or(0)),
                    int(message.run.output_tokens.unwrap_or(0)),
                    message.run.model
                ],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
        .map_err(backend_error)?;
    let Some((seq, agent)) = claimed else {
        return Ok(None);
    };
    message.seq = seq;
    conn.prepare_cached(
        "INSERT INTO messages (id, thread_id, workspace_id, agent_id, seq, role, content,
             content_html, metadata, tool_calls, user_id, run_id, model, temperature,
             input_tokens, output_tokens, finish_reason, created_at, updated_at, attachments,
             token_count)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(message.id.0),
            Blob(message.thread_id.0),
            Blob(message.workspace_id.0),
            agent,
            seq,
            message.role.as_str(),
            message.content,
            message.content_html,
            message.metadata.to_json_string(),
            tool_calls(&message),
            message.user_id.map(|id| id.0),
            message.run.run_id.map(|id| Blob(id.0)),
            message.run.model,
            message.run.temperature,
            message.run.input_tokens.map(int),
            message.run.output_tokens.map(int),
            message.run.finish_reason,
            at,
            micros(message.updated_at),
            serde_json::to_string(&message.attachments)
                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
            message.token_count.map(int)
        ])
    })
    .map_err(backend_error)?;
    attach(conn, &message)?;
    Ok(Some(message))
}

pub(super) fn get(
    conn: &Connection,
    workspace: WorkspaceId,
    id: MessageId,
) -> Result<Option<Message>> {
    conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?1 AND m.workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![Blob(id.0), Blob(workspace.0)], message_row)
            .optional()
    })
    .map_err(backend_error)
}

pub(super) fn update(conn: &Connection, message: &Message) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE messages SET content = ?3, content_html = ?4, metadata = ?5, tool_calls = ?6,
             run_id = ?7, model = ?8, temperature = ?9, input_tokens = ?10, output_tokens = ?11,
             finish_reason = ?12, updated_at = ?13, token_count = ?14
         WHERE id = ?1 AND workspace_id = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(message.id.0),
            Blob(message.workspace_id.0),
            message.content,
            message.content_html,
            message.metadata.to_json_string(),
            tool_calls(message),
            message.run.run_id.map(|id| Blob(id.0)),
            message.run.model,
            message.run.temperature,
            message.run.input_tokens.map(int),
            message.run.output_tokens.map(int),
            message.run.finish_reason,
            micros(message.updated_at),
            message.token_count.map(int)
        ])
    })
    .map(|n| n > 0)
    .map_err(backend_error)
}

/// `last_message_at` and `last_seq` stay: a seq is never handed out twice.
pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: MessageId) -> Result<bool> {
    let thread: Option<Blob> = conn
        .prepare_cached(
            "DELETE FROM messages WHERE id = ?1 AND workspace_id = ?2 RETURNING thread_id",
        )
        .and_then(|mut s| {
            s.query_row(params![Blob(id.0), Blob(workspace.0)], |r| r.get(0))
                .optional()
        })
        .map_err(backend_error)?;
    let Some(thread) = thread else {
        return Ok(false);
    };
    conn.prepare_cached("UPDATE threads SET message_count = message_count - 1 WHERE id = ?1")
        .and_then(|mut s| s.execute([thread]))
        .map_err(backend_error)?;
    Ok(true)
}

pub(super) fn list(
    conn: &Connection,
    thread: ThreadId,
    paging: Paging,
    descending: bool,
    max_bytes: Option<u64>,
) -> Result<Listing<Message>> {
    let thread = Blob(thread.0);
    match paging {
        Paging::Offset(page) => {
            let order = if descending { "DESC" } else { "ASC" };
            let tx = conn.unchecked_transaction().map_err(backend_error)?;
            let total: i64 = tx
                .prepare_cached("SELECT count(*) FROM messages WHERE thread_id = ?1")
                .and_then(|mut s| s.query_row([&thread], |r| r.get(0)))
                .map_err(backend_error)?;
            let from = if descending { i64::MAX } else { i64::MIN };
            let op = if descending { "<" } else { ">" };
            let window = Window {
                op,
                order,
                from,
                fetch: page.per_page,
                offset: page.offset(),
                keep: page.per_page,
                max_bytes,
            };
            let (items, _) = bounded(&tx, &thread, &window)?;
            Ok(Listing::Page(Page {
                items,
                total: count(total),
                request: page,
            }))
        }
        Paging::Keyset {
            after,
            before,
            limit,
        } => {
            let plan = keyset::plan(descending, after, before);
            let order = plan.order;
            // seq is unique in its thread: the cursor's key alone places it.
            let (op, from) = match plan.bound {
                Some((op, cursor)) => (op, cursor.key),
                None if order == "DESC" => ("<", i64::MAX),
                None => (">", i64::MIN),
            };
            let window = Window {
                op,
                order,
                from,
                fetch: limit + 1,
                offset: 0,
                keep: limit,
                max_bytes,
            };
            let (rows, fetched) = bounded(conn, &thread, &window)?;
            let more = fetched > rows.len();
            Ok(Listing::Cursor(keyset_page(
                rows,
                more,
                limit,
                plan.backwards,
                plan.had_cursor,
                Message::cursor,
            )))
        }
    }
}

/// Which rows of a thread a page reads: past `from` in `order`, skipping
/// `offset`, at most `fetch` looked at and `keep` kept.
struct Window {
    op: &'static str,
    order: &'static str,
    from: i64,
    fetch: u32,
    offset: u64,
    keep: u32,
    max_bytes: Option<u64>,
}

/// The rows of `window` up to the byte bound (the first always), and how
/// many rows the window held. Sizes come from `octet_length`, which SQLite
/// answers from the record header: a row past the bound is never read.
fn bounded(conn: &Connection, thread: &Blob, window: &Window) -> Result<(Vec<Message>, usize)> {
    let Window { op, order, .. } = window;
    let max_bytes = window.max_bytes.map_or(i64::MAX, int);
    let mut fetched = 0;
    let rows = conn
        .prepare_cached(&format!(
            "WITH head AS (
                 SELECT m.seq, octet_length(m.content) + octet_length(m.content_html)
                     + octet_length(m.metadata) + octet_length(m.tool_calls)
                     + octet_length(m.attachments) AS bytes
                 FROM messages m WHERE m.thread_id = ?1 AND m.seq {op} ?2
                 ORDER BY m.seq {order} LIMIT ?3 OFFSET ?4
             ), sized AS (
                 SELECT seq, row_number() OVER w AS n, sum(bytes) OVER w AS running FROM head
                 WINDOW w AS (ORDER BY seq {order} ROWS UNBOUNDED PRECEDING)
             )
             SELECT {MESSAGE_COLUMNS}, (SELECT count(*) FROM head)
             FROM sized s CROSS JOIN messages m
             WHERE m.thread_id = ?1 AND m.seq = s.seq AND s.n <= ?5 AND (s.n = 1 OR s.running <= ?6)
             ORDER BY s.n"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![
                    thread,
                    window.from,
                    window.fetch,
                    int(window.offset),
                    window.keep,
                    max_bytes
                ],
                |row| {
                    fetched = row.get::<_, i64>(20)?;
                    message_row(row)
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend_error)?;
    Ok((rows, usize::try_from(fetched).unwrap_or(0)))
}
