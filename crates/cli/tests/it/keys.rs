//! The keys sealing workspace providers' credentials: `spool keys generate`
//! makes one, a provider added under one key opens only with it, `spool
//! keys rotate` re-seals under the first key of the ring, and neither the
//! credentials nor the keys reach the logs. On SQLite without configured
//! keys, a key file is made in the data directory.

use crate::support::{ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, client, fails, ok, sign_in};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PROVIDER_KEY: &str = "sk-provider-credential-5566778899";

fn serve(site: &Site, keys: Option<&str>) -> Server {
    let mut command = site.spool();
    command
        .env("SPOOL_LOG", "debug")
        .env("SPOOL_ALLOWED_PROVIDER_HOSTS", "127.0.0.1")
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
    if let Some(keys) = keys {
        command.env("SPOOL_ENCRYPTION_KEYS", keys);
    }
    Server::start(command)
}

async fn send(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let token = sign_in(server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client()
        .request(method, server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn provider() -> Value {
    json!({"name": "Ours", "type": "openai", "base_url": "http://127.0.0.1:9/v1",
           "authentication_config": {"type": "api_key", "api_key": PROVIDER_KEY},
           "models": [{"name": "ours", "context_window": 8000}]})
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_rotate_reseals_credentials_under_the_new_key() {
    let site = Site::new().await;
    let old = ok(site.spool().args(["keys", "generate", "--id", "k1"]));
    let new = ok(site.spool().args(["keys", "generate", "--id", "k2"]));
    assert!(
        old.starts_with("k1:") && new.starts_with("k2:"),
        "{old} {new}"
    );
    let mut logs = String::new();

    let server = serve(&site, Some(&old));
    let (status, made) = send(
        &server,
        reqwest::Method::POST,
        "/api/v1/providers",
        provider(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let path = format!(
        "/api/v1/providers/{}",
        made["data"]["uuid"].as_str().unwrap()
    );
    let (_, stdout, stderr) = server.terminate();
    logs.push_str(&format!("{stdout}{stderr}"));

    // Under the new key alone the credentials do not open.
    let server = serve(&site, Some(&new));
    let (status, body) = send(
        &server,
        reqwest::Method::PUT,
        &path,
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, stdout, stderr) = server.terminate();
    logs.push_str(&format!("{stdout}{stderr}"));
    let refused = fails(
        site.spool()
            .env("SPOOL_ENCRYPTION_KEYS", &new)
            .args(["keys", "rotate"]),
    );
    assert!(refused.contains("k1"), "{refused}");

    // Rotated with both, the new key alone opens them.
    let both = format!("{new},{old}");
    let rotated = ok(site
        .spool()
        .env("SPOOL_ENCRYPTION_KEYS", &both)
        .args(["keys", "rotate"]));
    assert_eq!(rotated, "resealed\t1");
    let again = ok(site
        .spool()
        .env("SPOOL_ENCRYPTION_KEYS", &both)
        .args(["keys", "rotate"]));
    assert_eq!(again, "resealed\t0");
    let server = serve(&site, Some(&new));
    let (status, body) = send(
        &server,
        reqwest::Method::PUT,
        &path,
        json!({"name": "Renamed"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["authentication_config"]["hint"], "…8899");
    let (_, stdout, stderr) = server.terminate();
    logs.push_str(&format!("{stdout}{stderr}"));

    for secret in [PROVIDER_KEY, &old[3..], &new[3..]] {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    let bad = fails(
        site.spool()
            .env("SPOOL_ENCRYPTION_KEYS", "k1:too-short")
            .args(["keys", "rotate"]),
    );
    assert!(
        bad.contains("encryption_keys") && !bad.contains("too-short"),
        "{bad}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_configured_keys_sqlite_makes_a_key_file_and_postgres_refuses_credentials() {
    let site = Site::new().await;
    let server = serve(&site, None);
    let (status, body) = send(
        &server,
        reqwest::Method::POST,
        "/api/v1/providers",
        provider(),
    )
    .await;
    let key_file = site.dir.path().join("data/encryption-keys");
    if std::env::var("SPOOL_TEST_BACKEND").as_deref() == Ok("postgres") {
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["errors"]["authentication_config"].is_array(), "{body}");
        assert!(!key_file.exists());
        // Without credentials a provider needs no key.
        let mut open = provider();
        open["authentication_config"] = json!({"type": "none"});
        let (status, body) = send(&server, reqwest::Method::POST, "/api/v1/providers", open).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    } else {
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let text = std::fs::read_to_string(&key_file).expect("the key file");
        assert!(text.lines().any(|l| l.starts_with("local-1:")), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    server.terminate();
}
