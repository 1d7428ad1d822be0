//! Passwords, session tokens and API keys never reach the logs, even at
//! debug level.

use crate::support::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, api_keys_in, client, sign_in, user_status,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_logs() {
    let site = Site::new().await;
    let user_password = "cli-made-password-31";
    let wrong_password = "not-the-password-93";

    let mut secrets: Vec<String> = vec![
        ADMIN_PASSWORD.into(),
        user_password.into(),
        wrong_password.into(),
    ];
    let serve = || {
        let mut command = site.spool();
        command
            .env("SPOOL_LOG", "debug")
            .env("SPOOL_LOG_FORMAT", "json")
            .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
        Server::start(command)
    };

    // First start creates the owner from the environment.
    let (status, stdout, stderr) = serve().terminate();
    assert!(status.success(), "{stderr}");
    let mut logs = format!("{stdout}{stderr}");

    // The operator commands, at debug level too.
    let mut cli = |args: &[&str]| {
        let mut command = site.spool();
        command
            .env("SPOOL_LOG", "debug")
            .env("SPOOL_USER_PASSWORD", user_password)
            .args(args);
        let output = command.output().expect("run spool");
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        logs.push_str(&String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    cli(&[
        "user",
        "create",
        "--email",
        "cli@example.com",
        "--name",
        "Cli",
    ]);
    let workspace = cli(&[
        "workspace",
        "create",
        "--name",
        "Cli",
        "--owner",
        "cli@example.com",
    ]);
    let cli_key = cli(&["key", "create", "--workspace", &workspace, "--name", "cli"]);
    secrets.push(cli_key.clone());

    let server = serve();
    let refused = client()
        .post(server.url("/api/v1/auth/sign-in"))
        .json(&json!({ "email": ADMIN_EMAIL, "password": wrong_password }))
        .send()
        .await
        .expect("sign-in request");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    secrets.push(token.clone());
    let created: Value = client()
        .post(server.url("/api/v1/api-keys"))
        .bearer_auth(&token)
        .json(&json!({ "name": "logged?" }))
        .send()
        .await
        .expect("POST /api/v1/api-keys")
        .json()
        .await
        .expect("created key body");
    let key = api_keys_in(&created)
        .pop()
        .unwrap_or_else(|| panic!("no key in {created}"));
    secrets.push(key.clone());
    assert_eq!(user_status(&server, &key).await, StatusCode::OK);
    assert_eq!(user_status(&server, &cli_key).await, StatusCode::OK);
    let listed = client()
        .get(server.url("/api/v1/api-keys"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert!(listed.status().is_client_error(), "a key may not list keys");
    let logout = client()
        .post(server.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(logout.status().is_success());
    assert_eq!(user_status(&server, &token).await, StatusCode::UNAUTHORIZED);

    let (status, stdout, stderr) = server.terminate();
    assert!(status.success(), "{stderr}");
    for line in stderr.lines() {
        serde_json::from_str::<Value>(line)
            .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
    }
    logs.push_str(&stdout);
    logs.push_str(&stderr);
    // Only a session token's or key's last chars could hide in a prefix display.
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret reached the output: {secret}"
        );
        let tail = &secret[secret.len().saturating_sub(16)..];
        assert!(
            !logs.contains(tail),
            "part of a secret reached the output: {tail}"
        );
    }
}
