//! A 2xx is a promise: a server killed with SIGKILL right after answering
//! must still have the write when it comes back.

use crate::support::{
    ADMIN_EMAIL, ADMIN_PASSWORD, Server, Site, api_keys_in, client, sign_in, user_status,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ROUNDS: usize = 10;

/// Every acknowledged key exists (listed by name) and authenticates.
async fn assert_all_kept(server: &Server, acknowledged: &[(String, String)]) {
    let token = sign_in(server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let response = client()
        .get(server.url("/api/v1/api-keys?per_page=100"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET /api/v1/api-keys");
    assert_eq!(response.status(), StatusCode::OK);
    let listed: Value = response.json().await.expect("key list body");
    let names: Vec<&str> = listed["data"]
        .as_array()
        .unwrap_or_else(|| panic!("want {{\"data\": [...]}}, got {listed}"))
        .iter()
        .filter_map(|key| key["name"].as_str())
        .collect();
    for (name, key) in acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "acknowledged key {name} lost after SIGKILL; listed: {names:?}"
        );
        assert_eq!(
            user_status(server, key).await,
            StatusCode::OK,
            "acknowledged key {name} no longer authenticates"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_writes_survive_sigkill() {
    let site = Site::new().await;
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    for round in 0..ROUNDS {
        let server = site.serve();
        assert_all_kept(&server, &acknowledged).await;
        let token = sign_in(&server, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let name = format!("k{round}");
        let response = client()
            .post(server.url("/api/v1/api-keys"))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("POST /api/v1/api-keys");
        let status = response.status();
        let body: Value = response.json().await.expect("created key body");
        // The kill follows the acknowledgement with nothing in between.
        server.kill();
        assert!(
            status.is_success(),
            "creating a key answered {status}: {body}"
        );
        let keys = api_keys_in(&body);
        assert_eq!(
            keys.len(),
            1,
            "want the new key once in the response: {body}"
        );
        acknowledged.push((name, keys[0].clone()));
    }
    let server = site.serve();
    assert_all_kept(&server, &acknowledged).await;
}
