//! The full-text indexes' queue (migration 0022): triggers queue new and
//! edited messages and threads in `search_pending`, and the writer indexes
//! the queue once per group commit, just before it commits, so that FTS5
//! writes one segment per batch instead of one per write.

use rusqlite::Connection;

/// Indexes every queued row and empties the queue, in the caller's
/// transaction.
const INDEX_PENDING: [&str; 3] = [
    "INSERT INTO message_search (rowid, content)
     SELECT m.rid, m.content FROM search_pending p JOIN messages m ON m.rid = p.rid
     WHERE p.kind = 0",
    "INSERT INTO thread_search (rowid, title)
     SELECT t.rid, coalesce(t.title, '') FROM search_pending p JOIN threads t ON t.rid = p.rid
     WHERE p.kind = 1",
    "DELETE FROM search_pending",
];

/// Indexes what the writes of this transaction queued. Cheap when the queue
/// is empty: three statements on an empty table.
pub(crate) fn index_pending(conn: &Connection) -> rusqlite::Result<()> {
    for sql in INDEX_PENDING {
        conn.prepare_cached(sql)?.execute([])?;
    }
    Ok(())
}
