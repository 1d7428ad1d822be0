//! `spool backup`: a consistent copy of a live database. `VACUUM INTO`
//! reads the database inside one read transaction (a snapshot, in WAL mode
//! beside a writing server) and writes a compact copy with no WAL of its
//! own. The copy is then checked with `PRAGMA integrity_check`.

use rusqlite::{Connection, OpenFlags};
use spool_core::StoreError;
use std::path::Path;
use std::time::Duration;

/// Copies the database at `url` (`sqlite://PATH` or a path) to `dest`,
/// which must not exist; returns the copy's size in bytes.
pub fn backup(url: &str, dest: &Path) -> Result<u64, StoreError> {
    let unavailable = |e: &dyn std::fmt::Display| StoreError::Unavailable(e.to_string());
    let source = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
    if dest.exists() {
        return Err(StoreError::Unavailable(format!(
            "{} already exists; a backup goes to a new file",
            dest.display()
        )));
    }
    // No CREATE: a mistyped path is an error, not a new empty database.
    let conn = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", source.display())))?;
    conn.busy_timeout(Duration::from_secs(30))
        .map_err(|e| unavailable(&e))?;
    let target = dest
        .to_str()
        .ok_or_else(|| StoreError::Unavailable("the backup path is not UTF-8".into()))?;
    conn.execute("VACUUM INTO ?1", [target])
        .map_err(|e| unavailable(&e))?;
    drop(conn);
    let copy = Connection::open_with_flags(dest, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| unavailable(&e))?;
    let verdict: String = copy
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|e| unavailable(&e))?;
    if verdict != "ok" {
        return Err(StoreError::Unavailable(format!(
            "the copy failed its integrity check: {verdict}"
        )));
    }
    std::fs::metadata(dest)
        .map(|m| m.len())
        .map_err(|e| unavailable(&e))
}
