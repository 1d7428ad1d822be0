//! The embedded backend: SQLite in WAL mode, `synchronous=FULL`, one writer
//! thread with group commit and a pool of readers (see [`engine`]).

mod accounts;
mod agents;
mod backup;
mod engine;
mod feedback;
mod files;
mod idempotency;
mod keyset;
mod lookups;
mod memories;
mod messages;
mod metrics;
mod prompts;
mod providers;
mod row_cache;
mod rows;
mod runs;
mod search_index;

pub(crate) use search_index::index_pending;
mod thread_list;
mod threads;
mod webhooks;
mod workspaces;

pub use backup::backup;

use crate::migrations::SQLITE;
use engine::{BatchHooks, Engine, backend_error, open_writer};
use row_cache::RowCache;
use rusqlite::{Connection, OptionalExtension};
use spool_core::StoreError;
use std::path::Path;
use std::sync::Arc;

pub struct SqliteStore {
    engine: Engine,
    /// Users and workspaces for nesting (see `row_cache`).
    rows: Arc<RowCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            }
            let conn = open_writer(&path)?;
            migrate(&conn)?;
            // Rows a writer outside the engine left queued (none should).
            conn.execute_batch("BEGIN IMMEDIATE")
                .and_then(|()| search_index::index_pending(&conn))
                .and_then(|()| conn.execute_batch("COMMIT"))
                .map_err(backend_error)?;
            let rows = Arc::new(RowCache::default());
            let noted = rows.clone();
            conn.update_hook(Some(
                move |_: rusqlite::hooks::Action, _: &str, table: &str, _| noted.row_changed(table),
            ));
            let ended = rows.clone();
            let hooks = BatchHooks {
                before_commit: search_index::index_pending,
                after_batch: Box::new(move || ended.batch_ended()),
            };
            Ok(Self {
                engine: Engine::start(&path, conn, hooks),
                rows,
            })
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }
}

impl SqliteStore {
    /// Runs `f` in the next group commit. Under a request's
    /// `Idempotency-Key` the same transaction marks the key's effect as
    /// committed, so a crash can never separate the two.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let claim = spool_core::idempotency::current();
        self.engine
            .write(move |conn| {
                let value = f(conn)?;
                if let Some(claim) = &claim {
                    idempotency::mark_effect(conn, claim)?;
                }
                Ok(value)
            })
            .await
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS spool_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL
         ) STRICT",
    )
    .map_err(backend_error)?;
    for migration in SQLITE {
        let applied: Option<i64> = conn
            .query_row(
                "SELECT version FROM spool_migrations WHERE version = ?1",
                [migration.version],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend_error)?;
        if applied.is_some() {
            continue;
        }
        let sql = format!(
            "BEGIN IMMEDIATE; {} INSERT INTO spool_migrations (version, name, applied_at) VALUES ({}, '{}', {}); COMMIT;",
            migration.sql,
            migration.version,
            migration.name,
            rows::micros(spool_core::now())
        );
        if let Err(err) = conn.execute_batch(&sql) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(backend_error(err));
        }
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "applied SQLite migration"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FTS5's integrity check with rank 1 compares the index with the
    /// content tables: the triggers and the queue must keep them equal
    /// through inserts, edits and cascading deletes, whether a row was
    /// indexed before it changed (a later batch) or was still queued (the
    /// same batch).
    #[test]
    fn search_indexes_follow_their_rows() {
        for index_between in [true, false] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
            migrate(&conn).unwrap();
            let steps = [
                "INSERT INTO workspaces (id, slug, name, created_at, updated_at) VALUES (x'01', 'w', 'W', 0, 0);
                 INSERT INTO threads (id, workspace_id, title, activity_at, created_at, updated_at)
                     VALUES (x'10', x'01', 'first title', 0, 0, 0), (x'11', x'01', NULL, 0, 0, 0);
                 INSERT INTO messages (id, thread_id, workspace_id, seq, role, content, content_html, created_at, updated_at)
                     VALUES (x'20', x'10', x'01', 1, 'user', 'alpha beta', '', 0, 0),
                            (x'21', x'10', x'01', 2, 'user', 'gamma', '', 0, 0),
                            (x'22', x'11', x'01', 1, 'user', 'delta', '', 0, 0),
                            (x'23', x'11', x'01', 2, 'user', 'zeta', '', 0, 0);",
                "UPDATE messages SET content = 'epsilon' WHERE id = x'21';
                 UPDATE threads SET title = 'second title' WHERE id = x'10';
                 UPDATE threads SET title = 'now named' WHERE id = x'11';",
                "UPDATE messages SET content = 'eta' WHERE id = x'23';
                 DELETE FROM messages WHERE id = x'22';
                 DELETE FROM threads WHERE id = x'10';",
            ];
            for step in steps {
                conn.execute_batch(step).unwrap();
                if index_between {
                    search_index::index_pending(&conn).unwrap();
                }
            }
            search_index::index_pending(&conn).unwrap();
            for table in ["message_search", "thread_search"] {
                conn.execute_batch(&format!(
                    "INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"
                ))
                .unwrap_or_else(|e| panic!("{table} out of step ({index_between}): {e}"));
            }
            let hits = |query: &str| -> i64 {
                conn.query_row(
                    "SELECT count(*) FROM message_search WHERE message_search MATCH ?1",
                    [query],
                    |r| r.get(0),
                )
                .unwrap()
            };
            assert_eq!(hits("alpha OR epsilon OR delta OR zeta"), 0);
            assert_eq!(hits("eta"), 1);
            let titles: i64 = conn
                .query_row(
                    "SELECT count(*) FROM thread_search WHERE thread_search MATCH 'named'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(titles, 1);
        }
    }
}
