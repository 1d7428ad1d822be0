//! Webhooks: made, listed, shown and deleted by owners and admins; their
//! URLs checked against the outbound rules; run ends delivered to a
//! receiver on 127.0.0.1 that checks each signature and fails the first
//! attempts, until the delivery log says delivered.

use crate::fixtures::{delete, eventually, thread, uuid};
use crate::{TestServer, assert_invalid, send};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use spool_core::SpoolConfig;
use spool_core::webhooks::DeliveryPlan;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the receiver was sent: headers and body, per attempt.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Clone)]
struct Receiver {
    seen: Arc<Mutex<Vec<Received>>>,
    /// Answers 500 to this many requests first.
    failing: Arc<AtomicUsize>,
}

impl Receiver {
    /// Listens on 127.0.0.1; answers `fail_first` requests 500, then 204.
    async fn start(fail_first: usize) -> (Self, String) {
        let receiver = Receiver {
            seen: Arc::default(),
            failing: Arc::new(AtomicUsize::new(fail_first)),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> AxumStatus {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.seen.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let fail = receiver
        .failing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if fail {
        AxumStatus::INTERNAL_SERVER_ERROR
    } else {
        AxumStatus::NO_CONTENT
    }
}

/// The Standard Webhooks check a receiver makes, written here from the
/// specification rather than with spool's signing code.
fn signature_holds(secret: &str, received: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", received.id, received.timestamp, received.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received.signature.split(' ').any(|s| s == expected)
}

/// Looks for due deliveries often and retries soon.
async fn quick() -> TestServer {
    let core = SpoolConfig {
        webhooks: DeliveryPlan {
            retry_base: Duration::from_millis(20),
            retry_max: Duration::from_millis(100),
            poll: Duration::from_millis(10),
            ..DeliveryPlan::default()
        },
        ..SpoolConfig::default()
    };
    TestServer::start_with(Default::default(), core).await
}

async fn create(server: &TestServer, token: &str, body: Value) -> Value {
    let (status, body) = send(server.post("/api/v1/webhooks", token, body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn a_run_end_is_delivered_signed_after_failed_attempts() {
    let server = quick().await;
    let (receiver, url) = Receiver::start(2).await;
    let ada = server.account("ada@example.com").await;
    let hook = create(
        &server,
        &ada.token,
        json!({ "url": url, "events": ["run.completed"] }),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let thread = thread(&server, &ada, "Hooked").await;
    let (status, body) = send(server.post(
        &format!("/api/v1/threads/{}/run", uuid(&thread)),
        &ada.token,
        json!({ "content": "tell the hook", "model": "echo" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let run = body["run"]["uuid"].as_str().unwrap().to_owned();

    let log = format!("/api/v1/webhooks/{}/deliveries", uuid(&hook));
    let delivery = eventually("the delivery succeeds", || async {
        let (_, page) = send(server.get(&log, &ada.token)).await;
        let first = page["data"][0].clone();
        (first["status"] == "delivered").then_some(first)
    })
    .await;
    assert_eq!(delivery["attempts"], 3, "{delivery}");
    assert_eq!(delivery["response_status"], 204, "{delivery}");
    assert_eq!(delivery["event"], "run.completed");
    assert_eq!(delivery["run_uuid"], run.as_str());

    let seen = receiver.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let expected_id = format!(
        "msg_{}",
        delivery["uuid"].as_str().unwrap().replace('-', "")
    );
    for attempt in &seen {
        assert_eq!(attempt.id, expected_id, "one id through the retries");
        assert!(signature_holds(&secret, attempt), "{attempt:?}");
        assert!(attempt.timestamp.parse::<i64>().is_ok(), "{attempt:?}");
    }
    let event: Value = serde_json::from_str(&seen[2].body).unwrap();
    assert_eq!(event["type"], "run.completed");
    assert_eq!(event["data"]["uuid"], run.as_str());
    assert_eq!(event["data"]["status"], "completed");
    assert_eq!(event["data"]["thread_uuid"], uuid(&thread).as_str());
    // A tampered body does not verify.
    let mut forged = seen[2].clone();
    forged.body = forged.body.replace("completed", "failed");
    assert!(!signature_holds(&secret, &forged));
}

#[tokio::test]
async fn only_the_events_asked_for_are_sent() {
    let server = quick().await;
    let (receiver, url) = Receiver::start(0).await;
    let ada = server.account("ada@example.com").await;
    let failed_only = create(
        &server,
        &ada.token,
        json!({ "url": url, "events": ["run.failed"] }),
    )
    .await;
    let every = create(&server, &ada.token, json!({ "url": url })).await;
    assert_eq!(
        every["events"],
        json!([
            "run.completed",
            "run.failed",
            "run.cancelled",
            "run.requires_action"
        ])
    );
    let thread = thread(&server, &ada, "Hooked").await;
    let (status, _) = send(server.post(
        &format!("/api/v1/threads/{}/run", uuid(&thread)),
        &ada.token,
        json!({ "content": "hello", "model": "echo" }),
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let log = |hook: &Value| format!("/api/v1/webhooks/{}/deliveries", uuid(hook));
    eventually("the subscribed webhook is told", || async {
        let (_, page) = send(server.get(&log(&every), &ada.token)).await;
        (page["data"][0]["status"] == "delivered").then_some(())
    })
    .await;
    let (_, page) = send(server.get(&log(&failed_only), &ada.token)).await;
    assert_eq!(page["meta"]["total"], 0, "{page}");
    assert_eq!(receiver.seen().len(), 1);
}

#[tokio::test]
async fn webhooks_are_created_shown_listed_and_deleted() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let hook = create(
        &server,
        &ada.token,
        json!({ "url": "http://127.0.0.1:9/hook", "events": ["run.failed", "run.completed", "run.failed"] }),
    )
    .await;
    assert!(
        hook["secret"].as_str().unwrap().starts_with("whsec_"),
        "{hook}"
    );
    assert_eq!(hook["events"], json!(["run.completed", "run.failed"]));
    assert_eq!(hook["workspace_uuid"], ada.workspace.to_string().as_str());
    let path = format!("/api/v1/webhooks/{}", uuid(&hook));
    let (status, shown) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert!(shown["data"].get("secret").is_none(), "{shown}");
    assert_eq!(shown["data"]["url"], "http://127.0.0.1:9/hook");
    let (status, page) = send(server.get("/api/v1/webhooks", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["meta"]["total"], 1);
    assert!(page["data"][0].get("secret").is_none());
    let (status, _) = send(delete(&server, &path, &ada.token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = send(server.get(&path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = send(delete(&server, &path, &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_webhooks_answer_422_and_change_nothing() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let cases = [
        (json!({ "url": "ftp://example.com/x" }), "url"),
        (json!({ "url": "not a url" }), "url"),
        (
            json!({ "url": format!("https://example.com/{}", "a".repeat(2048)) }),
            "url",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/", "events": ["run.started"] }),
            "events.0",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/", "events": [] }),
            "events",
        ),
        (
            json!({ "url": "http://127.0.0.1:9/", "events": "run.completed" }),
            "events",
        ),
        (json!({ "events": ["run.completed"] }), "url"),
        (json!({ "url": 7 }), "url"),
        (
            json!({ "url": "http://127.0.0.1:9/", "secret": "mine" }),
            "secret",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) =
            send(server.post("/api/v1/webhooks", &ada.token, body.clone())).await;
        assert_invalid(status, &answer, field);
    }
    let (status, _) = send(
        server
            .request(reqwest::Method::POST, "/api/v1/webhooks")
            .bearer_auth(&ada.token)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = send(server.get("/api/v1/webhooks", &ada.token)).await;
    assert_eq!(page["meta"]["total"], 0, "{page}");
}

#[tokio::test]
async fn non_public_receivers_are_refused_unless_allowed() {
    let server = TestServer::start_with_webhook_hosts(&[]).await;
    let ada = server.account("ada@example.com").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://[::1]:9/",
        "http://10.1.2.3/",
        "http://localhost:9/",
    ] {
        let (status, body) =
            send(server.post("/api/v1/webhooks", &ada.token, json!({ "url": url }))).await;
        assert_invalid(status, &body, "url");
        assert!(
            body["errors"]["url"][0]
                .as_str()
                .unwrap()
                .contains("allowed_webhook_hosts"),
            "{url}: {body}"
        );
    }
}

#[tokio::test]
async fn webhooks_belong_to_owners_and_admins_of_their_workspace() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let bob = server.account("bob@example.com").await;
    let hook = create(
        &server,
        &ada.token,
        json!({ "url": "http://127.0.0.1:9/hook" }),
    )
    .await;
    let path = format!("/api/v1/webhooks/{}", uuid(&hook));
    let log = format!("{path}/deliveries");

    // Another workspace's user: the webhook does not exist for them.
    for p in [&path, &log] {
        let (status, _) = send(server.get(p, &bob.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{p}");
    }
    let (status, _) = send(delete(&server, &path, &bob.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let named = format!("/api/v1/webhooks?workspace_uuid={}", ada.workspace);
    let (status, _) = send(server.get(&named, &bob.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, page) = send(server.get("/api/v1/webhooks", &bob.token)).await;
    assert_eq!(page["meta"]["total"], 0);
    // A malformed id is an unknown one.
    let (status, _) = send(server.get("/api/v1/webhooks/not-a-uuid", &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // No credential, or a wrong one.
    let (status, _) = send(server.request(reqwest::Method::GET, "/api/v1/webhooks")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(server.get("/api/v1/webhooks", "sps_wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A member, and an API key, may not manage webhooks.
    let member = server.member(&ada, "carol@example.com", "member").await;
    let key = server.api_key(&ada).await;
    for token in [&member, &key] {
        let (status, _) = send(server.get("/api/v1/webhooks", token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let body = json!({ "url": "http://127.0.0.1:9/hook", "workspace_uuid": ada.workspace });
        let (status, _) = send(server.post("/api/v1/webhooks", token, body)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = send(delete(&server, &path, token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let admin = server.member(&ada, "dan@example.com", "admin").await;
    let named = format!("{path}?workspace_uuid={}", ada.workspace);
    let (status, _) = send(server.get(&named, &admin)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_workspace_has_at_most_32_webhooks() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    for n in 0..32 {
        create(
            &server,
            &ada.token,
            json!({ "url": format!("http://127.0.0.1:9/hook/{n}") }),
        )
        .await;
    }
    let (status, body) = send(server.post(
        "/api/v1/webhooks",
        &ada.token,
        json!({ "url": "http://127.0.0.1:9/one-more" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 32"),
        "{body}"
    );
}
