//! Listing threads: filters, three sort orders, offset pages, keyset
//! cursors and full-text search. Every value is a bound parameter; only
//! column names and keywords chosen here are spliced into the SQL.

use super::error::db;
use super::rows;
use super::threads::{thread_columns, thread_row};
use chrono::{DateTime, Utc};
use serde_json::Value;
use spool_core::Timestamp;
use spool_core::listing::{Cursor, CursorPage, Listing, Paging, cursor_page};
use spool_core::model::Thread;
use spool_core::paging::{Page, PageRequest};
use spool_core::query::{ThreadQuery, ThreadSort};
use spool_core::store::StoreResult;
use sqlx::postgres::PgRow;
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

type Sql = QueryBuilder<Postgres>;

/// The earliest instant PostgreSQL stores (4714-11-24 BC, UTC), in
/// microseconds since the epoch; a forged cursor beyond it is clamped.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

fn sort_column(sort: ThreadSort) -> &'static str {
    match sort {
        ThreadSort::LastMessageAt => "t.activity_at",
        ThreadSort::CreatedAt => "t.created_at",
        ThreadSort::UpdatedAt => "t.updated_at",
    }
}

fn direction(descending: bool) -> &'static str {
    if descending { "DESC" } else { "ASC" }
}

/// A cursor's key as the instant it was made from. Keys outside what both
/// sides can represent are clamped: they still sort before or after every row.
pub(super) fn cursor_instant(key: i64) -> Timestamp {
    DateTime::from_timestamp_micros(key.max(PG_MIN_MICROS)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `WHERE` with every filter of the query except search.
fn push_filters(sql: &mut Sql, query: &ThreadQuery) {
    sql.push(" WHERE t.workspace_id = ")
        .push_bind(query.workspace.0);
    if let Some(creator) = query.creator {
        sql.push(" AND t.creator_id = ").push_bind(creator.0);
    }
    if let Some(anon) = &query.anon_user_id {
        sql.push(" AND t.anon_user_id = ").push_bind(anon.clone());
    }
    if let Some(agent) = query.agent {
        sql.push(" AND t.agent_id = ").push_bind(agent.0);
    }
    if let Some(pinned) = query.pinned {
        sql.push(" AND t.is_pinned = ").push_bind(pinned);
    }
    for (key, value) in &query.metadata {
        // A string equal to `value`, or — when `value` is JSON text of a
        // non-string — a value equal to that JSON (jsonb equality, so key
        // order and spacing do not matter).
        sql.push(" AND (t.metadata -> ")
            .push_bind(key.clone())
            .push(") ");
        match serde_json::from_str::<Value>(value) {
            Ok(json) if !json.is_string() => {
                sql.push("IN (to_jsonb(")
                    .push_bind(value.clone())
                    .push("::TEXT), ")
                    .push_bind(Json(json))
                    .push("::JSONB)");
            }
            _ => {
                sql.push("= to_jsonb(")
                    .push_bind(value.clone())
                    .push("::TEXT)");
            }
        }
    }
}

fn threads(found: &[PgRow]) -> StoreResult<Vec<Thread>> {
    found
        .iter()
        .map(thread_row)
        .collect::<Result<_, _>>()
        .map_err(db)
}

pub(super) async fn list_threads(
    pool: &PgPool,
    query: ThreadQuery,
) -> StoreResult<Listing<Thread>> {
    let search = query
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(search) = search {
        return match query.paging {
            Paging::Offset(page) => search_threads(pool, &query, search, page)
                .await
                .map(Listing::Page),
            Paging::Keyset {
                after,
                before,
                limit,
            } => search_keyset_page(pool, &query, search, after, before, limit)
                .await
                .map(Listing::Cursor),
        };
    }
    match query.paging {
        Paging::Offset(page) => offset_page(pool, &query, page).await.map(Listing::Page),
        Paging::Keyset {
            after,
            before,
            limit,
        } => keyset_page(pool, &query, after, before, limit)
            .await
            .map(Listing::Cursor),
    }
}

async fn offset_page(
    pool: &PgPool,
    query: &ThreadQuery,
    page: PageRequest,
) -> StoreResult<Page<Thread>> {
    let (limit, offset) = rows::limit_offset(page);
    let unfiltered = query.creator.is_none()
        && query.anon_user_id.is_none()
        && query.agent.is_none()
        && query.pinned.is_none()
        && query.metadata.is_empty();
    // Every thread of the workspace: the count the triggers of migration
    // 0020 keep, instead of counting the rows.
    let mut count = if unfiltered {
        let mut sql = Sql::new(
            "SELECT coalesce(sum(threads), 0)::BIGINT FROM workspace_thread_counts \
             WHERE workspace_id = ",
        );
        sql.push_bind(query.workspace.0);
        sql
    } else {
        let mut sql = Sql::new("SELECT count(*) FROM threads t");
        push_filters(&mut sql, query);
        sql
    };
    let (column, dir) = (sort_column(query.sort), direction(query.descending));
    let mut sql = Sql::new(concat!("SELECT ", thread_columns!(), " FROM threads t"));
    push_filters(&mut sql, query);
    sql.push(format_args!(" ORDER BY {column} {dir}, t.id {dir} LIMIT "))
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    // Neither waits for the other: one round trip's time, not two.
    let (total, found): (i64, _) = tokio::try_join!(
        count.build_query_scalar().fetch_one(pool),
        sql.build().fetch_all(pool),
    )
    .map_err(db)?;
    Ok(Page {
        items: threads(&found)?,
        total: rows::count(total),
        request: page,
    })
}

/// Keyset, not OFFSET: a row comparison on (sort column, id) that the
/// `(workspace_id, column, id)` indexes answer, stable under inserts.
async fn keyset_page(
    pool: &PgPool,
    query: &ThreadQuery,
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: u32,
) -> StoreResult<CursorPage<Thread>> {
    let backwards = before.is_some();
    let cursor = before.or(after);
    // `before` walks the list in reverse from the cursor.
    let fetch_descending = query.descending != backwards;
    let column = sort_column(query.sort);
    let dir = direction(fetch_descending);

    let mut sql = Sql::new(concat!("SELECT ", thread_columns!()));
    sql.push(format_args!(", {column} AS sort_at FROM threads t"));
    push_filters(&mut sql, query);
    if let Some(cursor) = cursor {
        let op = if fetch_descending { "<" } else { ">" };
        sql.push(format_args!(" AND ({column}, t.id) {op} ("))
            .push_bind(cursor_instant(cursor.key))
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    sql.push(format_args!(" ORDER BY {column} {dir}, t.id {dir} LIMIT "))
        .push_bind(i64::from(limit) + 1);
    let found = sql.build().fetch_all(pool).await.map_err(db)?;
    let rows = found
        .iter()
        .map(|row| {
            let at: Timestamp = row.try_get("sort_at")?;
            Ok((thread_row(row)?, at.timestamp_micros()))
        })
        .collect::<sqlx::Result<Vec<_>>>()
        .map_err(db)?;
    let page = cursor_page(rows, limit, backwards, cursor.is_some(), |(thread, key)| {
        Cursor {
            key: *key,
            id: thread.id.0,
        }
    });
    Ok(CursorPage {
        items: page.items.into_iter().map(|(thread, _)| thread).collect(),
        next: page.next,
        prev: page.prev,
        limit: page.limit,
    })
}

/// Threads whose title or any message matches, best match first: the GIN
/// indexes find the matches (ranked by the better of title and messages),
/// and the filters then narrow them.
fn search_sql(head: &str, search: &str, query: &ThreadQuery) -> Sql {
    let mut sql = Sql::new("WITH q AS (SELECT plainto_tsquery('simple', ");
    sql.push_bind(search.to_owned())
        .push(
            ") AS q), \
             hits AS (SELECT m.thread_id AS id, ts_rank(m.search, q.q) AS rank \
                      FROM messages m, q WHERE m.workspace_id = ",
        )
        .push_bind(query.workspace.0)
        .push(
            " AND m.search @@ q.q \
             UNION ALL \
             SELECT t.id, ts_rank(t.search, q.q) FROM threads t, q WHERE t.workspace_id = ",
        )
        .push_bind(query.workspace.0)
        .push(
            " AND t.search @@ q.q), \
             best AS (SELECT id, max(rank) AS rank FROM hits GROUP BY id) ",
        )
        .push(head)
        .push(" FROM best JOIN threads t ON t.id = best.id");
    push_filters(&mut sql, query);
    sql
}

/// Search results in cursor mode: best first (highest rank), ties by id
/// descending, each page after the last one's (rank, id) rather than at an
/// offset; nothing is counted. A cursor's key holds the rank's bits.
async fn search_keyset_page(
    pool: &PgPool,
    query: &ThreadQuery,
    search: &str,
    after: Option<Cursor>,
    before: Option<Cursor>,
    limit: u32,
) -> StoreResult<CursorPage<Thread>> {
    let backwards = before.is_some();
    let cursor = before.or(after);
    // Best first is rank descending; `before` walks it in reverse.
    let fetch_descending = !backwards;
    let dir = direction(fetch_descending);
    let mut sql = search_sql(
        concat!("SELECT ", thread_columns!(), ", best.rank AS rank"),
        search,
        query,
    );
    if let Some(cursor) = cursor {
        let op = if fetch_descending { "<" } else { ">" };
        let rank = f64::from_bits(cursor.key as u64) as f32;
        sql.push(format_args!(" AND (best.rank, t.id) {op} ("))
            .push_bind(rank)
            .push(", ")
            .push_bind(cursor.id)
            .push(")");
    }
    sql.push(format_args!(" ORDER BY best.rank {dir}, t.id {dir} LIMIT "))
        .push_bind(i64::from(limit) + 1);
    let found = sql.build().fetch_all(pool).await.map_err(db)?;
    let rows = found
        .iter()
        .map(|row| Ok((thread_row(row)?, row.try_get::<f32, _>("rank")?)))
        .collect::<sqlx::Result<Vec<_>>>()
        .map_err(db)?;
    let page = cursor_page(
        rows,
        limit,
        backwards,
        cursor.is_some(),
        |(thread, rank)| Cursor {
            key: f64::from(*rank).to_bits() as i64,
            id: thread.id.0,
        },
    );
    Ok(CursorPage {
        items: page.items.into_iter().map(|(thread, _)| thread).collect(),
        next: page.next,
        prev: page.prev,
        limit: page.limit,
    })
}

async fn search_threads(
    pool: &PgPool,
    query: &ThreadQuery,
    search: &str,
    page: PageRequest,
) -> StoreResult<Page<Thread>> {
    let (limit, offset) = rows::limit_offset(page);
    let (column, dir) = (sort_column(query.sort), direction(query.descending));
    // The hits are ranked whole anyway: the same statement counts them
    // (`count(*) OVER ()`, before LIMIT), rather than searching twice.
    let mut sql = search_sql(
        concat!("SELECT ", thread_columns!(), ", count(*) OVER () AS total"),
        search,
        query,
    );
    sql.push(format_args!(
        " ORDER BY best.rank DESC, {column} {dir}, t.id {dir} LIMIT "
    ))
    .push_bind(limit)
    .push(" OFFSET ")
    .push_bind(offset);
    let found = sql.build().fetch_all(pool).await.map_err(db)?;
    let total: i64 = match found.first() {
        Some(row) => row.try_get("total").map_err(db)?,
        None if offset == 0 => 0,
        // Past the last hit: nothing to rank, only to count.
        None => search_sql("SELECT count(*)", search, query)
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(db)?,
    };
    Ok(Page {
        items: threads(&found)?,
        total: rows::count(total),
        request: page,
    })
}
