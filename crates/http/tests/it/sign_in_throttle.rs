//! Failed sign-ins are throttled per email and per client address: past the
//! budget, 429 with `Retry-After`, for unknown emails exactly as for known
//! ones. The budgets refill over minutes, so no test here waits for them.

use crate::{PASSWORD, TestServer, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use spool_core::SpoolConfig;
use spool_core::service::{FailureBudget, SignInThrottle};
use std::time::Duration;

fn budget(failures: u32) -> Option<FailureBudget> {
    Some(FailureBudget {
        failures,
        window: Duration::from_secs(15 * 60),
    })
}

async fn server(per_email: u32, per_address: u32) -> TestServer {
    let core = SpoolConfig {
        sign_in_throttle: SignInThrottle {
            per_email: budget(per_email),
            per_address: budget(per_address),
        },
        ..SpoolConfig::default()
    };
    TestServer::start_with(Default::default(), core).await
}

/// Status, `Retry-After` (if any) and body of one sign-in.
async fn attempt(
    server: &TestServer,
    email: &str,
    password: &str,
) -> (StatusCode, Option<u64>, Value) {
    let response = server
        .request(Method::POST, "/api/v1/auth/sign-in")
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("sign-in");
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().expect("whole seconds"));
    let body = response.json().await.expect("JSON body");
    (status, retry_after, body)
}

#[tokio::test]
async fn wrong_passwords_for_one_email_are_refused_past_the_budget() {
    let server = server(3, 100).await;
    server.user("ada@example.com").await;
    server.user("bob@example.com").await;
    for _ in 0..3 {
        let (status, retry_after, _) = attempt(&server, "ada@example.com", "wrong password").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(retry_after, None);
    }
    let (status, retry_after, body) = attempt(&server, "ada@example.com", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    assert_eq!(body, json!({ "message": "Too Many Attempts." }));

    // Throttled, the right password is refused too (else the 429 would stop
    // nothing), in any case of the email; other emails are unaffected.
    let (status, _, _) = attempt(&server, "ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = attempt(&server, " ADA@Example.com", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, body) = attempt(&server, "bob@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_wrong_password() {
    let server = server(2, 100).await;
    server.user("ada@example.com").await;
    // The same status, body and Retry-After presence (its value counts down
    // with the clock, so it is not compared).
    let seen = |(status, retry_after, body): (StatusCode, Option<u64>, Value)| {
        (status, retry_after.is_some(), body)
    };
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..4 {
        known.push(seen(
            attempt(&server, "ada@example.com", "wrong password").await,
        ));
        unknown.push(seen(
            attempt(&server, "nobody@example.com", "wrong password").await,
        ));
    }
    assert_eq!(known, unknown);
    let statuses: Vec<StatusCode> = known.iter().map(|(status, _, _)| *status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
}

#[tokio::test]
async fn a_success_restores_the_email_budget() {
    let server = server(2, 100).await;
    server.user("ada@example.com").await;
    let (status, _, _) = attempt(&server, "ada@example.com", "wrong password").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    server.sign_in("ada@example.com").await;
    for _ in 0..2 {
        let (status, _, _) = attempt(&server, "ada@example.com", "wrong password").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, _, _) = attempt(&server, "ada@example.com", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_address_has_a_budget_across_emails() {
    let server = server(100, 3).await;
    server.user("ada@example.com").await;
    for n in 0..3 {
        let email = format!("guess{n}@example.com");
        let (status, _, _) = attempt(&server, &email, "wrong password").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, retry_after, body) = attempt(&server, "fresh@example.com", "wrong password").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(retry_after.is_some_and(|s| s >= 1), "{retry_after:?}");
    let (status, _, _) = attempt(&server, "ada@example.com", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is spent"
    );
}

#[tokio::test]
async fn malformed_attempts_spend_no_budget() {
    let server = server(1, 1).await;
    server.user("ada@example.com").await;
    for _ in 0..5 {
        let (status, body) = send(
            server
                .request(Method::POST, "/api/v1/auth/sign-in")
                .json(&json!({ "email": "ada@example.com", "password": "" })),
        )
        .await;
        crate::assert_invalid(status, &body, "password");
    }
    server.sign_in("ada@example.com").await;
}
