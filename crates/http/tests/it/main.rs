//! The HTTP surface over real HTTP on loopback, against a real store:
//! SQLite in a temp dir by default, PostgreSQL when
//! `SPOOL_TEST_BACKEND=postgres` (scripts/test runs both).

mod accounts;
mod agents;
mod files;
mod files_models;
mod fixtures;
mod freddy;
mod idempotency;
mod isolation;
mod keys;
mod members;
mod memories;
mod messages;
mod metrics;
mod models;
mod openai;
mod openai_responses;
mod openapi;
mod openapi_thena_freddy;
mod page_bytes;
mod paging;
mod prompts;
mod protocol;
mod providers;
mod request_ids;
mod retention;
mod runs;
mod search;
mod seeds;
mod server_metadata;
mod shape;
mod sign_in_throttle;
mod telemetry;
mod thena;
mod threads;
mod tools;
mod tools_dialects;
mod tools_http;
mod tools_mcp;
mod validation;
mod webhooks;
mod workspaces;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use spool_core::model::User;
use spool_core::secret::Password;
use spool_core::service::NewUserInput;
use spool_core::{Spool, SpoolConfig, Store, WorkspaceId};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery";

/// The offline `echo` model alone, streaming without delays.
fn offline_models() -> spool_providers::ProvidersConfig {
    serde_json::from_value(serde_json::json!({
        "providers": [{ "kind": "echo", "name": "echo", "piece_delay_ms": 0 }],
        "models": [{ "name": "echo", "provider": "echo", "context_window": 128000 }],
    }))
    .expect("offline models")
}

/// The non-public hosts a test server's tools, webhooks and workspace
/// providers may reach.
struct Hosts<'a> {
    tools: &'a [&'a str],
    webhooks: &'a [&'a str],
    providers: &'a [&'a str],
}

/// The sealing key of every test server (workspace providers' credentials).
pub static TEST_SEALING_KEY: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| spool_core::sealing::Keyring::generate("test-1"));

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub spool: Spool,
    _dir: tempfile::TempDir,
    _pg: Option<spool_store::test_db::TestDb>,
}

/// A user with a workspace of their own and a signed-in session.
pub struct Account {
    pub user: User,
    pub workspace: WorkspaceId,
    pub token: String,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(spool_http::HttpConfig::default(), SpoolConfig::default()).await
    }

    pub async fn start_with(config: spool_http::HttpConfig, core: SpoolConfig) -> Self {
        Self::start_full(config, core, offline_models()).await
    }

    /// A server whose `http` tools may reach only public addresses and
    /// `allowed_tool_hosts` (every other server allows 127.0.0.1).
    pub async fn start_with_tool_hosts(allowed_tool_hosts: &[&str]) -> Self {
        Self::start_hosts(
            Default::default(),
            SpoolConfig::default(),
            offline_models(),
            Hosts {
                tools: allowed_tool_hosts,
                webhooks: &["127.0.0.1"],
                providers: &["127.0.0.1"],
            },
        )
        .await
    }

    /// A server whose webhooks may reach only public addresses and
    /// `allowed_webhook_hosts` (every other server allows 127.0.0.1).
    pub async fn start_with_webhook_hosts(allowed_webhook_hosts: &[&str]) -> Self {
        Self::start_hosts(
            Default::default(),
            SpoolConfig::default(),
            offline_models(),
            Hosts {
                tools: &["127.0.0.1"],
                webhooks: allowed_webhook_hosts,
                providers: &["127.0.0.1"],
            },
        )
        .await
    }

    /// A server whose workspace providers may reach only public addresses
    /// and `allowed_provider_hosts` (every other server allows 127.0.0.1).
    pub async fn start_with_provider_hosts(allowed_provider_hosts: &[&str]) -> Self {
        Self::start_hosts(
            Default::default(),
            SpoolConfig::default(),
            offline_models(),
            Hosts {
                tools: &["127.0.0.1"],
                webhooks: &["127.0.0.1"],
                providers: allowed_provider_hosts,
            },
        )
        .await
    }

    /// A server whose models are the `[[providers]]`/`[[models]]` in `models`
    /// (JSON), e.g. pointing at a `ScriptedUpstream`.
    pub async fn start_with_models(models: Value) -> Self {
        let config: spool_providers::ProvidersConfig =
            serde_json::from_value(models).expect("models config");
        Self::start_full(Default::default(), SpoolConfig::default(), config).await
    }

    async fn start_full(
        config: spool_http::HttpConfig,
        core: SpoolConfig,
        models: spool_providers::ProvidersConfig,
    ) -> Self {
        let hosts = Hosts {
            tools: &["127.0.0.1"],
            webhooks: &["127.0.0.1"],
            providers: &["127.0.0.1"],
        };
        Self::start_hosts(config, core, models, hosts).await
    }

    async fn start_hosts(
        config: spool_http::HttpConfig,
        mut core: SpoolConfig,
        models: spool_providers::ProvidersConfig,
        hosts: Hosts<'_>,
    ) -> Self {
        // The encoding loads at its first use: about a second in a debug
        // build, which would blur the timeout bounds the run tests check.
        spool_providers::tokenizer().count("warm up");
        let catalog = spool_providers::Catalog::from_config(&models).expect("catalog");
        let (catalog, runtime) =
            spool_providers::core_catalog(&catalog, None, None, None).expect("core catalog");
        let runtime = runtime.with_tool_caller(Arc::new(spool_providers::OutboundTools::new(
            hosts.tools.iter().copied(),
        )));
        let runtime = runtime.with_workspace_providers(
            Arc::new(spool_providers::OutboundProviders::new(
                hosts.providers.iter().copied(),
            )),
            spool_core::sealing::Keyring::parse(&[TEST_SEALING_KEY.as_str()]).expect("key"),
        );
        core.catalog = catalog;
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, pg): (Arc<dyn Store>, _) = match std::env::var("SPOOL_TEST_BACKEND").as_deref()
        {
            Ok("postgres") => {
                let db = spool_store::test_db::fresh_postgres().await;
                (
                    spool_store::open(&db.url).await.expect("open postgres"),
                    Some(db),
                )
            }
            _ => (
                spool_store::open(dir.path().join("spool.db").to_str().unwrap())
                    .await
                    .expect("open sqlite"),
                None,
            ),
        };
        let webhooks = spool_providers::HttpWebhooks::new(hosts.webhooks.iter().copied());
        let blobs = spool_store::blobs::ObjectBlobs::open(&spool_store::blobs::BlobConfig::Local(
            dir.path().join("files"),
        ))
        .expect("file storage");
        let spool = Spool::new(store, core)
            .with_blobs(Arc::new(blobs))
            .with_runtime(runtime)
            .with_webhook_sender(Arc::new(webhooks));
        // As `spool serve` does: the webhook outbox is sent in the background.
        tokio::spawn(spool.clone().serve_webhooks());
        let app = spool_http::app(spool.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        // The peer address reaches handlers as `ConnectInfo`, as a server
        // must provide it for the sign-in throttle's per-address budget.
        let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        Self {
            base,
            client: reqwest::Client::new(),
            spool,
            _dir: dir,
            _pg: pg,
        }
    }

    /// Where the server keeps files' bytes (local storage).
    pub fn files_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("files")
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub fn get(&self, path: &str, token: &str) -> RequestBuilder {
        self.request(Method::GET, path).bearer_auth(token)
    }

    pub fn post(&self, path: &str, token: &str, body: Value) -> RequestBuilder {
        self.request(Method::POST, path)
            .bearer_auth(token)
            .json(&body)
    }

    pub async fn user(&self, email: &str) -> User {
        self.spool
            .create_user(NewUserInput {
                email: email.into(),
                password: Password::new(PASSWORD),
                name: format!("User {email}"),
                first_name: Some("Ada".into()),
                last_name: None,
            })
            .await
            .expect("create user")
    }

    pub async fn sign_in(&self, email: &str) -> String {
        let (status, body) = send(self.request(Method::POST, "/api/v1/auth/sign-in").json(
            &serde_json::json!({
                "email": email, "password": PASSWORD
            }),
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"]["token"].as_str().expect("token").to_owned()
    }

    /// A new user who owns a new workspace, signed in.
    pub async fn account(&self, email: &str) -> Account {
        let user = self.user(email).await;
        let workspace = self
            .spool
            .create_workspace_as_operator(user.id, &format!("{email}'s space"))
            .await
            .unwrap();
        let token = self.sign_in(email).await;
        Account {
            user,
            workspace: workspace.id,
            token,
        }
    }

    /// A new user added to `workspace` with `role`, signed in.
    pub async fn member(&self, owner: &Account, email: &str, role: &str) -> String {
        self.user(email).await;
        let (status, body) = send(self.post(
            &format!("/api/v1/workspaces/{}/members", owner.workspace),
            &owner.token,
            serde_json::json!({ "email": email, "role": role }),
        ))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        self.sign_in(email).await
    }

    /// An API key of the owner's workspace.
    pub async fn api_key(&self, owner: &Account) -> String {
        let (status, body) = send(self.post(
            &format!("/api/v1/api-keys?workspace_uuid={}", owner.workspace),
            &owner.token,
            serde_json::json!({ "name": "test key" }),
        ))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["key"].as_str().unwrap().to_owned()
    }
}

/// Sends and returns the status and the JSON body (`Null` when empty).
pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    assert!(!status.is_server_error(), "a 5xx is a bug: {status} {body}");
    (status, body)
}

/// Asserts an athena validation error naming `field`.
pub fn assert_invalid(status: StatusCode, body: &Value, field: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(
        body["errors"][field].is_array(),
        "expected an error on {field}: {body}"
    );
}
