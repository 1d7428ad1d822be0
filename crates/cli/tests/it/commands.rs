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
