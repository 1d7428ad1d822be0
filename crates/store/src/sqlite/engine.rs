//! One writer thread with group commit, and a pool of reader connections.
//!
//! Durable writes cost one fsync each (about 5,900/s on this class of disk);
//! the writer takes every write queued while the previous commit was syncing
//! and commits them together, each inside its own savepoint so that one
//! failing write rolls back alone. A caller is answered only after the fate
//! of the transaction that held its write is known: `Ok` means "on disk", an
//! error means "not written", whatever went wrong in between.
//!
//! A read runs inside one read transaction on a `query_only` connection, so
//! every statement of a read closure sees the same committed state.

use rusqlite::Connection;
use spool_core::StoreError;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Most writes committed in one transaction; bounds a batch's latency.
const MAX_BATCH: usize = 256;
/// Reader connections: at most this many reads run at once, each on a
/// pooled connection. Without the bound, 64 concurrent requests opened
/// connections beyond the pool (re-preparing every statement) and parked
/// dozens of blocking threads: S3 fell from 7,600 to 1,900 req/s.
const MAX_READERS: usize = 16;

/// Counts batches inside each batch's transaction, in the writer's temporary
/// (in-memory) database: after a write ended the transaction under the
/// writer, the counter says whether that transaction committed or rolled back.
const BATCH_COUNTER: &str = "CREATE TEMP TABLE IF NOT EXISTS spool_batch (n INTEGER NOT NULL);
     INSERT INTO spool_batch (n) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM spool_batch);";

/// A statement that reads the database: while it is left open, SQLite keeps
/// the connection's implicit read transaction, and with it the WAL snapshot,
/// even across a `BEGIN … COMMIT` that the read closure runs itself.
const SNAPSHOT: &str = "SELECT count(*) FROM sqlite_schema";

pub(crate) struct Engine {
    path: PathBuf,
    writer: mpsc::Sender<Box<dyn Job>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    reading: Arc<Semaphore>,
}

pub(crate) fn backend_error(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, message) = &err
        && code.code == rusqlite::ErrorCode::ConstraintViolation
        && message.as_deref().is_some_and(|m| m.starts_with("UNIQUE"))
    {
        return StoreError::Unique(message.clone().unwrap_or_default());
    }
    StoreError::Backend(Box::new(err))
}

/// The writer's connection: it also runs the migrations.
pub(crate) fn open_writer(path: &Path) -> Result<Connection, StoreError> {
    // synchronous=FULL: an acknowledged write survives power loss, not only a crash.
    open(
        path,
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA cache_size = -32000;",
    )
}

/// A reader cannot write, and keeps a small page cache: there are up to
/// MAX_READERS of them, and the OS page cache holds the hot pages anyway.
fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    open(
        path,
        "PRAGMA cache_size = -2000;
         PRAGMA query_only = ON;",
    )
}

fn open(path: &Path, pragmas: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;",
    )
    .and_then(|()| conn.execute_batch(pragmas))
    // The query planner's stability guarantee: a plan never depends on the
    // values bound. Without it SQLite marks a statement whose LIMIT or
    // comparison takes a bound value as expiring on the next binding, and
    // every cached statement of a message page was parsed and planned again
    // on every request (sqlite3Reprepare: a third of S4's CPU).
    .and_then(|()| {
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )
        .map(drop)
    })
    .map_err(backend_error)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl Engine {
    /// Starts the writer thread on an already-migrated connection.
    pub(crate) fn start(path: &Path, writer_conn: Connection) -> Self {
        let (tx, rx) = mpsc::channel::<Box<dyn Job>>(4096);
        std::thread::Builder::new()
            .name("spool-sqlite-writer".into())
            .spawn(move || write_loop(&Writer::new(writer_conn), rx))
            .expect("spawning the SQLite writer thread");
        Self {
            path: path.to_owned(),
            writer: tx,
            readers: Arc::new(Mutex::new(Vec::new())),
            reading: Arc::new(Semaphore::new(MAX_READERS)),
        }
    }

    /// Runs `f` inside the next group commit and returns its result once the
    /// commit is on disk.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Write {
            f: Some(f),
            result: None,
            reply,
        });
        self.writer.send(job).await.map_err(|_| writer_stopped())?;
        answer.await.map_err(|_| writer_stopped())?
    }

    /// Runs `f` in one read transaction on a reader connection, off the
    /// async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let permit = self
            .reading
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        // A panicking closure unwinds through here: its connection is closed,
        // not pooled, and that ends its read transaction.
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let idle = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let conn = match idle {
                Some(conn) => conn,
                None => open_reader(&path)?,
            };
            let result = in_snapshot(&conn, f);
            let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() < MAX_READERS && conn.is_autocommit() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| StoreError::Backend(Box::new(e)))?
    }
}

impl Engine {
    /// Runs `f` like [`Engine::read`], but on the calling (async) thread:
    /// for reads of a few rows by key, which take microseconds — less than
    /// the hand-off to a blocking thread and back that `read` costs. Scans
    /// (search, counts, big pages) go through `read`, so that no slow
    /// statement holds up the runtime.
    pub(crate) async fn read_now<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    {
        let _permit = self
            .reading
            .acquire()
            .await
            .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_reader(&self.path)?,
        };
        // A panic in `f` unwinds through here: the connection is dropped,
        // not pooled, and that ends its read transaction.
        let result = in_snapshot(&conn, f);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < MAX_READERS && conn.is_autocommit() {
            pool.push(conn);
        }
        result
    }
}

fn writer_stopped() -> StoreError {
    StoreError::Unavailable("SQLite writer stopped".into())
}

/// Runs `f` with the read transaction held open by [`SNAPSHOT`], and ends it,
/// and any transaction `f` left open, before the connection is pooled again.
fn in_snapshot<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut pin = conn.prepare_cached(SNAPSHOT).map_err(backend_error)?;
    let mut rows = pin.query([]).map_err(backend_error)?;
    rows.next().map_err(backend_error)?;
    let result = f(conn);
    drop(rows);
    if !conn.is_autocommit() {
        // Failing, the connection stays in its transaction and is not pooled.
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// A queued write: run inside a batch's transaction, answered once the fate
/// of that transaction is known.
trait Job: Send {
    /// Runs the write inside its own savepoint. `Err` says why the batch's
    /// transaction can no longer be trusted: it ended under the write, or the
    /// savepoint could not be ended.
    fn run(&mut self, conn: &Connection) -> Result<(), String>;
    /// `batch` is `Ok` when the transaction that held this write committed,
    /// or why it did not, or why the write was never run.
    fn answer(self: Box<Self>, batch: Result<(), &str>);
}

struct Write<T, F> {
    f: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Write<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection) -> Result<(), String> {
        let Some(f) = self.f.take() else {
            return Ok(());
        };
        let (result, intact) = in_savepoint(conn, f);
        self.result = Some(result);
        intact
    }

    fn answer(self: Box<Self>, batch: Result<(), &str>) {
        let outcome = match (self.result, batch) {
            // Rolled back to its savepoint, or with the whole batch.
            (Some(Err(err)), _) => Err(err),
            (Some(Ok(value)), Ok(())) => Ok(value),
            (_, Err(reason)) => Err(StoreError::Unavailable(reason.to_owned())),
            (None, Ok(())) => Err(StoreError::Unavailable("the write was not run".into())),
        };
        let _ = self.reply.send(outcome);
    }
}

/// Runs `f` inside its own savepoint, so that its error or panic rolls back
/// its changes alone. The second value is `Err` when the batch's transaction
/// is in doubt (see [`Job::run`]).
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> (Result<T, StoreError>, Result<(), String>) {
    if let Err(err) = run_cached(conn, "SAVEPOINT spool_job") {
        let cause = format!("opening a write's savepoint: {err}");
        return (Err(backend_error(err)), Err(cause));
    }
    let result = catch_unwind(AssertUnwindSafe(|| f(conn))).unwrap_or_else(|_| {
        Err(StoreError::Unavailable(
            "a write panicked and was rolled back".into(),
        ))
    });
    if conn.is_autocommit() {
        // SQLITE_FULL, IOERR, NOMEM, INTERRUPT… roll the whole transaction
        // back; a write may also have run COMMIT or ROLLBACK itself.
        let cause = match &result {
            Err(err) => err.to_string(),
            Ok(_) => "a write ended the transaction itself".into(),
        };
        return (result, Err(cause));
    }
    let end = if result.is_ok() {
        run_cached(conn, "RELEASE spool_job")
    } else {
        run_cached(conn, "ROLLBACK TO spool_job")
            .and_then(|()| run_cached(conn, "RELEASE spool_job"))
    };
    match end {
        Ok(()) => (result, Ok(())),
        Err(err) => (result, Err(format!("ending a write's savepoint: {err}"))),
    }
}

/// Runs one statement that answers no rows from the connection's statement
/// cache. Every write opens and releases a savepoint, and every batch begins
/// and commits: `execute_batch` parsed each of them anew (31 % of the
/// writer thread's samples under S1, docs/benchmarks.md).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(drop)
}

/// The writer thread's connection.
struct Writer {
    conn: Connection,
}

impl Writer {
    fn new(conn: Connection) -> Self {
        if let Err(err) = conn.execute_batch(BATCH_COUNTER) {
            // Every batch will then fail to begin, saying why.
            tracing::error!(error = %err, "creating the SQLite batch counter failed");
        }
        Self { conn }
    }

    /// Runs `jobs` in one transaction and answers each of them. No job runs
    /// outside that transaction: once it is lost, the rest are refused.
    fn run_batch(&self, jobs: Vec<Box<dyn Job>>) {
        let batch = match self.begin() {
            Ok(batch) => batch,
            Err(err) => {
                tracing::error!(error = %err, "SQLite could not begin a group commit");
                let reason = format!("SQLite could not begin a write transaction: {err}");
                for job in jobs {
                    job.answer(Err(&reason));
                }
                return;
            }
        };
        let mut ran = Vec::with_capacity(jobs.len());
        let mut waiting = jobs.into_iter();
        let mut lost = None;
        for mut job in waiting.by_ref() {
            let intact = job.run(&self.conn);
            ran.push(job);
            if let Err(cause) = intact {
                lost = Some(cause);
                break;
            }
        }
        let Some(cause) = lost else {
            let commit = self.commit();
            let fate = commit.as_ref().copied().map_err(String::as_str);
            for job in ran {
                job.answer(fate);
            }
            return;
        };
        let reason = format!("SQLite lost the write transaction: {cause}");
        let committed = self.recover(batch);
        tracing::error!(cause = %cause, committed, "a write ended SQLite's group commit under it");
        let fate = if committed {
            Ok(())
        } else {
            Err(reason.as_str())
        };
        for job in ran {
            job.answer(fate);
        }
        for job in waiting {
            job.answer(Err(&reason));
        }
    }

    /// Begins the batch's transaction and returns its number.
    fn begin(&self) -> rusqlite::Result<i64> {
        if !self.conn.is_autocommit() {
            // A transaction left over from a failed rollback.
            self.conn.execute_batch("ROLLBACK")?;
        }
        run_cached(&self.conn, "BEGIN IMMEDIATE")?;
        let batch = self
            .conn
            .prepare_cached("UPDATE temp.spool_batch SET n = n + 1 RETURNING n")
            .and_then(|mut s| s.query_row([], |r| r.get(0)));
        if batch.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        batch
    }

    fn commit(&self) -> Result<(), String> {
        let Err(err) = run_cached(&self.conn, "COMMIT") else {
            return Ok(());
        };
        tracing::error!(error = %err, "SQLite group commit failed; its writes were rolled back");
        // A failed COMMIT (a deferred constraint, SQLITE_BUSY) may leave the
        // transaction open.
        if !self.conn.is_autocommit()
            && let Err(err) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::error!(error = %err, "rolling back a failed group commit failed");
        }
        Err(format!("SQLite could not commit the write: {err}"))
    }

    /// After batch number `batch` lost its transaction: rolls back whatever
    /// is still open and says whether that transaction committed. SQLite's
    /// own errors roll it back; only a write running COMMIT commits it.
    fn recover(&self, batch: i64) -> bool {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.conn
            .query_row("SELECT n FROM temp.spool_batch", [], |r| r.get::<_, i64>(0))
            .is_ok_and(|n| n == batch)
    }
}

fn write_loop(writer: &Writer, mut rx: mpsc::Receiver<Box<dyn Job>>) {
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        spool_core::telemetry::metrics()
            .sqlite_batch_size
            .observe(batch.len() as f64);
        writer.run_batch(batch);
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
