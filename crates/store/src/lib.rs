//! spool's storage backends behind [`spool_core::Store`]: SQLite, embedded and
//! the default, and PostgreSQL for several nodes. [`open`] picks one by URL.

pub mod blobs;
mod metered;
pub mod migrations;
pub mod postgres;
pub mod sqlite;
pub mod test_db;
pub mod transfer;

use spool_core::{Store, StoreError};
use std::path::Path;
use std::sync::Arc;

pub use metered::Metered;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens and migrates the store a URL names: `postgres://…` or
/// `postgresql://…` for PostgreSQL, `sqlite://PATH` or a bare path for SQLite.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(Metered::new(PostgresStore::connect(url).await?)))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(Metered::new(
            SqliteStore::open(Path::new(path)).await?,
        )))
    }
}
