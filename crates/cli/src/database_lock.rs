//! One process per SQLite database. A SQLite node owns its runs (it fails
//! the ones a dead process left, at start) and keeps per-process state such
//! as rate-limit buckets, so two `spool serve` on one file would fail each
//! other's runs. Whoever opens the database first holds an advisory lock on
//! `<database>.lock` for its whole life; the OS releases it when the process
//! ends, however it ends (SIGKILL included). PostgreSQL is shared by several
//! nodes by design and is not locked.

use crate::config::DatabaseUrl;
use anyhow::Context;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RETRY_EVERY: Duration = Duration::from_millis(100);

/// Held until dropped, or until the process ends.
#[derive(Debug)]
pub struct DatabaseLock {
    _file: File,
}

/// Takes the lock of the SQLite database `url` names for `holder` (e.g.
/// `spool serve`), trying for up to `patience`; `None` for PostgreSQL.
pub fn hold(
    url: &DatabaseUrl,
    holder: &str,
    patience: Duration,
) -> anyhow::Result<Option<DatabaseLock>> {
    let Some(database) = url.sqlite_path().filter(|p| *p != Path::new(":memory:")) else {
        return Ok(None);
    };
    let lock_path = lock_path(database);
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("database_url: cannot create '{}'", dir.display()))?;
    }
    // Not truncated on open: until we hold the lock its text is the holder's.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .with_context(|| format!("database_url: cannot open '{}'", lock_path.display()))?;
    let deadline = Instant::now() + patience;
    let mut waiting = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                if !waiting {
                    waiting = true;
                    tracing::info!(
                        database = %database.display(),
                        "another spool process holds the database; waiting up to {}s for it",
                        patience.as_secs()
                    );
                }
                std::thread::sleep(RETRY_EVERY);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(held(
                    database,
                    &lock_path,
                    &mut file,
                    waiting.then_some(patience),
                ));
            }
            Err(TryLockError::Error(err)) => {
                return Err(err).with_context(|| {
                    format!("database_url: cannot lock '{}'", lock_path.display())
                });
            }
        }
    }
    // Who holds it, for the next process's error message; best effort.
    let _ = file
        .set_len(0)
        .and_then(|()| writeln!(file, "{} {holder}", std::process::id()));
    Ok(Some(DatabaseLock { _file: file }))
}

/// `<database>.lock` beside the database, through symlinks, so that two
/// spellings of one file share one lock.
fn lock_path(database: &Path) -> PathBuf {
    let resolved = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
    let mut name = resolved.into_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

fn held(
    database: &Path,
    lock_path: &Path,
    file: &mut File,
    waited: Option<Duration>,
) -> anyhow::Error {
    let mut text = String::new();
    let holder = match file.read_to_string(&mut text) {
        Ok(_) => match text.trim().split_once(' ') {
            Some((pid, name)) if pid.parse::<u32>().is_ok() => format!(" ({name}, pid {pid})"),
            _ => String::new(),
        },
        Err(_) => String::new(),
    };
    let waited = waited.map_or(String::new(), |w| {
        format!(" after waiting {}s", w.as_secs())
    });
    anyhow::anyhow!(
        "database_url: another spool process{holder} holds the SQLite database '{}' \
         (lock file '{}'){waited}. One process at a time may use a SQLite database: \
         stop the other one first, or use PostgreSQL to run several",
        database.display(),
        lock_path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &Path) -> DatabaseUrl {
        DatabaseUrl::parse(&format!("sqlite://{}", path.display())).unwrap()
    }

    #[test]
    fn a_second_holder_is_refused_with_the_first_named() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("spool.db");
        let first = hold(&url(&db), "spool serve", Duration::ZERO).unwrap();
        assert!(first.is_some());
        let err = hold(&url(&db), "spool migrate", Duration::ZERO).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(&db.display().to_string()), "{message}");
        assert!(
            message.contains("another spool process (spool serve, pid "),
            "{message}"
        );
        assert!(message.contains("spool.db.lock"), "{message}");
        drop(first);
        assert!(
            hold(&url(&db), "spool migrate", Duration::ZERO)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn postgres_and_memory_databases_are_not_locked() {
        let pg = DatabaseUrl::parse("postgres://u@h/d").unwrap();
        assert!(hold(&pg, "spool serve", Duration::ZERO).unwrap().is_none());
        let memory = DatabaseUrl::parse("sqlite://:memory:").unwrap();
        assert!(
            hold(&memory, "spool serve", Duration::ZERO)
                .unwrap()
                .is_none()
        );
    }
}
