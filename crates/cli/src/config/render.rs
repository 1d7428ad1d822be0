//! `spool config`: the effective configuration as a TOML file that spool
//! would accept back. Written by hand because the keys are few and flat.

use super::Config;
use std::fmt::Write;

pub fn to_toml(config: &Config) -> String {
    let mut out = top_level(config);
    out.push_str(&super::files::render(&config.files, quoted));
    out
}

fn top_level(config: &Config) -> String {
    let file = config.file.as_ref().map_or_else(
        || "no config file".to_owned(),
        |file| file.display().to_string(),
    );
    format!(
        "# The effective spool configuration: defaults < {file} < SPOOL_* environment < flags.\n\
         # Secrets are redacted.\n\
         data_dir = {}\n\
         database_url = {}\n\
         listen = {}\n\
         body_limit_bytes = {}\n\
         list_page_max_bytes = {}\n\
         session_ttl_hours = {}\n\
         sign_in_failures_per_email = {}\n\
         sign_in_failures_per_address = {}\n\
         sign_in_failure_window_seconds = {}\n\
         rate_limit_per_second = {}\n\
         rate_limit_burst = {}\n\
         header_read_timeout_seconds = {}\n\
         idle_timeout_seconds = {}\n\
         {}\n\
         run_lease_seconds = {}\n\
         run_lease_renew_seconds = {}\n\
         run_events_retention_days = {}\n\
         run_max_steps = {}\n\
         tool_outputs_timeout_seconds = {}\n\
         allowed_tool_hosts = [{}]\n\
         allowed_webhook_hosts = [{}]\n\
         allowed_provider_hosts = [{}]\n\
         {}\n\
         {}\n\
         log = {}\n\
         log_format = {}\n\
         {}{}{}\
         # Models: {} (the [[providers]] and [[models]] tables of the file are not repeated here).\n",
        quoted(&config.data_dir.to_string_lossy()),
        quoted(&config.database_url.redacted()),
        quoted(&config.listen.to_string()),
        config.body_limit_bytes,
        config.list_page_max_bytes,
        config.session_ttl_hours,
        config.sign_in_failures_per_email,
        config.sign_in_failures_per_address,
        config.sign_in_failure_window_seconds,
        config.rate_limit_per_second,
        config.rate_limit_burst,
        config.header_read_timeout_seconds,
        config.idle_timeout_seconds,
        config.max_connections.map_or_else(
            || "# max_connections: unset, derived at start from the open-file limit".to_owned(),
            |n| format!("max_connections = {n}")
        ),
        config.run_lease_seconds,
        config.run_lease_renew_seconds,
        config.run_events_retention_days,
        config.run_max_steps,
        config.tool_outputs_timeout_seconds,
        config
            .allowed_tool_hosts
            .iter()
            .map(|h| quoted(h))
            .collect::<Vec<_>>()
            .join(", "),
        config
            .allowed_webhook_hosts
            .iter()
            .map(|h| quoted(h))
            .collect::<Vec<_>>()
            .join(", "),
        config
            .allowed_provider_hosts
            .iter()
            .map(|h| quoted(h))
            .collect::<Vec<_>>()
            .join(", "),
        match &config.encryption_keys {
            Some(keys) => format!(
                "# encryption_keys: {} (secrets, not shown)",
                keys.ids().join(", ")
            ),
            None => "# encryption_keys: unset; on SQLite the key file in data_dir".to_owned(),
        },
        if config.metrics_token.is_some() {
            "# metrics_token: set (a secret, not shown)"
        } else {
            "# metrics_token: unset, /metrics answers 404"
        },
        quoted(&config.log),
        quoted(config.log_format.as_str()),
        config
            .default_model
            .as_deref()
            .map_or(String::new(), |m| format!(
                "default_model = {}\n",
                quoted(m)
            )),
        config
            .naming_model
            .as_deref()
            .map_or(String::new(), |m| format!("naming_model = {}\n", quoted(m))),
        config
            .memory_model
            .as_deref()
            .map_or(String::new(), |m| format!("memory_model = {}\n", quoted(m))),
        config
            .models
            .models
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// A TOML basic string.
fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn quotes_like_toml() {
        for value in ["plain", "C:\\data dir", "say \"hi\"\n", "bell\u{7}"] {
            let doc = format!("v = {}", quoted(value));
            let parsed: std::collections::BTreeMap<String, String> = toml::from_str(&doc).unwrap();
            assert_eq!(parsed["v"], value);
        }
    }
}
