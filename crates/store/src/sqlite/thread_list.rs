//! Listing threads: filters, offset pages, keyset cursors and full-text
//! search. The SQL is assembled from fixed fragments; every value the
//! caller gave is a bound parameter.

use super::engine::backend_error;
use super::keyset;
use super::rows::{count, int, micros};
use super::threads::{THREAD_COLUMNS, thread_row};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use spool_core::StoreError;
use spool_core::listing::{Cursor, CursorPage, Listing, Paging, cursor_page};
use spool_core::model::Thread;
use spool_core::paging::{Page, PageRequest};
use spool_core::query::{ThreadQuery, ThreadSort};

type Result<T> = std::result::Result<T, StoreError>;

/// Threads of workspace `?2`/`?4` whose messages or title match `?1`/`?3`,
/// each with its best (lowest) bm25 score.
const SEARCH_HITS: &str = "WITH hits (thread_id, score) AS (
         SELECT m.thread_id, bm25(message_search) FROM message_search
         JOIN messages m ON m.rid = message_search.rowid
         WHERE message_search MATCH ? AND m.workspace_id = ?
         UNION ALL
         SELECT t.id, bm25(thread_search) FROM thread_search
         JOIN threads t ON t.rid = thread_search.rowid
         WHERE thread_search MATCH ? AND t.workspace_id = ?),
     best AS (SELECT thread_id, min(score) AS score FROM hits GROUP BY thread_id) ";

pub(super) fn list(conn: &Connection, query: ThreadQuery) -> Result<Listing<Thread>> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let Some(text) = search else {
        return match query.paging {
            Paging::Offset(page) => offset_page(conn, &query, None, page),
            Paging::Keyset {
                after,
                before,
                limit,
            } => keyset_page(conn, &query, after, before, limit),
        };
    };
    let fts = fts_query(text);
    match (query.paging, fts) {
        (Paging::Offset(page), Some(fts)) => offset_page(conn, &query, Some(fts), page),
        (Paging::Offset(page), None) => Ok(Listing::Page(Page {
            items: Vec::new(),
            total: 0,
            request: page,
        })),
        (
            Paging::Keyset {
                after,
                before,
                limit,
            },
            fts,
        ) => search_keyset_page(conn, &query, fts, after, before, limit),
    }
}

/// A search's cursor: the hit's score (its bits) and the thread's id.
fn score_cursor(score: f64, thread: &Thread) -> Cursor {
    Cursor {
        key: score.to_bits() as i64,
        id: thread.id.0,
    }
}

fn cursor_score(cursor: &Cursor) -> f64 {
    f64::from_bits(cursor.key as u64)
}

/// Search results in cursor mode: best first (lowest bm25), ties by id, each
/// page starting after the last one's (score, id) instead of at an offset;
/// no total, so nothing is counted. The hits are still ranked whole: bm25
/// needs every matching row.
fn search_keyset_page(
    conn: &Connection,
    query: &ThreadQuery,
    fts: Option<String>,
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: u32,
) -> Result<Listing<Thread>> {
    let plan = keyset::plan(false, after, before);
    let Some(fts) = fts else {
        return Ok(Listing::Cursor(cursor_page(
            Vec::<Thread>::new(),
            limit,
            plan.backwards,
            plan.had_cursor,
            |t| score_cursor(0.0, t),
        )));
    };
    let workspace = blob(query.workspace.0);
    let mut args = vec![
        Value::Text(fts.clone()),
        workspace.clone(),
        Value::Text(fts),
        workspace,
    ];
    let mut clause = filters(query, &mut args);
    if let Some((op, cursor)) = plan.bound {
        clause.push_str(&format!(" AND (b.score, t.id) {op} (?, ?)"));
        args.extend([Value::Real(cursor_score(&cursor)), blob(cursor.id)]);
    }
    args.push(Value::Integer(i64::from(limit) + 1));
    let order = plan.order;
    let rows: Vec<(Thread, f64)> = conn
        .prepare_cached(&format!(
            "{SEARCH_HITS}SELECT {THREAD_COLUMNS}, b.score
             FROM best b CROSS JOIN threads t ON t.id = b.thread_id WHERE {clause}
             ORDER BY b.score {order}, t.id {order} LIMIT ?"
        ))
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(args), |row| {
                Ok((thread_row(row)?, row.get(20)?))
            })?
            .collect()
        })
        .map_err(backend_error)?;
    let page = cursor_page(
        rows,
        limit,
        plan.backwards,
        plan.had_cursor,
        |(t, score)| score_cursor(*score, t),
    );
    Ok(Listing::Cursor(CursorPage {
        items: page.items.into_iter().map(|(thread, _)| thread).collect(),
        next: page.next,
        prev: page.prev,
        limit: page.limit,
    }))
}

/// An FTS5 query that means "every word": each whitespace-separated term as
/// an FTS5 string (quotes doubled), so that no input is read as syntax.
/// Terms without a letter or digit are dropped: they hold no token, and an
/// empty string would match nothing. `None` when no term is left.
pub(super) fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .filter(|term| term.chars().any(char::is_alphanumeric))
        .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

fn sort_column(sort: ThreadSort) -> &'static str {
    match sort {
        ThreadSort::LastMessageAt => "t.activity_at",
        ThreadSort::CreatedAt => "t.created_at",
        ThreadSort::UpdatedAt => "t.updated_at",
    }
}

fn sort_key(sort: ThreadSort, thread: &Thread) -> i64 {
    micros(match sort {
        ThreadSort::LastMessageAt => thread.last_message_at.unwrap_or(thread.created_at),
        ThreadSort::CreatedAt => thread.created_at,
        ThreadSort::UpdatedAt => thread.updated_at,
    })
}

fn blob(id: uuid::Uuid) -> Value {
    Value::Blob(id.as_bytes().to_vec())
}

/// The JSON path of one top-level key: `$."key"` with the key escaped as a
/// JSON string, so that dots, quotes and backslashes stay part of the key.
fn metadata_path(key: &str) -> String {
    format!("$.{}", serde_json::Value::from(key))
}

/// The WHERE clause of `query`'s filters, appending its arguments.
fn filters(query: &ThreadQuery, args: &mut Vec<Value>) -> String {
    let mut sql = String::from("t.workspace_id = ?");
    args.push(blob(query.workspace.0));
    if let Some(creator) = query.creator {
        sql.push_str(" AND t.creator_id = ?");
        args.push(Value::Integer(creator.0));
    }
    if let Some(anon) = &query.anon_user_id {
        sql.push_str(" AND t.anon_user_id = ?");
        args.push(Value::Text(anon.clone()));
    }
    if let Some(agent) = query.agent {
        sql.push_str(" AND t.agent_id = ?");
        args.push(blob(agent.0));
    }
    if let Some(pinned) = query.pinned {
        sql.push_str(" AND t.is_pinned = ?");
        args.push(Value::Integer(pinned.into()));
    }
    for (key, value) in &query.metadata {
        // A string compares as itself, anything else as its JSON text.
        sql.push_str(
            " AND (CASE json_type(t.metadata, ?) WHEN 'text' THEN t.metadata ->> ? \
             ELSE t.metadata -> ? END) = ?",
        );
        let path = metadata_path(key);
        args.extend([
            Value::Text(path.clone()),
            Value::Text(path.clone()),
            Value::Text(path),
            Value::Text(value.clone()),
        ]);
    }
    sql
}

fn fetch(conn: &Connection, sql: &str, args: Vec<Value>) -> Result<Vec<Thread>> {
    conn.prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(args), thread_row)?
                .collect()
        })
        .map_err(backend_error)
}

fn offset_page(
    conn: &Connection,
    query: &ThreadQuery,
    search: Option<String>,
    page: PageRequest,
) -> Result<Listing<Thread>> {
    let mut args = Vec::new();
    let (with, from, rank) = match search {
        Some(fts) => {
            let workspace = blob(query.workspace.0);
            args.extend([
                Value::Text(fts.clone()),
                workspace.clone(),
                Value::Text(fts),
                workspace,
            ]);
            (
                SEARCH_HITS,
                // CROSS JOIN keeps this order: from the few hits to their
                // threads by id, not through every thread of the workspace.
                "best b CROSS JOIN threads t ON t.id = b.thread_id",
                "b.score, ",
            )
        }
        None => ("", "threads t", ""),
    };
    let clause = filters(query, &mut args);
    let column = sort_column(query.sort);
    let order = if query.descending { "DESC" } else { "ASC" };

    let tx = conn.unchecked_transaction().map_err(backend_error)?;
    if let Some(total) = stored_total(&tx, query, with.is_empty())? {
        args.extend([
            Value::Integer(page.per_page.into()),
            Value::Integer(int(page.offset())),
        ]);
        let items = fetch(
            &tx,
            &format!(
                "SELECT {THREAD_COLUMNS} FROM {from} WHERE {clause}
                 ORDER BY {column} {order}, t.id {order} LIMIT ? OFFSET ?"
            ),
            args,
        )?;
        return Ok(Listing::Page(Page {
            items,
            total,
            request: page,
        }));
    }
    // The hits are ranked whole anyway: the same statement counts them
    // (`count(*) OVER ()`, before LIMIT), rather than searching twice.
    let count_args = args.clone();
    args.extend([
        Value::Integer(page.per_page.into()),
        Value::Integer(int(page.offset())),
    ]);
    let counted: Vec<(Thread, i64)> = tx
        .prepare_cached(&format!(
            "{with}SELECT {THREAD_COLUMNS}, count(*) OVER () FROM {from} WHERE {clause}
             ORDER BY {rank}{column} {order}, t.id {order} LIMIT ? OFFSET ?"
        ))
        .and_then(|mut s| {
            s.query_map(rusqlite::params_from_iter(args), |row| {
                Ok((thread_row(row)?, row.get(20)?))
            })?
            .collect()
        })
        .map_err(backend_error)?;
    let total = match counted.first() {
        Some((_, total)) => *total,
        None if page.offset() == 0 => 0,
        // Past the last hit: nothing to rank, only to count.
        None => tx
            .prepare_cached(&format!("{with}SELECT count(*) FROM {from} WHERE {clause}"))
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(count_args), |r| r.get(0)))
            .map_err(backend_error)?,
    };
    Ok(Listing::Page(Page {
        items: counted.into_iter().map(|(thread, _)| thread).collect(),
        total: count(total),
        request: page,
    }))
}

/// The workspace's thread count kept by the triggers of migration 0020,
/// when the query lists every thread of the workspace (no filter, no
/// search); `None` when the rows must be counted.
fn stored_total(conn: &Connection, query: &ThreadQuery, no_search: bool) -> Result<Option<u64>> {
    let unfiltered = no_search
        && query.creator.is_none()
        && query.anon_user_id.is_none()
        && query.agent.is_none()
        && query.pinned.is_none()
        && query.metadata.is_empty();
    if !unfiltered {
        return Ok(None);
    }
    let stored: Option<i64> = conn
        .prepare_cached("SELECT threads FROM workspace_thread_counts WHERE workspace_id = ?1")
        .and_then(|mut s| {
            s.query_row([blob(query.workspace.0)], |r| r.get(0))
                .optional()
        })
        .map_err(backend_error)?;
    Ok(Some(count(stored.unwrap_or(0))))
}

fn keyset_page(
    conn: &Connection,
    query: &ThreadQuery,
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: u32,
) -> Result<Listing<Thread>> {
    let plan = keyset::plan(query.descending, after, before);
    let mut args = Vec::new();
    let mut clause = filters(query, &mut args);
    let column = sort_column(query.sort);
    if let Some((op, cursor)) = plan.bound {
        clause.push_str(&format!(" AND ({column}, t.id) {op} (?, ?)"));
        args.extend([Value::Integer(cursor.key), blob(cursor.id)]);
    }
    args.push(Value::Integer(i64::from(limit) + 1));
    let order = plan.order;
    let rows = fetch(
        conn,
        &format!(
            "SELECT {THREAD_COLUMNS} FROM threads t WHERE {clause}
             ORDER BY {column} {order}, t.id {order} LIMIT ?"
        ),
        args,
    )?;
    let sort = query.sort;
    Ok(Listing::Cursor(cursor_page(
        rows,
        limit,
        plan.backwards,
        plan.had_cursor,
        |t| Cursor {
            key: sort_key(sort, t),
            id: t.id.0,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_never_becomes_fts_syntax() {
        assert_eq!(
            fts_query("hello world"),
            Some("\"hello\" AND \"world\"".into())
        );
        assert_eq!(
            fts_query("say \"hi\""),
            Some("\"say\" AND \"\"\"hi\"\"\"".into())
        );
        assert_eq!(
            fts_query("NEAR( a* -b"),
            Some("\"NEAR(\" AND \"a*\" AND \"-b\"".into())
        );
        assert_eq!(fts_query("* - \" ()"), None);
        assert_eq!(
            fts_query("  héllo\t日本 "),
            Some("\"héllo\" AND \"日本\"".into())
        );
    }

    #[test]
    fn metadata_keys_are_quoted_paths() {
        assert_eq!(metadata_path("plan"), "$.\"plan\"");
        assert_eq!(metadata_path("a.b\"c\\"), "$.\"a.b\\\"c\\\\\"");
    }
}
