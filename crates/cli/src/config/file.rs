//! The TOML layer. Unknown keys are refused: a misspelt key silently falling
//! back to its default is worse than not starting.

use super::{ConfigError, DEFAULT_CONFIG_FILE, Origin};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<String>,
    pub body_limit_bytes: Option<u64>,
    pub list_page_max_bytes: Option<u64>,
    pub session_ttl_hours: Option<u64>,
    pub sign_in_failures_per_email: Option<u64>,
    pub sign_in_failures_per_address: Option<u64>,
    pub sign_in_failure_window_seconds: Option<u64>,
    pub rate_limit_per_second: Option<u64>,
    pub rate_limit_burst: Option<u64>,
    pub header_read_timeout_seconds: Option<u64>,
    pub idle_timeout_seconds: Option<u64>,
    pub max_connections: Option<u64>,
    pub run_lease_seconds: Option<u64>,
    pub run_lease_renew_seconds: Option<u64>,
    pub run_events_retention_days: Option<u64>,
    pub run_max_steps: Option<u64>,
    /// Non-public hosts or addresses `http` tools may reach.
    pub allowed_tool_hosts: Option<Vec<String>>,
    pub tool_outputs_timeout_seconds: Option<u64>,
    /// Non-public hosts or addresses webhooks may be sent to.
    pub allowed_webhook_hosts: Option<Vec<String>>,
    /// Non-public hosts or addresses workspace providers may reach.
    pub allowed_provider_hosts: Option<Vec<String>>,
    /// `id:base64` keys sealing workspace providers' credentials, the
    /// sealing one first.
    pub encryption_keys: Option<Vec<String>>,
    /// The bearer token `GET /metrics` asks for; unset: no `/metrics`.
    pub metrics_token: Option<String>,
    pub log: Option<String>,
    pub log_format: Option<String>,
    /// The model run when a request, thread and agent name none.
    pub default_model: Option<String>,
    /// The model that writes thread titles (else each thread's own).
    pub naming_model: Option<String>,
    /// The model that writes agents' memories (else the naming model, else
    /// the run's own).
    pub memory_model: Option<String>,
    /// `[[providers]]`: OpenAI-compatible, Anthropic or echo endpoints.
    #[serde(default)]
    pub providers: Vec<spool_providers::ProviderConfig>,
    /// `[[models]]`: the catalog clients may ask for.
    #[serde(default)]
    pub models: Vec<spool_providers::ModelConfig>,
    /// `[files]`: storage and limits of uploads.
    pub files: Option<super::files::FilesFile>,
}

/// Reads the file named by `--config`/`SPOOL_CONFIG`, else `./spool.toml`
/// when it exists, else nothing.
pub fn read(
    named: Option<&Path>,
    named_origin: &Origin,
) -> Result<(Option<PathBuf>, FileConfig), ConfigError> {
    let path = match named {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from(".").join(DEFAULT_CONFIG_FILE);
            if !default.exists() {
                return Ok((None, FileConfig::default()));
            }
            default
        }
    };
    let origin = if named.is_some() {
        named_origin.clone()
    } else {
        Origin::Default
    };
    let text = std::fs::read_to_string(&path).map_err(|err| ConfigError {
        key: "config".to_owned(),
        message: format!("cannot read '{}': {err}", path.display()),
        origin,
    })?;
    let config = parse(&text).map_err(|(key, message)| ConfigError {
        key,
        message,
        origin: Origin::File(path.clone()),
    })?;
    Ok((Some(path), config))
}

/// Parses a config file; on failure, the key at fault (or `config` for a
/// syntax error) and a one-line message with the line number.
fn parse(text: &str) -> Result<FileConfig, (String, String)> {
    let located = |err: &toml::de::Error| {
        let message = err
            .message()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        match err.span() {
            Some(span) => format!(
                "line {}: {message}",
                1 + text[..span.start.min(text.len())].matches('\n').count()
            ),
            None => message,
        }
    };
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|err| ("config".to_owned(), located(&err)))?;
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let key = if path.is_empty() || path == "." {
            "config".to_owned()
        } else {
            path
        };
        (key, located(err.inner()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let config = parse(
            "data_dir = 'd'\ndatabase_url = 'sqlite://x.db'\nlisten = '0.0.0.0:1'\nbody_limit_bytes = 5\n\
             session_ttl_hours = 2\nlog = 'debug'\nlog_format = 'json'\nheader_read_timeout_seconds = 3\n\
             idle_timeout_seconds = 4\nmax_connections = 5\n",
        )
        .unwrap();
        assert_eq!(config.listen.as_deref(), Some("0.0.0.0:1"));
        assert_eq!(config.body_limit_bytes, Some(5));
        assert_eq!(config.log_format.as_deref(), Some("json"));
        assert_eq!(config.header_read_timeout_seconds, Some(3));
        assert_eq!(config.idle_timeout_seconds, Some(4));
        assert_eq!(config.max_connections, Some(5));
    }

    #[test]
    fn names_the_unknown_key() {
        let (key, message) = parse("listen = '127.0.0.1:1'\nlisen = 'x'\n").unwrap_err();
        assert_eq!(key, "lisen");
        assert!(message.contains("lisen"), "{message}");
        assert!(message.starts_with("line 2"), "{message}");
    }

    #[test]
    fn names_the_key_of_the_wrong_type() {
        let (key, message) = parse("listen = 8080\n").unwrap_err();
        assert_eq!(key, "listen");
        assert!(!message.contains('\n'), "{message}");
        let (key, _) = parse("body_limit_bytes = -1\n").unwrap_err();
        assert_eq!(key, "body_limit_bytes");
    }

    #[test]
    fn syntax_errors_are_one_line() {
        let (key, message) = parse("listen = \n").unwrap_err();
        assert_eq!(key, "config");
        assert!(
            !message.contains('\n') && message.starts_with("line 1"),
            "{message}"
        );
    }
}
