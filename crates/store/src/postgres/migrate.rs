//! Applies [`crate::migrations::POSTGRES`] in order, each in its own
//! transaction. Every transaction first takes one advisory lock, so that
//! several nodes starting together apply each migration exactly once: the
//! others wait, then find it recorded.

use super::error::db;
use crate::migrations::Migration;
use spool_core::StoreError;
use sqlx::PgPool;

/// `pg_advisory_xact_lock` key: "spool" in ASCII, shared by every node.
const MIGRATION_LOCK: i64 = 0x73_70_6f_6f_6c;

pub(super) async fn run(pool: &PgPool, migrations: &[Migration]) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    lock(&mut tx).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS spool_migrations (
             version    BIGINT PRIMARY KEY,
             name       TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL
         )",
    )
    .execute(&mut *tx)
    .await
    .map_err(db)?;
    tx.commit().await.map_err(db)?;

    for migration in migrations {
        apply(pool, migration).await?;
    }
    Ok(())
}

async fn lock(tx: &mut sqlx::PgTransaction<'_>) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn apply(pool: &PgPool, migration: &Migration) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(db)?;
    lock(&mut tx).await?;
    let applied: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM spool_migrations WHERE version = $1)")
            .bind(migration.version)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
    if applied {
        return Ok(());
    }
    // Simple-query protocol: a migration file holds several statements.
    sqlx::raw_sql(migration.sql)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    sqlx::query("INSERT INTO spool_migrations (version, name, applied_at) VALUES ($1, $2, now())")
        .bind(migration.version)
        .bind(migration.name)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    tracing::info!(
        version = migration.version,
        name = migration.name,
        "applied PostgreSQL migration"
    );
    Ok(())
}
