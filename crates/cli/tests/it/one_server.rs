//! One process per SQLite database: a second `spool serve` is refused at
//! start, a writing command waits a little and then fails the same way, and
//! the lock goes with the process that held it, SIGKILL included.
//! PostgreSQL is shared by design: there both servers run.

use crate::support::{Site, fails, ok};

fn on_postgres() -> bool {
    std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_server_on_the_database_is_refused() {
    let site = Site::new().await;
    let first = site.serve();
    if on_postgres() {
        let second = site.serve();
        assert!(second.base != first.base);
        return;
    }
    let error = fails(site.spool().args(["serve", "--listen", "127.0.0.1:0"]));
    let database = site.dir.path().join("data/spool.db");
    assert!(
        error.contains(&format!(
            "another spool process (spool serve, pid {}) holds the SQLite database '{}'",
            first.pid(),
            database.display()
        )),
        "{error}"
    );
    assert!(error.contains("spool.db.lock"), "{error}");

    // Still serving, and once it has stopped a new server starts.
    assert!(
        reqwest::get(first.url("/healthz"))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let (status, _, stderr) = first.terminate();
    assert!(status.success(), "{stderr}");
    site.serve();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writing_command_waits_then_fails_while_a_server_runs() {
    let site = Site::new().await;
    let server = site.serve();
    let create_user = || {
        let mut command = site.spool();
        command.args([
            "user",
            "create",
            "--email",
            "late@example.com",
            "--password",
            "long enough",
            "--name",
            "Late",
        ]);
        command
    };
    if on_postgres() {
        ok(&mut create_user());
        return;
    }
    let error = fails(&mut create_user());
    assert!(
        error.contains("another spool process (spool serve, pid ")
            && error.contains("after waiting 5s"),
        "{error}"
    );
    let error = fails(site.spool().arg("migrate"));
    assert!(error.contains("holds the SQLite database"), "{error}");

    server.terminate();
    ok(&mut create_user());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lock_dies_with_a_killed_server() {
    let site = Site::new().await;
    site.serve().kill();
    let server = site.serve();
    assert!(
        reqwest::get(server.url("/healthz"))
            .await
            .unwrap()
            .status()
            .is_success()
    );
}
