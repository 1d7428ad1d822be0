//! What only the PostgreSQL backend has to show: migrations shared by nodes
//! that start together, errors that never repeat the URL, and nodes waking
//! each other when they store a run's events or are asked to cancel one.

use spool_core::StoreError;
use spool_store::PostgresStore;
use spool_store::migrations::POSTGRES;
use spool_store::test_db::fresh_postgres;
use sqlx::{Connection, PgConnection};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once() {
    let database = fresh_postgres().await;
    let starts = (0..6).map(|_| {
        let url = database.url.clone();
        tokio::spawn(async move { PostgresStore::connect(&url).await })
    });
    for start in starts.collect::<Vec<_>>() {
        start.await.expect("task").expect("every node starts");
    }
    // And a node starting later finds nothing left to do.
    PostgresStore::connect(&database.url)
        .await
        .expect("restart");

    let mut conn = PgConnection::connect(&database.url).await.unwrap();
    let recorded: Vec<(i64, String)> =
        sqlx::query_as("SELECT version, name FROM spool_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let expected: Vec<(i64, String)> = POSTGRES
        .iter()
        .map(|m| (m.version, m.name.to_owned()))
        .collect();
    assert_eq!(recorded, expected);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_and_the_password_stays_secret() {
    // Port 1 on loopback: nothing listens there, the refusal is immediate.
    let url = "postgres://spool:hunter2-secret@127.0.0.1:1/spool";
    let err = PostgresStore::connect(url)
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
    }

    let err = PostgresStore::connect("postgres://spool:hunter2-secret@127.0.0.1:99999/db")
        .await
        .expect_err("the port is out of range");
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("hunter2"), "the password leaked: {shown}");
    }
}

/// One node's write of events (and a cancel asked for) reaches another
/// node's listener, after the write committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_hear_of_each_others_run_events() {
    use crate::builders::{insert_thread, thread};
    use crate::fixtures::{at, insert_workspace, user};
    use crate::runs::new_run;
    use spool_core::Store;
    use spool_core::model::RunAdmission;
    use spool_core::runs::{RunEventKind, codec};
    use spool_core::store::{NewRunEvent, RunSignal};
    use std::future::poll_fn;
    use std::sync::Arc;

    let database = fresh_postgres().await;
    let writer: Arc<dyn Store> = Arc::new(PostgresStore::connect(&database.url).await.unwrap());
    let listener = PostgresStore::connect(&database.url).await.unwrap();
    let mut signals = listener
        .run_signals()
        .await
        .unwrap()
        .expect("PostgreSQL listens");
    let owner = user(&writer, "signals@example.com").await;
    let workspace = insert_workspace(&writer, "Signals", owner.id).await;
    let t = insert_thread(&writer, thread(workspace.id, Some(owner.id), at(1))).await;
    let RunAdmission::Started { run, .. } = writer
        .create_run(new_run(&t, 2), None, false)
        .await
        .unwrap()
    else {
        panic!("started")
    };
    let delta = RunEventKind::MessageDelta("hi".into());
    let events = (2..=3)
        .map(|seq| NewRunEvent {
            run: run.id,
            seq,
            event: delta.name(),
            data: codec::encode(&delta),
        })
        .collect();
    assert_eq!(writer.append_run_events(events).await.unwrap(), []);
    assert_eq!(
        poll_fn(|cx| signals.as_mut().poll_next(cx)).await,
        Some(RunSignal::Committed {
            run: run.id,
            seq: 3
        })
    );
    assert!(writer.request_run_cancel(run.id).await.unwrap());
    assert_eq!(
        poll_fn(|cx| signals.as_mut().poll_next(cx)).await,
        Some(RunSignal::Cancel(run.id))
    );
}
