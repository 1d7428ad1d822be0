//! `migrate`, `user create`, `workspace create`, `key create`: what they
//! print, and one clear line when the input is wrong.

use crate::support::{Site, fails, is_api_key, ok};

#[tokio::test]
async fn operator_commands_print_what_they_made() {
    let site = Site::new().await;
    let migrated = ok(site.spool().arg("migrate"));
    assert!(
        migrated.contains("schema") && migrated.contains("current"),
        "{migrated}"
    );
    assert_eq!(
        ok(site.spool().arg("migrate")),
        migrated,
        "migrating twice is harmless"
    );

    let printed = ok(site
        .spool()
        .args([
            "user",
            "create",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
        ])
        .args([
            "--password",
            "analytical-engine",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
        ]));
    let (id, email) = printed
        .split_once(' ')
        .unwrap_or_else(|| panic!("want 'ID EMAIL', got {printed:?}"));
    assert!(id.parse::<i64>().is_ok(), "{printed}");
    assert_eq!(email, "ada@example.com");

    let printed = ok(site
        .spool()
        .env("SPOOL_USER_PASSWORD", "difference-engine")
        .args([
            "user",
            "create",
            "--email",
            "charles@example.com",
            "--name",
            "Charles",
        ]));
    assert!(printed.ends_with(" charles@example.com"), "{printed}");

    let workspace = ok(site.spool().args([
        "workspace",
        "create",
        "--name",
        "Analytical",
        "--owner",
        "ADA@example.com",
    ]));
    assert!(
        uuid::Uuid::parse_str(&workspace).is_ok(),
        "want only a uuid, got {workspace:?}"
    );

    let key = ok(site
        .spool()
        .args(["key", "create", "--workspace", &workspace, "--name", "ci"]));
    assert!(
        is_api_key(&key),
        "want only spk_ + 64 hex digits, got {key:?}"
    );
    let expiring = ok(site
        .spool()
        .args(["key", "create", "--workspace", &workspace, "--name", "tmp"])
        .args(["--expires-at", "2999-01-01T00:00:00Z"]));
    assert!(is_api_key(&expiring) && expiring != key);
}

#[tokio::test]
async fn operator_commands_name_each_invalid_field() {
    let site = Site::new().await;
    let error = fails(site.spool().args([
        "user",
        "create",
        "--email",
        "nope",
        "--password",
        "short",
        "--name",
        " ",
    ]));
    for field in ["email:", "password:", "name:"] {
        assert!(error.contains(field), "{field} missing from {error}");
    }
    assert!(
        !error.contains("short"),
        "the password is not echoed: {error}"
    );

    ok(site.spool().args([
        "user",
        "create",
        "--email",
        "a@example.com",
        "--password",
        "long enough",
        "--name",
        "A",
    ]));
    let error = fails(
        site.spool()
            .args([
                "user",
                "create",
                "--email",
                "A@example.com",
                "--password",
                "long enough",
            ])
            .args(["--name", "B"]),
    );
    assert!(
        error.contains("email: The email has already been taken."),
        "{error}"
    );

    let error = fails(site.spool().args([
        "workspace",
        "create",
        "--name",
        "W",
        "--owner",
        "ghost@example.com",
    ]));
    assert!(
        error.contains("owner:") && error.contains("ghost@example.com"),
        "{error}"
    );
    let error = fails(site.spool().args([
        "workspace",
        "create",
        "--name",
        "",
        "--owner",
        "a@example.com",
    ]));
    assert!(error.contains("name:"), "{error}");

    let error = fails(site.spool().args([
        "key",
        "create",
        "--workspace",
        "nope",
        "--name",
        "k",
        "--expires-at",
        "soon",
    ]));
    assert!(
        error.contains("workspace:") && error.contains("expires_at:"),
        "{error}"
    );
    let absent = uuid::Uuid::new_v4().to_string();
    let error = fails(
        site.spool()
            .args(["key", "create", "--workspace", &absent, "--name", "k"]),
    );
    assert!(error.contains("not found"), "{error}");

    let workspace = ok(site.spool().args([
        "workspace",
        "create",
        "--name",
        "W",
        "--owner",
        "a@example.com",
    ]));
    let error = fails(
        site.spool()
            .args(["key", "create", "--workspace", &workspace, "--name", "k"])
            .args(["--expires-at", "2001-01-01T00:00:00Z"]),
    );
    assert!(error.contains("expires_at:"), "{error}");
}

/// The columns of each line of a listing.
fn rows(listing: &str) -> Vec<Vec<String>> {
    listing
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn operators_list_users_workspaces_and_keys_and_revoke_keys() {
    let site = Site::new().await;
    let ada = ok(site
        .spool()
        .env("SPOOL_USER_PASSWORD", "analytical-engine")
        .args([
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
        ]));
    let grace = ok(site
        .spool()
        .env("SPOOL_USER_PASSWORD", "compiler-compiler")
        .args([
            "user",
            "create",
            "--email",
            "grace@example.com",
            "--name",
            "Grace",
        ]));
    let users = rows(&ok(site.spool().args(["user", "list"])));
    let listed: Vec<(&str, &str, &str)> = users
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    let id = |printed: &str| printed.split_once(' ').unwrap().0.to_owned();
    assert_eq!(
        listed,
        [
            (id(&ada).as_str(), "ada@example.com", "Ada"),
            (id(&grace).as_str(), "grace@example.com", "Grace")
        ]
    );
    assert!(users.iter().all(|r| r.len() == 4), "{users:?}");

    let first = ok(site.spool().args([
        "workspace",
        "create",
        "--name",
        "Engines",
        "--owner",
        "ada@example.com",
    ]));
    let second = ok(site.spool().args([
        "workspace",
        "create",
        "--name",
        "Compilers",
        "--owner",
        "grace@example.com",
    ]));
    let workspaces = rows(&ok(site.spool().args(["workspace", "list"])));
    let uuids: Vec<&str> = workspaces.iter().map(|r| r[0].as_str()).collect();
    assert!(
        uuids.contains(&first.as_str()) && uuids.contains(&second.as_str()),
        "{workspaces:?}"
    );
    let engines = workspaces.iter().find(|r| r[0] == first).unwrap();
    assert_eq!(
        (engines[1].as_str(), engines[2].as_str()),
        ("engines", "Engines")
    );

    let key = ok(site
        .spool()
        .args(["key", "create", "--workspace", &first, "--name", "ci"]));
    ok(site
        .spool()
        .args(["key", "create", "--workspace", &first, "--name", "old"])
        .args(["--expires-at", "2999-01-01T00:00:00Z"]));
    let keys = rows(&ok(site.spool().args([
        "key",
        "list",
        "--workspace",
        &first,
    ])));
    assert_eq!(keys.len(), 2, "{keys:?}");
    let ci = keys
        .iter()
        .find(|r| r[2] == "ci")
        .expect("the ci key")
        .clone();
    assert!(
        key.starts_with(&ci[1]),
        "the prefix shown is the key's: {ci:?}"
    );
    assert_eq!(ci[4], "-", "never used");
    assert_eq!(ci[5], "active");
    assert!(
        ok(site.spool().args(["key", "list", "--workspace", &second])).is_empty(),
        "the other workspace has no keys"
    );

    // Revoked: the key no longer signs anything in, and says so when listed.
    assert_eq!(
        ok(site
            .spool()
            .args(["key", "revoke", "--workspace", &first, &ci[0]])),
        format!("{} revoked", ci[0])
    );
    assert_eq!(
        ok(site
            .spool()
            .args(["key", "revoke", "--workspace", &first, &ci[0]])),
        format!("{} was already revoked", ci[0])
    );
    let keys = rows(&ok(site.spool().args([
        "key",
        "list",
        "--workspace",
        &first,
    ])));
    assert_eq!(keys.iter().find(|r| r[0] == ci[0]).unwrap()[5], "revoked");
    let server = site.serve();
    assert_eq!(
        crate::support::user_status(&server, &key).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    drop(server);

    // Another workspace's key, or nonsense, is one clear line.
    let error = fails(
        site.spool()
            .args(["key", "revoke", "--workspace", &second, &ci[0]]),
    );
    assert!(
        error.contains("key:") && error.contains("has no key"),
        "{error}"
    );
    let error = fails(site.spool().args(["key", "list", "--workspace", "nope"]));
    assert!(error.contains("workspace: 'nope' is not a UUID"), "{error}");
}

#[tokio::test]
async fn a_backup_of_a_live_database_serves_what_was_acknowledged() {
    let site = Site::new().await;
    if std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres") {
        let error = fails(site.spool().args(["backup", "copy.db"]));
        assert!(error.contains("pg_dump"), "{error}");
        return;
    }
    let server = site.serve();
    let token = crate::support::sign_in(
        &server,
        crate::support::ADMIN_EMAIL,
        crate::support::ADMIN_PASSWORD,
    )
    .await;
    let http = crate::support::client();
    let created: serde_json::Value = http
        .post(server.url("/api/v1/threads"))
        .bearer_auth(&token)
        .json(&serde_json::json!({ "name": "kept in the copy" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thread = created["data"]["uuid"].as_str().unwrap().to_owned();

    // While the server runs and holds the database.
    let copy = site.dir.path().join("copy.db");
    let printed = ok(site.spool().args(["backup", copy.to_str().unwrap()]));
    assert!(printed.ends_with(" bytes"), "{printed}");
    let error = fails(site.spool().args(["backup", copy.to_str().unwrap()]));
    assert!(error.contains("already exists"), "{error}");
    drop(server);

    // The copy is a database spool serves as it is.
    let mut command = site.spool();
    command.env("SPOOL_DATABASE_URL", format!("sqlite://{}", copy.display()));
    let restored = crate::support::Server::start(command);
    let token = crate::support::sign_in(
        &restored,
        crate::support::ADMIN_EMAIL,
        crate::support::ADMIN_PASSWORD,
    )
    .await;
    let read: serde_json::Value = http
        .get(restored.url(&format!("/api/v1/threads/{thread}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["data"]["name"], "kept in the copy", "{read}");
}
