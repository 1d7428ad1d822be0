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
mod rows;
mod runs;
mod thread_list;
mod threads;
mod webhooks;
mod workspaces;

pub use backup::backup;

use crate::migrations::SQLITE;
use engine::{Engine, backend_error, open_writer};
use rusqlite::{Connection, OptionalExtension};
use spool_core::StoreError;
use std::path::Path;

pub struct SqliteStore {
    engine: Engine,
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
            Ok(Self {
                engine: Engine::start(&path, conn),
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
    /// content tables: the triggers must keep them equal through inserts,
    /// edits and cascading deletes.
    #[test]
    fn search_indexes_follow_their_rows() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        migrate(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO workspaces (id, slug, name, created_at, updated_at) VALUES (x'01', 'w', 'W', 0, 0);
             INSERT INTO threads (id, workspace_id, title, activity_at, created_at, updated_at)
                 VALUES (x'10', x'01', 'first title', 0, 0, 0), (x'11', x'01', NULL, 0, 0, 0);
             INSERT INTO messages (id, thread_id, workspace_id, seq, role, content, content_html, created_at, updated_at)
                 VALUES (x'20', x'10', x'01', 1, 'user', 'alpha beta', '', 0, 0),
                        (x'21', x'10', x'01', 2, 'user', 'gamma', '', 0, 0),
                        (x'22', x'11', x'01', 1, 'user', 'delta', '', 0, 0);
             UPDATE messages SET content = 'epsilon' WHERE id = x'21';
             UPDATE threads SET title = 'second title' WHERE id = x'10';
             UPDATE threads SET title = 'now named' WHERE id = x'11';
             DELETE FROM messages WHERE id = x'22';
             DELETE FROM threads WHERE id = x'10';",
        )
        .unwrap();
        for table in ["message_search", "thread_search"] {
            conn.execute_batch(&format!(
                "INSERT INTO {table} ({table}, rank) VALUES ('integrity-check', 1)"
            ))
            .unwrap_or_else(|e| panic!("{table} out of step: {e}"));
        }
        let hits: i64 = conn
            .query_row(
                "SELECT count(*) FROM message_search WHERE message_search MATCH 'alpha OR epsilon OR delta'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(hits, 0);
    }
}
