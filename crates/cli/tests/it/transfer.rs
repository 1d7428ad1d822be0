//! `spool export` / `spool import`: SQLite → JSON Lines → PostgreSQL →
//! JSON Lines gives the same lines; a scoped export keeps to its workspace;
//! an import that meets rows already there changes nothing.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, client, fails, ok, sign_in, spool};
use serde_json::{Value, json};
use std::path::Path;

/// `spool` on the database at `url`, from `dir`.
fn on(dir: &Path, url: &str) -> std::process::Command {
    let mut command = spool(dir);
    command.env("SPOOL_DATABASE_URL", url);
    command
}

async fn call(server: &Server, token: &str, method: &str, path: &str, body: Value) -> Value {
    let request = match method {
        "POST" => client().post(server.url(path)),
        _ => client().put(server.url(path)),
    };
    let response = request.bearer_auth(token).json(&body).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {path}: {status} {body}");
    body
}

/// A SQLite database with some of everything, made through the API.
async fn populated(dir: &Path, url: &str) -> (String, String) {
    let mut command = on(dir, url);
    command
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let server = Server::start(command);
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let agent = call(
        &server,
        &token,
        "POST",
        "/api/v1/agents",
        json!({ "name": "Helper", "instruction": "Be brief.", "metadata": { "role": "guide" } }),
    )
    .await;
    let agent = agent["data"]["uuid"].as_str().unwrap().to_owned();
    let thread = call(
        &server,
        &token,
        "POST",
        "/api/v1/threads",
        json!({
            "name": "Moved", "agent_uuid": agent,
            "metadata": { "zeta": 1, "alpha": { "y": [1, 2.5], "b": true } },
            "expires_at": "2099-01-01T00:00:00Z",
        }),
    )
    .await;
    let thread = thread["data"]["uuid"].as_str().unwrap().to_owned();
    let ran = call(
        &server,
        &token,
        "POST",
        &format!("/api/v1/threads/{thread}/run"),
        json!({ "content": "hello there", "model": "echo", "temperature": 0.7 }),
    )
    .await;
    let reply = ran["data"]["uuid"].as_str().unwrap().to_owned();
    call(
        &server,
        &token,
        "POST",
        &format!("/api/v1/chat/{agent}/threads/{thread}/messages/{reply}/feedback"),
        json!({ "feedback_type": "positive", "comment": "good" }),
    )
    .await;
    let second = call(
        &server,
        &token,
        "POST",
        "/api/v1/workspaces",
        json!({ "name": "Second" }),
    )
    .await;
    let second = second["data"]["uuid"].as_str().unwrap().to_owned();
    call(
        &server,
        &token,
        "PUT",
        &format!("/api/v1/workspaces/{second}"),
        json!({ "thread_retention_days": 30 }),
    )
    .await;
    call(
        &server,
        &token,
        "POST",
        &format!("/api/v1/threads?workspace_uuid={second}"),
        json!({ "name": "Elsewhere" }),
    )
    .await;
    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    (second, thread)
}

fn sorted(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

fn types(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    found.dedup();
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_to_postgres_and_back_keeps_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let sqlite = format!("sqlite://{}", dir.join("data/spool.db").display());
    let (second, first_thread) = populated(dir, &sqlite).await;

    let exported = ok(on(dir, &sqlite).args(["export", "--include-password-hashes"]));
    assert_eq!(
        types(&exported),
        [
            "user",
            "workspace",
            "member",
            "agent",
            "thread",
            "message",
            "feedback",
            "run",
            "run_event"
        ],
        "every kind of row, references first"
    );
    assert!(
        exported.contains("\"password_hash\":\"$argon2id$"),
        "hashes when asked"
    );
    std::fs::write(dir.join("a.jsonl"), format!("{exported}\n")).unwrap();

    let without = ok(on(dir, &sqlite).arg("export"));
    assert!(!without.contains("password_hash"), "no hashes unless asked");
    let scoped = ok(on(dir, &sqlite).args(["export", "--workspace", &second]));
    assert_eq!(
        scoped.matches("\"type\":\"workspace\"").count(),
        1,
        "{scoped}"
    );
    assert!(
        scoped.contains("Elsewhere") && !scoped.contains(&first_thread),
        "{scoped}"
    );
    // A workspace alone imports into an empty database: what it names came along.
    std::fs::write(dir.join("scoped.jsonl"), format!("{scoped}\n")).unwrap();
    let alone = format!("sqlite://{}", dir.join("alone/spool.db").display());
    ok(on(dir, &alone).args(["import", "scoped.jsonl"]));
    let error = fails(on(dir, &sqlite).args(["export", "--workspace", "nope"]));
    assert!(error.contains("workspace: 'nope' is not a UUID"), "{error}");

    // Into PostgreSQL, and out again: the same lines.
    let database = spool_store::test_db::fresh_postgres().await;
    let printed = ok(on(dir, &database.url).args(["import", "a.jsonl"]));
    let rows = exported.lines().count();
    assert_eq!(printed, format!("imported {rows} rows"));
    let again = ok(on(dir, &database.url).args(["export", "--include-password-hashes"]));
    assert_eq!(sorted(&again), sorted(&exported));

    // Importing the same rows again conflicts, and changes nothing.
    let error = fails(on(dir, &database.url).args(["import", "a.jsonl"]));
    assert!(
        error.contains(&format!("{rows} rows are in the database already")),
        "{error}"
    );
    assert!(error.contains("user 1"), "{error}");
    let after = ok(on(dir, &database.url).args(["export", "--include-password-hashes"]));
    assert_eq!(sorted(&after), sorted(&exported));

    // The owner signs in on PostgreSQL with the password set on SQLite.
    let mut command = on(dir, &database.url);
    command.env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL);
    let server = Server::start(command);
    sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    drop(server);

    // And back into a fresh SQLite file, from stdin.
    let back = format!("sqlite://{}", dir.join("back/spool.db").display());
    let mut import = on(dir, &back);
    import
        .arg("import")
        .stdin(std::fs::File::open(dir.join("a.jsonl")).unwrap());
    let output = import.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let round = ok(on(dir, &back).args(["export", "--include-password-hashes"]));
    assert_eq!(sorted(&round), sorted(&exported));
}

#[test]
fn a_bad_line_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let url = format!("sqlite://{}", dir.join("data/spool.db").display());
    ok(on(dir, &url).args([
        "user",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--password",
        "long enough password",
    ]));
    let lines = ok(on(dir, &url).arg("export"));
    let target = format!("sqlite://{}", dir.join("target/spool.db").display());
    let broken = format!("{lines}\n{{\"type\":\"thread\",\"data\":{{\"id\":\"not a uuid\"}}}}\n");
    std::fs::write(dir.join("broken.jsonl"), broken).unwrap();
    let error = fails(on(dir, &target).args(["import", "broken.jsonl"]));
    assert!(error.contains("line 2: thread.id"), "{error}");
    let empty = ok(on(dir, &target).arg("export"));
    assert_eq!(empty, "", "nothing was imported");
}
