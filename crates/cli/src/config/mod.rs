//! The effective configuration, built in layers — built-in defaults < TOML
//! file < `SPOOL_*` environment < flags — and validated once at start, so that
//! a bad value fails with the key that is wrong instead of a panic later.

mod database_url;
mod file;
pub mod files;
mod render;

pub use database_url::DatabaseUrl;

use crate::cli::SettingArgs;
use clap::ArgMatches;
use clap::parser::ValueSource;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;

pub const DEFAULT_CONFIG_FILE: &str = "spool.toml";
pub const DEFAULT_DATA_DIR: &str = "data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_BODY_LIMIT_BYTES: u64 = 2 * 1024 * 1024;
pub const DEFAULT_LIST_PAGE_MAX_BYTES: u64 =
    spool_core::service::DEFAULT_LIST_PAGE_MAX_BYTES as u64;
pub const DEFAULT_SESSION_TTL_HOURS: u64 = 720;
pub const DEFAULT_RUN_LEASE_SECONDS: u64 = 30;
pub const DEFAULT_RUN_LEASE_RENEW_SECONDS: u64 = 5;
pub const DEFAULT_RUN_EVENTS_RETENTION_DAYS: u64 = 30;
pub const DEFAULT_RUN_MAX_STEPS: u64 = 8;
pub const DEFAULT_TOOL_OUTPUTS_TIMEOUT_SECONDS: u64 = 600;
pub const DEFAULT_SIGN_IN_FAILURES_PER_EMAIL: u64 = 5;
pub const DEFAULT_SIGN_IN_FAILURES_PER_ADDRESS: u64 = 50;
pub const DEFAULT_SIGN_IN_FAILURE_WINDOW_SECONDS: u64 = 15 * 60;
/// A week: a longer window locks an email out for longer than anyone waits.
const MAX_SIGN_IN_FAILURE_WINDOW_SECONDS: u64 = 7 * 24 * 3600;
pub const DEFAULT_LOG: &str = "info";
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u64 = 100;
pub const DEFAULT_RATE_LIMIT_BURST: u64 = 400;
pub const DEFAULT_HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
pub const DEFAULT_IDLE_TIMEOUT_SECONDS: u64 = 60;
const MAX_HEADER_READ_TIMEOUT_SECONDS: u64 = 3600;
const MAX_IDLE_TIMEOUT_SECONDS: u64 = 24 * 3600;
/// The connection slots are counted in a `u32` (see `connections`).
const CONNECTIONS_CEILING: u64 = 1_000_000;
/// Ten years: beyond it a session is a permanent credential in disguise.
const MAX_SESSION_TTL_HOURS: u64 = 24 * 366 * 10;

#[derive(Clone, Debug)]
pub struct Config {
    /// The TOML file that was read, if any.
    pub file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub listen: SocketAddr,
    pub body_limit_bytes: usize,
    /// Most bytes of messages one list page holds.
    pub list_page_max_bytes: usize,
    pub session_ttl_hours: u64,
    /// Failed sign-ins allowed per email per window; 0 turns the budget off.
    pub sign_in_failures_per_email: u64,
    /// Failed sign-ins allowed per client address per window; 0: off.
    pub sign_in_failures_per_address: u64,
    /// The window both sign-in budgets refill over.
    pub sign_in_failure_window_seconds: u64,
    /// Sustained requests per second per credential; 0 turns limiting off.
    pub rate_limit_per_second: u64,
    /// Requests a credential may make at once after a quiet spell.
    pub rate_limit_burst: u64,
    /// How long a client may take to send a whole request head.
    pub header_read_timeout_seconds: u64,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout_seconds: u64,
    /// Connections served at once; `None`: derived at start from the
    /// open-file limit (see `open_files`).
    pub max_connections: Option<u64>,
    /// Where `max_connections` came from, for the start-up check against
    /// the open-file limit.
    pub max_connections_origin: Origin,
    /// How long a run's lease lasts unrenewed.
    pub run_lease_seconds: u64,
    /// How often a node renews its run leases (less than the lease).
    pub run_lease_renew_seconds: u64,
    /// How long a run's events are kept.
    pub run_events_retention_days: u64,
    /// Most model steps one run takes.
    pub run_max_steps: u64,
    /// How long a run waits for tool outputs.
    pub tool_outputs_timeout_seconds: u64,
    /// Non-public hosts or addresses `http` tools may reach.
    pub allowed_tool_hosts: Vec<String>,
    /// Non-public hosts or addresses webhooks may be sent to.
    pub allowed_webhook_hosts: Vec<String>,
    /// Non-public hosts or addresses workspace providers may reach.
    pub allowed_provider_hosts: Vec<String>,
    /// The keys sealing workspace providers' credentials; `None`: on
    /// SQLite, the key file in the data directory (made at first use).
    pub encryption_keys: Option<EncryptionKeys>,
    /// The token `GET /metrics` asks for; `None`: the endpoint answers 404.
    pub metrics_token: Option<MetricsToken>,
    pub log: String,
    pub log_format: LogFormat,
    /// The `[[providers]]` and `[[models]]` of the file, with the built-in
    /// `echo` model added when the file does not configure it.
    pub models: spool_providers::ProvidersConfig,
    pub default_model: Option<String>,
    pub naming_model: Option<String>,
    pub memory_model: Option<String>,
    /// `[files]`: where uploads go, their limits.
    pub files: files::FilesConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

/// Where a value came from, so that an error can point at it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("the default"),
            Origin::File(path) => write!(f, "in {}", path.display()),
            Origin::Env(name) => write!(f, "from {name}"),
            Origin::Flag(name) => write!(f, "from {name}"),
        }
    }
}

/// A setting that cannot be used: names the key, the problem and its source.
#[derive(Debug, thiserror::Error)]
#[error("{key}: {message} ({origin})")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
    pub origin: Origin,
}

/// One raw value and where it came from.
struct Raw {
    value: String,
    origin: Origin,
}

impl Raw {
    fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_owned(),
            message: message.into(),
            origin: self.origin.clone(),
        }
    }
}

/// Builds the effective configuration. `matches` tells flags from
/// environment variables (clap merges the two into `args`).
pub fn load(args: SettingArgs, matches: &ArgMatches) -> Result<Config, ConfigError> {
    let cli_origin = |key: &str| match matches.value_source(key) {
        Some(ValueSource::EnvVariable) => Origin::Env(format!("SPOOL_{}", key.to_uppercase())),
        _ => Origin::Flag(format!("--{}", key.replace('_', "-"))),
    };
    let (file_path, file) = file::read(args.config.as_deref(), &cli_origin("config"))?;
    let file_origin = || file_path.clone().map_or(Origin::Default, Origin::File);
    let pick = |key: &'static str,
                cli: Option<String>,
                from_file: Option<String>,
                default: String| match (cli, from_file) {
        (Some(value), _) => Raw {
            value,
            origin: cli_origin(key),
        },
        (None, Some(value)) => Raw {
            value,
            origin: file_origin(),
        },
        (None, None) => Raw {
            value: default,
            origin: Origin::Default,
        },
    };
    let path_string = |p: PathBuf| p.to_string_lossy().into_owned();

    let data_dir = pick(
        "data_dir",
        args.data_dir.map(path_string),
        file.data_dir.map(path_string),
        format!("./{DEFAULT_DATA_DIR}"),
    );
    if data_dir.value.trim().is_empty() {
        return Err(data_dir.error("data_dir", "must not be empty"));
    }
    let data_dir_path = PathBuf::from(&data_dir.value);

    let default_db = format!("sqlite://{}", data_dir_path.join("spool.db").display());
    let database_url = pick(
        "database_url",
        args.database_url,
        file.database_url,
        default_db,
    );
    let database_url = DatabaseUrl::parse(&database_url.value)
        .map_err(|message| database_url.error("database_url", message))?;

    let listen = pick(
        "listen",
        args.listen,
        file.listen,
        DEFAULT_LISTEN.to_owned(),
    );
    let listen_addr: SocketAddr = listen.value.trim().parse().map_err(|_| {
        listen.error(
            "listen",
            format!("invalid socket address '{}'", listen.value),
        )
    })?;

    let body_limit = pick(
        "body_limit_bytes",
        args.body_limit_bytes,
        file.body_limit_bytes.map(|n| n.to_string()),
        DEFAULT_BODY_LIMIT_BYTES.to_string(),
    );
    let body_limit_bytes = positive(&body_limit, "body_limit_bytes", u64::from(u32::MAX))?;
    let page_bytes = pick(
        "list_page_max_bytes",
        args.list_page_max_bytes,
        file.list_page_max_bytes.map(|n| n.to_string()),
        DEFAULT_LIST_PAGE_MAX_BYTES.to_string(),
    );
    let list_page_max_bytes = positive(&page_bytes, "list_page_max_bytes", u64::from(u32::MAX))?;

    let ttl = pick(
        "session_ttl_hours",
        args.session_ttl_hours,
        file.session_ttl_hours.map(|n| n.to_string()),
        DEFAULT_SESSION_TTL_HOURS.to_string(),
    );
    let session_ttl_hours = positive(&ttl, "session_ttl_hours", MAX_SESSION_TTL_HOURS)?;

    let lease = pick(
        "run_lease_seconds",
        args.run_lease_seconds,
        file.run_lease_seconds.map(|n| n.to_string()),
        DEFAULT_RUN_LEASE_SECONDS.to_string(),
    );
    let run_lease_seconds = positive(&lease, "run_lease_seconds", 86_400)?;
    let renew = pick(
        "run_lease_renew_seconds",
        args.run_lease_renew_seconds,
        file.run_lease_renew_seconds.map(|n| n.to_string()),
        DEFAULT_RUN_LEASE_RENEW_SECONDS.to_string(),
    );
    let run_lease_renew_seconds = positive(&renew, "run_lease_renew_seconds", 86_400)?;
    if run_lease_renew_seconds >= run_lease_seconds {
        return Err(renew.error(
            "run_lease_renew_seconds",
            format!("must be less than run_lease_seconds ({run_lease_seconds})"),
        ));
    }
    let retention = pick(
        "run_events_retention_days",
        args.run_events_retention_days,
        file.run_events_retention_days.map(|n| n.to_string()),
        DEFAULT_RUN_EVENTS_RETENTION_DAYS.to_string(),
    );
    let run_events_retention_days = positive(&retention, "run_events_retention_days", 36_600)?;
    let steps = pick(
        "run_max_steps",
        args.run_max_steps,
        file.run_max_steps.map(|n| n.to_string()),
        DEFAULT_RUN_MAX_STEPS.to_string(),
    );
    let run_max_steps = positive(&steps, "run_max_steps", 100)?;
    let wait = pick(
        "tool_outputs_timeout_seconds",
        args.tool_outputs_timeout_seconds,
        file.tool_outputs_timeout_seconds.map(|n| n.to_string()),
        DEFAULT_TOOL_OUTPUTS_TIMEOUT_SECONDS.to_string(),
    );
    let tool_outputs_timeout_seconds = positive(&wait, "tool_outputs_timeout_seconds", 86_400)?;

    let per_email = pick(
        "sign_in_failures_per_email",
        args.sign_in_failures_per_email,
        file.sign_in_failures_per_email.map(|n| n.to_string()),
        DEFAULT_SIGN_IN_FAILURES_PER_EMAIL.to_string(),
    );
    let sign_in_failures_per_email = whole(&per_email, "sign_in_failures_per_email", 1_000_000)?;
    let per_address = pick(
        "sign_in_failures_per_address",
        args.sign_in_failures_per_address,
        file.sign_in_failures_per_address.map(|n| n.to_string()),
        DEFAULT_SIGN_IN_FAILURES_PER_ADDRESS.to_string(),
    );
    let sign_in_failures_per_address =
        whole(&per_address, "sign_in_failures_per_address", 1_000_000)?;
    let window = pick(
        "sign_in_failure_window_seconds",
        args.sign_in_failure_window_seconds,
        file.sign_in_failure_window_seconds.map(|n| n.to_string()),
        DEFAULT_SIGN_IN_FAILURE_WINDOW_SECONDS.to_string(),
    );
    let sign_in_failure_window_seconds = positive(
        &window,
        "sign_in_failure_window_seconds",
        MAX_SIGN_IN_FAILURE_WINDOW_SECONDS,
    )?;

    let rate = pick(
        "rate_limit_per_second",
        args.rate_limit_per_second,
        file.rate_limit_per_second.map(|n| n.to_string()),
        DEFAULT_RATE_LIMIT_PER_SECOND.to_string(),
    );
    let rate_limit_per_second = whole(&rate, "rate_limit_per_second", 1_000_000_000)?;
    let burst = pick(
        "rate_limit_burst",
        args.rate_limit_burst,
        file.rate_limit_burst.map(|n| n.to_string()),
        DEFAULT_RATE_LIMIT_BURST.to_string(),
    );
    let rate_limit_burst = positive(&burst, "rate_limit_burst", 1_000_000_000)?;

    let header_read = pick(
        "header_read_timeout_seconds",
        args.header_read_timeout_seconds,
        file.header_read_timeout_seconds.map(|n| n.to_string()),
        DEFAULT_HEADER_READ_TIMEOUT_SECONDS.to_string(),
    );
    let header_read_timeout_seconds = positive(
        &header_read,
        "header_read_timeout_seconds",
        MAX_HEADER_READ_TIMEOUT_SECONDS,
    )?;
    let idle = pick(
        "idle_timeout_seconds",
        args.idle_timeout_seconds,
        file.idle_timeout_seconds.map(|n| n.to_string()),
        DEFAULT_IDLE_TIMEOUT_SECONDS.to_string(),
    );
    let idle_timeout_seconds = positive(&idle, "idle_timeout_seconds", MAX_IDLE_TIMEOUT_SECONDS)?;
    // No default value: unset (or empty) means "derive it from the
    // open-file limit", which only `serve` can know.
    let connections = pick(
        "max_connections",
        args.max_connections.filter(|n| !n.trim().is_empty()),
        file.max_connections.map(|n| n.to_string()),
        String::new(),
    );
    let max_connections = match connections.origin {
        Origin::Default => None,
        _ => Some(positive(
            &connections,
            "max_connections",
            CONNECTIONS_CEILING,
        )?),
    };

    let log = pick("log", args.log, file.log, DEFAULT_LOG.to_owned());
    if let Err(err) = EnvFilter::try_new(&log.value) {
        return Err(log.error("log", format!("invalid log filter '{}': {err}", log.value)));
    }

    let format = pick(
        "log_format",
        args.log_format,
        file.log_format,
        LogFormat::Text.as_str().to_owned(),
    );
    let log_format = match format.value.trim() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(format.error(
                "log_format",
                format!("must be 'text' or 'json', not '{other}'"),
            ));
        }
    };

    let host_list = |flag: Option<String>, file: Option<Vec<String>>| -> Vec<String> {
        match flag {
            Some(list) => list.split(',').map(|h| h.trim().to_owned()).collect(),
            None => file.unwrap_or_default(),
        }
        .into_iter()
        .filter(|h| !h.is_empty())
        .collect()
    };
    let allowed_tool_hosts = host_list(args.allowed_tool_hosts, file.allowed_tool_hosts);
    let allowed_webhook_hosts = host_list(args.allowed_webhook_hosts, file.allowed_webhook_hosts);
    let allowed_provider_hosts =
        host_list(args.allowed_provider_hosts, file.allowed_provider_hosts);
    let encryption_keys = match (args.encryption_keys, file.encryption_keys) {
        (Some(list), _) => Some((
            list.split(',').map(|k| k.trim().to_owned()).collect(),
            cli_origin("encryption_keys"),
        )),
        (None, Some(list)) => Some((list, file_origin())),
        (None, None) => None,
    }
    .map(|(specs, origin): (Vec<String>, Origin)| {
        let specs: Vec<String> = specs.into_iter().filter(|k| !k.is_empty()).collect();
        spool_core::sealing::Keyring::parse(&specs)
            .map(|_| EncryptionKeys(specs))
            .map_err(|message| ConfigError {
                key: "encryption_keys".into(),
                message,
                origin,
            })
    })
    .transpose()?;
    let metrics_token = match (args.metrics_token, file.metrics_token) {
        (Some(value), _) => Some(Raw {
            value,
            origin: cli_origin("metrics_token"),
        }),
        (None, Some(value)) => Some(Raw {
            value,
            origin: file_origin(),
        }),
        (None, None) => None,
    }
    .map(|raw| MetricsToken::parse(&raw))
    .transpose()?;
    let default_model = args
        .default_model
        .or(file.default_model)
        .filter(|m| !m.trim().is_empty());
    let naming_model = args
        .naming_model
        .or(file.naming_model)
        .filter(|m| !m.trim().is_empty());
    let models = with_echo(spool_providers::ProvidersConfig {
        providers: file.providers,
        models: file.models,
    });
    // Build once here so that a bad provider or model fails at start, naming its key.
    let catalog = spool_providers::Catalog::from_config(&models).map_err(|err| ConfigError {
        key: err.key,
        message: err.message,
        origin: file_origin(),
    })?;
    let memory_model = file.memory_model.filter(|m| !m.trim().is_empty());
    spool_providers::core_catalog(
        &catalog,
        default_model.as_deref(),
        naming_model.as_deref(),
        memory_model.as_deref(),
    )
    .map_err(|err| ConfigError {
        key: err.key,
        message: err.message,
        origin: file_origin(),
    })?;

    let files = files::load(file.files, &data_dir_path).map_err(|(key, message)| ConfigError {
        key,
        message,
        origin: file_origin(),
    })?;

    Ok(Config {
        files,
        default_model,
        naming_model,
        memory_model,
        models,
        file: file_path,
        data_dir: data_dir_path,
        database_url,
        listen: listen_addr,
        body_limit_bytes: usize::try_from(body_limit_bytes).unwrap_or(usize::MAX),
        list_page_max_bytes: usize::try_from(list_page_max_bytes).unwrap_or(usize::MAX),
        session_ttl_hours,
        sign_in_failures_per_email,
        sign_in_failures_per_address,
        sign_in_failure_window_seconds,
        rate_limit_per_second,
        rate_limit_burst,
        header_read_timeout_seconds,
        idle_timeout_seconds,
        max_connections,
        max_connections_origin: connections.origin,
        run_lease_seconds,
        run_lease_renew_seconds,
        run_events_retention_days,
        run_max_steps,
        tool_outputs_timeout_seconds,
        allowed_tool_hosts,
        allowed_webhook_hosts,
        allowed_provider_hosts,
        encryption_keys,
        metrics_token,
        log: log.value,
        log_format,
    })
}

/// The configured sealing keys, checked. Secrets: `Debug` shows how many.
#[derive(Clone)]
pub struct EncryptionKeys(pub Vec<String>);

impl fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EncryptionKeys({} keys, redacted)", self.0.len())
    }
}

impl EncryptionKeys {
    /// The keys' ids, in order (never their material).
    pub fn ids(&self) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|k| k.split_once(':').map(|(id, _)| id.trim()))
            .collect()
    }
}

/// The bearer token of `GET /metrics`. A secret: `Debug` redacts it.
#[derive(Clone)]
pub struct MetricsToken(String);

/// Shorter tokens are too easy to guess over the network.
const METRICS_TOKEN_MIN_CHARS: usize = 16;

impl MetricsToken {
    fn parse(raw: &Raw) -> Result<Self, ConfigError> {
        let token = raw.value.trim();
        if token.chars().count() < METRICS_TOKEN_MIN_CHARS {
            return Err(raw.error(
                "metrics_token",
                format!("must be at least {METRICS_TOKEN_MIN_CHARS} characters"),
            ));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(raw.error(
                "metrics_token",
                "must be visible ASCII characters, without spaces",
            ));
        }
        Ok(Self(token.to_owned()))
    }

    pub fn hash(&self) -> spool_core::secret::TokenHash {
        spool_core::secret::PlainToken::from_presented(&self.0).hash()
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// A whole number in `1..=max`.
fn positive(raw: &Raw, key: &str, max: u64) -> Result<u64, ConfigError> {
    match whole(raw, key, max)? {
        0 => Err(raw.error(key, "must be greater than 0")),
        n => Ok(n),
    }
}

/// A whole number in `0..=max`.
fn whole(raw: &Raw, key: &str, max: u64) -> Result<u64, ConfigError> {
    match raw.value.trim().parse::<u64>() {
        Ok(n) if n > max => Err(raw.error(key, format!("must be at most {max}"))),
        Ok(n) => Ok(n),
        Err(_) => Err(raw.error(key, format!("must be a whole number, not '{}'", raw.value))),
    }
}

/// The built-in offline `echo` model is always there unless the file
/// configures a provider of that name itself.
fn with_echo(mut config: spool_providers::ProvidersConfig) -> spool_providers::ProvidersConfig {
    let offline: spool_providers::ProvidersConfig = serde_json::from_value(serde_json::json!({
        "providers": [{ "kind": "echo", "name": "echo" }],
        "models": [{ "name": "echo", "provider": "echo", "context_window": 128_000 }],
    }))
    .expect("the echo model's config is valid");
    if !config.providers.iter().any(|p| p.name() == "echo") {
        config.providers.extend(offline.providers);
        if !config.models.iter().any(|m| m.name == "echo") {
            config.models.extend(offline.models);
        }
    }
    config
}

impl Config {
    /// The per-credential rate limit, or `None` when it is turned off.
    pub fn rate_limit(&self) -> Option<spool_core::service::RateLimit> {
        (self.rate_limit_per_second > 0).then_some(spool_core::service::RateLimit {
            per_second: self.rate_limit_per_second as f64,
            burst: self.rate_limit_burst as f64,
        })
    }

    /// The sign-in failure budgets; a zero count turns its budget off.
    pub fn sign_in_throttle(&self) -> spool_core::service::SignInThrottle {
        let window = std::time::Duration::from_secs(self.sign_in_failure_window_seconds);
        let budget = |failures: u64| {
            u32::try_from(failures)
                .ok()
                .filter(|n| *n > 0)
                .map(|failures| spool_core::service::FailureBudget { failures, window })
        };
        spool_core::service::SignInThrottle {
            per_email: budget(self.sign_in_failures_per_email),
            per_address: budget(self.sign_in_failures_per_address),
        }
    }

    /// The effective configuration as TOML, with secrets redacted.
    pub fn to_toml(&self) -> String {
        render::to_toml(self)
    }

    /// Creates the data directory when it is missing.
    pub fn ensure_data_dir(&self) -> anyhow::Result<()> {
        ensure_dir(&self.data_dir)
    }
}

fn ensure_dir(dir: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("data_dir: cannot create '{}'", dir.display()))
}
