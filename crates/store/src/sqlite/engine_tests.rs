//! The engine on a real database file: each test opens its own.

use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tempfile::TempDir;

type Answer<T> = oneshot::Receiver<Result<T, StoreError>>;

const SCHEMA: &str = "CREATE TABLE items (name TEXT PRIMARY KEY);
     CREATE TABLE blobs (data BLOB);
     CREATE TABLE parents (id INTEGER PRIMARY KEY);
     CREATE TABLE children (
         parent INTEGER NOT NULL REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED
     );";

fn database() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spool.db");
    open_writer(&path).unwrap().execute_batch(SCHEMA).unwrap();
    (dir, path)
}

fn writer(path: &Path) -> Writer {
    Writer::new(open_writer(path).unwrap(), BatchHooks::none())
}

fn job<T, F>(f: F) -> (Box<dyn Job>, Answer<T>)
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    let (reply, answer) = oneshot::channel();
    let job = Write {
        f: Some(f),
        result: None,
        reply,
    };
    (Box::new(job), answer)
}

fn insert(name: &'static str) -> (Box<dyn Job>, Answer<()>) {
    job(move |conn| {
        conn.execute("INSERT INTO items (name) VALUES (?1)", [name])
            .map(drop)
            .map_err(backend_error)
    })
}

fn answered<T>(mut answer: Answer<T>) -> Result<T, StoreError> {
    answer.try_recv().expect("the batch answered every job")
}

/// What is on disk, read on a connection of its own.
fn names(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut select = conn
        .prepare("SELECT name FROM items ORDER BY name")
        .unwrap();
    select
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM items", [], |r| r.get(0))
        .unwrap()
}

fn unavailable<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn a_failing_write_rolls_back_alone() {
    let (_dir, path) = database();
    let (a, a_answer) = insert("a");
    let (b, b_answer) = job(|conn| {
        conn.execute("INSERT INTO items (name) VALUES ('b')", [])
            .map_err(backend_error)?;
        Err::<(), _>(StoreError::Unavailable("refused".into()))
    });
    let (c, c_answer) = insert("c");
    let (duplicate, duplicate_answer) = insert("a");

    writer(&path).run_batch(vec![a, b, c, duplicate]);

    assert!(answered(a_answer).is_ok());
    assert_eq!(unavailable(answered(b_answer)), "refused");
    assert!(answered(c_answer).is_ok());
    assert!(matches!(
        answered(duplicate_answer),
        Err(StoreError::Unique(_))
    ));
    assert_eq!(names(&path), ["a", "c"]);
}

#[test]
fn the_step_before_commit_sees_every_write_and_its_failure_fails_the_batch() {
    let (_dir, path) = database();
    // Copies the batch's items into blobs, like the search indexes' queue.
    fn copy(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("INSERT INTO blobs (data) SELECT name FROM items", [])
            .map(drop)
    }
    let (a, a_answer) = insert("a");
    let (b, b_answer) = insert("b");
    let hooks = |before_commit: fn(&Connection) -> rusqlite::Result<()>| BatchHooks {
        before_commit,
        after_batch: Box::new(|| {}),
    };
    Writer::new(open_writer(&path).unwrap(), hooks(copy)).run_batch(vec![a, b]);
    assert!(answered(a_answer).is_ok() && answered(b_answer).is_ok());
    let conn = Connection::open(&path).unwrap();
    let copied: i64 = conn
        .query_row("SELECT count(*) FROM blobs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(copied, 2);

    fn refuse(conn: &Connection) -> rusqlite::Result<()> {
        conn.execute("INSERT INTO nowhere (x) VALUES (1)", [])
            .map(drop)
    }
    let (c, c_answer) = insert("c");
    Writer::new(open_writer(&path).unwrap(), hooks(refuse)).run_batch(vec![c]);
    assert!(unavailable(answered(c_answer)).contains("before its commit"));
    assert_eq!(names(&path), ["a", "b"]);
}

#[test]
fn a_panicking_write_rolls_back_alone() {
    let (_dir, path) = database();
    let (a, a_answer) = insert("a");
    let (b, b_answer) = job(|conn| -> Result<(), StoreError> {
        conn.execute("INSERT INTO items (name) VALUES ('b')", [])
            .unwrap();
        panic!("a bug in a write");
    });
    let (c, c_answer) = insert("c");

    writer(&path).run_batch(vec![a, b, c]);

    assert!(answered(a_answer).is_ok());
    assert!(unavailable(answered(b_answer)).contains("panicked"));
    assert!(answered(c_answer).is_ok());
    assert_eq!(names(&path), ["a", "c"]);
}

/// SQLITE_FULL on a statement without a statement journal rolls the whole
/// transaction back, as IOERR, NOMEM and INTERRUPT may: the write before it
/// is gone, and the write after it must not run in autocommit.
#[test]
fn a_full_disk_fails_the_whole_batch() {
    let (_dir, path) = database();
    let writer = writer(&path);
    let (a, a_answer) = insert("a");
    let (full, full_answer) = job(|conn| {
        let pages: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        conn.query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .unwrap();
        // No index, so no statement journal to roll back to.
        conn.execute("INSERT INTO blobs (data) VALUES (zeroblob(100000))", [])
            .map(drop)
            .map_err(backend_error)
    });
    let ran = Arc::new(AtomicBool::new(false));
    let (c, c_answer) = {
        let ran = ran.clone();
        job(move |conn| {
            ran.store(true, Ordering::SeqCst);
            conn.execute("INSERT INTO items (name) VALUES ('c')", [])
                .map(drop)
                .map_err(backend_error)
        })
    };

    writer.run_batch(vec![a, full, c]);

    let full_error = answered(full_answer).unwrap_err().to_string();
    assert!(full_error.contains("full"), "{full_error}");
    let a_error = unavailable(answered(a_answer));
    assert!(a_error.contains(&full_error), "{a_error}");
    assert!(unavailable(answered(c_answer)).contains(&full_error));
    assert!(!ran.load(Ordering::SeqCst), "a write ran after the loss");
    assert!(names(&path).is_empty());

    writer
        .conn
        .query_row("PRAGMA max_page_count = 1073741823", [], |_| Ok(()))
        .unwrap();
    let (d, d_answer) = insert("d");
    writer.run_batch(vec![d]);
    assert!(answered(d_answer).is_ok());
    assert_eq!(names(&path), ["d"]);
}

#[test]
fn a_write_that_rolls_back_the_transaction_fails_the_batch() {
    let (_dir, path) = database();
    let writer = writer(&path);
    let (a, a_answer) = insert("a");
    let (rollback, rollback_answer) = job(|conn| {
        conn.execute_batch("INSERT INTO items (name) VALUES ('b'); ROLLBACK")
            .map_err(backend_error)
    });
    let (c, c_answer) = insert("c");

    writer.run_batch(vec![a, rollback, c]);

    assert!(unavailable(answered(a_answer)).contains("ended the transaction"));
    assert!(answered(rollback_answer).is_err());
    assert!(answered(c_answer).is_err());
    assert!(names(&path).is_empty());

    let (d, d_answer) = insert("d");
    writer.run_batch(vec![d]);
    assert!(answered(d_answer).is_ok());
    assert_eq!(names(&path), ["d"]);
}

/// The writes before a COMMIT run by a write are on disk: their callers
/// must hear so, or they would retry and write twice.
#[test]
fn a_write_that_commits_the_transaction_answers_the_truth() {
    let (_dir, path) = database();
    let (a, a_answer) = insert("a");
    let (commit, commit_answer) = job(|conn| {
        conn.execute_batch("INSERT INTO items (name) VALUES ('b'); COMMIT")
            .map_err(backend_error)
    });
    let (c, c_answer) = insert("c");

    writer(&path).run_batch(vec![a, commit, c]);

    assert!(answered(a_answer).is_ok());
    assert!(answered(commit_answer).is_ok());
    assert!(answered(c_answer).is_err());
    assert_eq!(names(&path), ["a", "b"]);
}

#[test]
fn a_failed_commit_fails_every_write_and_the_next_batch_commits() {
    let (_dir, path) = database();
    let writer = writer(&path);
    let (a, a_answer) = insert("a");
    // The foreign key is checked at COMMIT.
    let (orphan, orphan_answer) = job(|conn| {
        conn.execute("INSERT INTO children (parent) VALUES (7)", [])
            .map(drop)
            .map_err(backend_error)
    });

    writer.run_batch(vec![a, orphan]);

    assert!(unavailable(answered(a_answer)).contains("FOREIGN KEY"));
    assert!(unavailable(answered(orphan_answer)).contains("FOREIGN KEY"));
    assert!(names(&path).is_empty());
    assert!(writer.conn.is_autocommit());

    let (b, b_answer) = insert("b");
    writer.run_batch(vec![b]);
    assert!(answered(b_answer).is_ok());
    assert_eq!(names(&path), ["b"]);
}

#[test]
fn a_failed_begin_answers_its_cause_and_the_next_batch_commits() {
    let (_dir, path) = database();
    let writer = writer(&path);
    writer.conn.busy_timeout(Duration::ZERO).unwrap();
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let (a, a_answer) = {
        let ran = ran.clone();
        job(move |_| {
            ran.store(true, Ordering::SeqCst);
            Ok(())
        })
    };
    let (b, b_answer) = insert("b");

    writer.run_batch(vec![a, b]);

    assert!(unavailable(answered(a_answer)).contains("database is locked"));
    assert!(unavailable(answered(b_answer)).contains("database is locked"));
    assert!(!ran.load(Ordering::SeqCst));

    holder.execute_batch("ROLLBACK").unwrap();
    let (c, c_answer) = insert("c");
    writer.run_batch(vec![c]);
    assert!(answered(c_answer).is_ok());
    assert_eq!(names(&path), ["c"]);
}

/// The writer thread outlives a failed batch and a panicking write.
#[tokio::test]
async fn the_writer_survives_failed_batches() {
    let (_dir, path) = database();
    let conn = open_writer(&path).unwrap();
    conn.busy_timeout(Duration::ZERO).unwrap();
    let engine = Engine::start(&path, conn, BatchHooks::none());
    let holder = Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    let locked = engine.write(|_| Ok(())).await;
    assert!(unavailable(locked).contains("database is locked"));
    holder.execute_batch("ROLLBACK").unwrap();
    let panicked = engine.write(|_| -> Result<(), StoreError> { panic!("a bug") });
    assert!(unavailable(panicked.await).contains("panicked"));
    engine
        .write(|conn| {
            conn.execute("INSERT INTO items (name) VALUES ('a')", [])
                .map_err(backend_error)
        })
        .await
        .unwrap();
    assert_eq!(names(&path), ["a"]);
}

/// A read closure sees one state across its statements, even when a write
/// commits between them, and even across a transaction of its own.
#[tokio::test]
async fn a_read_is_one_snapshot() {
    let (_dir, path) = database();
    let engine = Engine::start(&path, open_writer(&path).unwrap(), BatchHooks::none());
    let (first_done, first_read) = std::sync::mpsc::channel();
    let (committed, write_committed) = std::sync::mpsc::channel();

    let read = engine.read(move |conn| {
        let before = count(conn);
        first_done.send(()).unwrap();
        write_committed.recv().unwrap();
        let after = count(conn);
        // As `agents::list` does: a read transaction of its own.
        let tx = conn.unchecked_transaction().map_err(backend_error)?;
        let inside = count(&tx);
        tx.commit().map_err(backend_error)?;
        let last = count(conn);
        Ok([before, after, inside, last])
    });
    let write = async {
        tokio::task::spawn_blocking(move || first_read.recv().unwrap())
            .await
            .unwrap();
        engine
            .write(|conn| {
                conn.execute("INSERT INTO items (name) VALUES ('a')", [])
                    .map_err(backend_error)
            })
            .await
            .unwrap();
        committed.send(()).unwrap();
    };
    let (seen, ()) = tokio::join!(read, write);

    assert_eq!(seen.unwrap(), [0; 4]);
    assert_eq!(engine.read(|conn| Ok(count(conn))).await.unwrap(), 1);
}

#[tokio::test]
async fn a_read_cannot_write_and_keeps_a_small_cache() {
    let (_dir, path) = database();
    let engine = Engine::start(&path, open_writer(&path).unwrap(), BatchHooks::none());

    let written = engine
        .read(|conn| {
            conn.execute("INSERT INTO items (name) VALUES ('a')", [])
                .map_err(backend_error)
        })
        .await;
    assert!(written.unwrap_err().to_string().contains("readonly"));
    assert!(names(&path).is_empty());

    let cache: i64 = engine
        .read(|conn| {
            conn.query_row("PRAGMA cache_size", [], |r| r.get(0))
                .map_err(backend_error)
        })
        .await
        .unwrap();
    assert_eq!(cache, -2000);
}
