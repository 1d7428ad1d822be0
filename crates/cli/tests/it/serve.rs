//! `spool serve`: health, shutdown, and the first start that happens once.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, ok, sign_in, user_status};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread")]
async fn answers_healthz_and_exits_zero_on_sigterm() {
    let site = Site::new().await;
    let server = site.serve();
    let response = reqwest::get(server.url("/healthz"))
        .await
        .expect("GET /healthz");
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _, stderr) = server.terminate();
    assert!(status.success(), "exit {status} after SIGTERM: {stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_bootstraps_once_with_a_generated_password() {
    let site = Site::new().await;
    let (status, stdout, stderr) = Server::start(site.spool()).terminate();
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("Sign in at http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("email:    admin@localhost"), "{stdout}");
    let password = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no password printed: {stdout}"))
        .trim()
        .to_owned();
    assert_eq!(password.len(), 20);
    assert!(
        !stderr.contains(&password),
        "the generated password reached the logs: {stderr}"
    );

    let (status, stdout, _) = Server::start(site.spool()).terminate();
    assert!(status.success());
    assert!(
        !stdout.contains("Sign in") && !stdout.contains("First start"),
        "bootstrapped twice: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_generated_owner_can_sign_in() {
    let site = Site::new().await;
    let server = Server::start(site.spool());
    let stdout = server.stdout();
    let password = stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("password: "))
        .expect("password")
        .trim();
    let token = sign_in(&server, "admin@localhost", password).await;
    assert_eq!(user_status(&server, &token).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_may_come_from_the_environment() {
    let site = Site::new().await;
    let server = site.serve();
    let stdout = server.stdout();
    assert!(
        stdout.contains(ADMIN_EMAIL) && stdout.contains("SPOOL_ADMIN_PASSWORD"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(ADMIN_PASSWORD),
        "a password the operator chose is never printed: {stdout}"
    );
    let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(user_status(&server, &token).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_from_the_cli_authenticates() {
    let site = Site::new().await;
    ok(site.spool().args([
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "long enough",
        "--name",
        "Ops",
    ]));
    let workspace = ok(site.spool().args([
        "workspace",
        "create",
        "--name",
        "Ops",
        "--owner",
        "ops@example.com",
    ]));
    let key = ok(site.spool().args([
        "key",
        "create",
        "--workspace",
        &workspace,
        "--name",
        "deploy",
    ]));

    let server = Server::start(site.spool());
    assert!(
        !server.stdout().contains("Sign in"),
        "users exist: no bootstrap"
    );
    assert_eq!(user_status(&server, &key).await, StatusCode::OK);
    assert_eq!(
        user_status(&server, &format!("{key}0")).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_body_limit_setting_reaches_the_server() {
    let site = Site::new().await;
    let mut command = site.spool();
    command.env("SPOOL_BODY_LIMIT_BYTES", "1024");
    let server = Server::start(command);
    let padding = "x".repeat(4096);
    let response = reqwest::Client::new()
        .post(server.url("/api/v1/auth/sign-in"))
        .json(&serde_json::json!({ "email": "a@example.com", "password": padding }))
        .send()
        .await
        .expect("sign-in request");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// The served app sees each client's address: failed sign-ins from one
/// address are throttled across emails, not only per email.
#[tokio::test(flavor = "multi_thread")]
async fn failed_sign_ins_are_throttled_per_client_address() {
    let site = Site::new().await;
    let mut command = site.spool();
    command
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("SPOOL_SIGN_IN_FAILURES_PER_ADDRESS", "3");
    let server = Server::start(command);
    let client = reqwest::Client::new();
    let attempt = |email: String| {
        client
            .post(server.url("/api/v1/auth/sign-in"))
            .json(&serde_json::json!({ "email": email, "password": "wrong" }))
            .send()
    };
    // Each email is new, so only the address's budget can run out.
    for n in 0..3 {
        let response = attempt(format!("guess{n}@example.com")).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    let response = attempt("guess3@example.com".into()).await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_answer_the_configured_token_only() {
    let site = Site::new().await;
    let server = site.serve();
    let response = reqwest::get(server.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "off by default");
    drop(server);
    let token = "scrape-token-0123456789";
    let mut command = site.spool();
    command
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("SPOOL_METRICS_TOKEN", token);
    let server = Server::start(command);
    let client = reqwest::Client::new();
    reqwest::get(server.url("/healthz")).await.unwrap();
    let scrape = client.get(server.url("/metrics")).bearer_auth(token);
    let text = scrape.send().await.unwrap().text().await.unwrap();
    assert!(
        text.contains("# TYPE spool_http_requests counter"),
        "{text}"
    );
    assert!(
        text.contains("spool_store_operation_duration_seconds"),
        "{text}"
    );
    let refused = client
        .get(server.url("/metrics"))
        .bearer_auth("scrape-token-wrong-0000");
    assert_eq!(
        refused.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
