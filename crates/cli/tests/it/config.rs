//! Layering (flag > env > file > default) seen through `spool config`, and
//! bad settings failing at start with the key named.

use crate::support::{fails, ok, spool};
use std::path::Path;
use toml::Table;

fn effective(command: &mut std::process::Command) -> Table {
    let text = ok(command.arg("config"));
    text.parse::<Table>()
        .unwrap_or_else(|err| panic!("`spool config` printed invalid TOML: {err}\n{text}"))
}

fn string<'a>(table: &'a Table, key: &str) -> &'a str {
    table[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string: {table:?}"))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[test]
fn defaults_apply_when_nothing_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = effective(&mut spool(dir.path()));
    assert_eq!(string(&config, "listen"), "127.0.0.1:8080");
    assert_eq!(string(&config, "data_dir"), "./data");
    assert_eq!(string(&config, "database_url"), "sqlite://./data/spool.db");
    assert_eq!(
        config["body_limit_bytes"].as_integer(),
        Some(2 * 1024 * 1024)
    );
    assert_eq!(config["session_ttl_hours"].as_integer(), Some(720));
    assert_eq!(config["sign_in_failures_per_email"].as_integer(), Some(5));
    assert_eq!(
        config["sign_in_failures_per_address"].as_integer(),
        Some(50)
    );
    assert_eq!(
        config["sign_in_failure_window_seconds"].as_integer(),
        Some(900)
    );
    assert_eq!(config["rate_limit_per_second"].as_integer(), Some(100));
    assert_eq!(config["rate_limit_burst"].as_integer(), Some(400));
    assert_eq!(string(&config, "log"), "info");
    assert_eq!(string(&config, "log_format"), "text");
    assert!(
        !dir.path().join("data").exists(),
        "`spool config` must not create anything"
    );
}

#[test]
fn flag_beats_env_beats_file_beats_default() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(
        dir,
        "spool.toml",
        "listen = \"127.0.0.1:1001\"\nlog = \"warn\"\nbody_limit_bytes = 1000\n",
    );

    let config = effective(&mut spool(dir));
    assert_eq!(string(&config, "listen"), "127.0.0.1:1001");
    assert_eq!(string(&config, "log"), "warn");
    assert_eq!(config["body_limit_bytes"].as_integer(), Some(1000));
    assert_eq!(
        config["session_ttl_hours"].as_integer(),
        Some(720),
        "unset in the file: the default"
    );

    let config = effective(
        spool(dir)
            .env("SPOOL_LISTEN", "127.0.0.1:1002")
            .env("SPOOL_LOG", "debug"),
    );
    assert_eq!(string(&config, "listen"), "127.0.0.1:1002");
    assert_eq!(string(&config, "log"), "debug");
    assert_eq!(
        config["body_limit_bytes"].as_integer(),
        Some(1000),
        "unset in the env: the file's"
    );

    let config = effective(
        spool(dir)
            .env("SPOOL_LISTEN", "127.0.0.1:1002")
            .env("SPOOL_LOG", "debug")
            .args(["--listen", "127.0.0.1:1003"]),
    );
    assert_eq!(string(&config, "listen"), "127.0.0.1:1003");
    assert_eq!(string(&config, "log"), "debug", "no flag: the env's");

    // Global flags may come before or after the subcommand.
    let text = ok(spool(dir).args(["--listen", "127.0.0.1:1004", "config", "--log", "trace"]));
    assert!(
        text.contains("listen = \"127.0.0.1:1004\"") && text.contains("log = \"trace\""),
        "{text}"
    );
}

#[test]
fn the_file_is_chosen_by_flag_or_env() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(dir, "spool.toml", "listen = \"127.0.0.1:1001\"\n");
    write(dir, "a.toml", "listen = \"127.0.0.1:2001\"\n");
    write(dir, "b.toml", "listen = \"127.0.0.1:2002\"\n");
    assert_eq!(
        string(
            &effective(spool(dir).env("SPOOL_CONFIG", "a.toml")),
            "listen"
        ),
        "127.0.0.1:2001"
    );
    let config = effective(
        spool(dir)
            .env("SPOOL_CONFIG", "a.toml")
            .args(["--config", "b.toml"]),
    );
    assert_eq!(string(&config, "listen"), "127.0.0.1:2002");
}

#[test]
fn the_database_follows_the_data_dir_unless_set() {
    let dir = tempfile::tempdir().unwrap();
    let config = effective(spool(dir.path()).args(["--data-dir", "/srv/spool"]));
    assert_eq!(
        string(&config, "database_url"),
        "sqlite:///srv/spool/spool.db"
    );
    let config = effective(
        spool(dir.path())
            .env("SPOOL_DATA_DIR", "/srv/spool")
            .env("SPOOL_DATABASE_URL", "other.db"),
    );
    assert_eq!(string(&config, "database_url"), "other.db");
}

#[test]
fn database_passwords_are_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let text = ok(spool(dir.path())
        .env(
            "SPOOL_DATABASE_URL",
            "postgres://spool:hunter2@db.internal:5432/spool",
        )
        .arg("config"));
    assert!(!text.contains("hunter2"), "{text}");
    assert!(
        text.contains("postgres://spool:***@db.internal:5432/spool"),
        "{text}"
    );
}

#[test]
fn bad_values_fail_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let cases: [(&str, &str, &str); 11] = [
        (
            "--listen",
            "abc",
            "listen: invalid socket address 'abc' (from --listen)",
        ),
        (
            "SPOOL_LISTEN",
            "abc",
            "listen: invalid socket address 'abc' (from SPOOL_LISTEN)",
        ),
        (
            "SPOOL_BODY_LIMIT_BYTES",
            "lots",
            "body_limit_bytes: must be a whole number",
        ),
        (
            "--session-ttl-hours",
            "0",
            "session_ttl_hours: must be greater than 0",
        ),
        (
            "--log-format",
            "xml",
            "log_format: must be 'text' or 'json'",
        ),
        ("SPOOL_LOG", "info,=[", "log: invalid log filter"),
        (
            "SPOOL_RATE_LIMIT_PER_SECOND",
            "-1",
            "rate_limit_per_second: must be a whole number",
        ),
        (
            "--rate-limit-burst",
            "0",
            "rate_limit_burst: must be greater than 0",
        ),
        (
            "SPOOL_SIGN_IN_FAILURES_PER_EMAIL",
            "five",
            "sign_in_failures_per_email: must be a whole number",
        ),
        (
            "--sign-in-failure-window-seconds",
            "0",
            "sign_in_failure_window_seconds: must be greater than 0",
        ),
        (
            "SPOOL_DATABASE_URL",
            "mysql://h/db",
            "database_url: unsupported scheme",
        ),
    ];
    for (setting, value, expected) in cases {
        for subcommand in ["config", "serve", "migrate"] {
            let mut command = spool(dir);
            if setting.starts_with("--") {
                command.args([setting, value]);
            } else {
                command.env(setting, value);
            }
            let error = fails(command.arg(subcommand));
            assert!(
                error.contains(expected),
                "{setting}={value} {subcommand}: want {expected:?}, got {error:?}"
            );
        }
    }
    assert!(
        !dir.join("data").exists(),
        "nothing may be created before the config is valid"
    );
}

#[test]
fn file_errors_name_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    write(
        dir,
        "spool.toml",
        "listen = \"127.0.0.1:1\"\nlisen = \"127.0.0.1:2\"\n",
    );
    let error = fails(spool(dir).arg("serve"));
    assert!(
        error.contains("lisen") && error.contains("unknown field") && error.contains("spool.toml"),
        "{error}"
    );

    write(dir, "spool.toml", "session_ttl_hours = \"long\"\n");
    let error = fails(spool(dir).arg("config"));
    assert!(error.starts_with("error: session_ttl_hours: "), "{error}");

    write(dir, "spool.toml", "listen = \"nowhere\"\n");
    let error = fails(spool(dir).arg("config"));
    assert!(
        error.contains("listen: invalid socket address 'nowhere' (in ./spool.toml)"),
        "{error}"
    );

    write(dir, "spool.toml", "listen = \n");
    let error = fails(spool(dir).arg("config"));
    assert!(error.starts_with("error: config: line 1"), "{error}");

    let error = fails(spool(dir).args(["--config", "missing.toml", "config"]));
    assert!(
        error.contains("config: cannot read 'missing.toml'"),
        "{error}"
    );
}

#[test]
fn the_data_dir_is_created_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let output = ok(spool(dir.path()).args(["--data-dir", "nested/state", "migrate"]));
    assert!(output.contains("current"), "{output}");
    assert!(dir.path().join("nested/state/spool.db").exists());
}

#[test]
fn list_page_max_bytes_comes_in_layers_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = effective(&mut spool(dir));
    assert_eq!(
        config["list_page_max_bytes"].as_integer(),
        Some(4 * 1024 * 1024)
    );
    write(dir, "spool.toml", "list_page_max_bytes = 1048576\n");
    let config = effective(&mut spool(dir));
    assert_eq!(config["list_page_max_bytes"].as_integer(), Some(1_048_576));
    let config = effective(spool(dir).env("SPOOL_LIST_PAGE_MAX_BYTES", "65536"));
    assert_eq!(config["list_page_max_bytes"].as_integer(), Some(65_536));
    let error = fails(
        spool(dir)
            .env("SPOOL_LIST_PAGE_MAX_BYTES", "0")
            .arg("config"),
    );
    assert!(
        error.contains(
            "list_page_max_bytes: must be greater than 0 (from SPOOL_LIST_PAGE_MAX_BYTES)"
        ),
        "{error}"
    );
}

#[test]
fn run_leases_and_event_retention_are_settings() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = effective(&mut spool(dir));
    assert_eq!(config["run_lease_seconds"].as_integer(), Some(30));
    assert_eq!(config["run_lease_renew_seconds"].as_integer(), Some(5));
    assert_eq!(config["run_events_retention_days"].as_integer(), Some(30));
    write(
        dir,
        "spool.toml",
        "run_lease_seconds = 6\nrun_lease_renew_seconds = 1\nrun_events_retention_days = 7\n",
    );
    let config = effective(spool(dir).env("SPOOL_RUN_EVENTS_RETENTION_DAYS", "2"));
    assert_eq!(config["run_lease_seconds"].as_integer(), Some(6));
    assert_eq!(config["run_lease_renew_seconds"].as_integer(), Some(1));
    assert_eq!(config["run_events_retention_days"].as_integer(), Some(2));
    let error = fails(spool(dir).args(["--run-lease-renew-seconds", "6", "config"]));
    assert!(
        error.contains("run_lease_renew_seconds: must be less than run_lease_seconds (6)"),
        "{error}"
    );
    let error = fails(spool(dir).args(["--run-events-retention-days", "0", "config"]));
    assert!(
        error.contains("run_events_retention_days: must be greater than 0"),
        "{error}"
    );
}

#[test]
fn run_steps_and_the_tool_outputs_wait_are_settings() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = effective(&mut spool(dir));
    assert_eq!(config["run_max_steps"].as_integer(), Some(8));
    assert_eq!(
        config["tool_outputs_timeout_seconds"].as_integer(),
        Some(600)
    );
    write(
        dir,
        "spool.toml",
        "run_max_steps = 3\ntool_outputs_timeout_seconds = 60\n",
    );
    let config = effective(spool(dir).env("SPOOL_RUN_MAX_STEPS", "4"));
    assert_eq!(config["run_max_steps"].as_integer(), Some(4));
    assert_eq!(
        config["tool_outputs_timeout_seconds"].as_integer(),
        Some(60)
    );
    assert_eq!(
        config["allowed_tool_hosts"].as_array().map(Vec::len),
        Some(0),
        "none by default"
    );
    let config = effective(spool(dir).env("SPOOL_ALLOWED_TOOL_HOSTS", "127.0.0.1, tools.internal"));
    let hosts: Vec<&str> = config["allowed_tool_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["127.0.0.1", "tools.internal"]);
    let error = fails(spool(dir).args(["--run-max-steps", "0", "config"]));
    assert!(
        error.contains("run_max_steps: must be greater than 0"),
        "{error}"
    );
}

#[test]
fn the_metrics_token_is_a_secret_of_some_length() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let text = ok(spool(dir).arg("config"));
    assert!(text.contains("# metrics_token: unset"), "{text}");
    let token = "scrape-token-0123456789";
    let text = ok(spool(dir).env("SPOOL_METRICS_TOKEN", token).arg("config"));
    assert!(!text.contains(token), "{text}");
    assert!(text.contains("# metrics_token: set"), "{text}");
    let error = fails(spool(dir).args(["--metrics-token", "short", "config"]));
    assert!(
        error.contains("metrics_token: must be at least 16 characters (from --metrics-token)"),
        "{error}"
    );
}

#[test]
fn webhook_hosts_are_a_list_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let config = effective(&mut spool(dir));
    assert_eq!(
        config["allowed_webhook_hosts"].as_array().map(Vec::len),
        Some(0),
        "none by default"
    );
    write(
        dir,
        "spool.toml",
        "allowed_webhook_hosts = ['hooks.internal']\n",
    );
    let config = effective(&mut spool(dir));
    assert_eq!(
        config["allowed_webhook_hosts"][0].as_str(),
        Some("hooks.internal")
    );
    assert_eq!(
        config["allowed_tool_hosts"].as_array().map(Vec::len),
        Some(0)
    );
    let config = effective(spool(dir).env("SPOOL_ALLOWED_WEBHOOK_HOSTS", "127.0.0.1, ::1"));
    let hosts: Vec<&str> = config["allowed_webhook_hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["127.0.0.1", "::1"]);
}
