//! The command line. Settings are `Option`s with no clap defaults: a value
//! left unset here must not hide the one from the config file; defaults are
//! applied last, in `config`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "spool",
    version,
    about = "The spool server and its operator commands"
)]
pub struct Cli {
    /// Listed after each command's own flags, under their own heading.
    #[command(
        flatten,
        next_help_heading = "Settings (every command; also SPOOL_* and spool.toml)"
    )]
    pub settings: SettingArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Settings every subcommand accepts. Each also comes from `SPOOL_*` and the
/// TOML file; see docs/configuration.md.
#[derive(Debug, Default, Args)]
pub struct SettingArgs {
    /// TOML config file [default: ./spool.toml, when it exists]
    #[arg(long, env = "SPOOL_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory for spool's files, created when missing [default: ./data]
    #[arg(long, env = "SPOOL_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// sqlite://PATH or postgres://… [default: sqlite://<data-dir>/spool.db]
    #[arg(
        long,
        env = "SPOOL_DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Address to serve on; port 0 picks a free one [default: 127.0.0.1:8080]
    #[arg(long, env = "SPOOL_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Largest request body accepted, in bytes [default: 2097152]
    #[arg(
        long,
        env = "SPOOL_BODY_LIMIT_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub body_limit_bytes: Option<String>,

    /// Most bytes of messages one list page holds; a fuller page stops early [default: 4194304]
    #[arg(
        long,
        env = "SPOOL_LIST_PAGE_MAX_BYTES",
        global = true,
        value_name = "BYTES"
    )]
    pub list_page_max_bytes: Option<String>,

    /// How long a sign-in session lasts, in hours [default: 720]
    #[arg(
        long,
        env = "SPOOL_SESSION_TTL_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub session_ttl_hours: Option<String>,

    /// Failed sign-ins per email before 429; 0 turns this budget off [default: 5]
    #[arg(
        long,
        env = "SPOOL_SIGN_IN_FAILURES_PER_EMAIL",
        global = true,
        value_name = "N"
    )]
    pub sign_in_failures_per_email: Option<String>,

    /// Failed sign-ins per client address before 429; 0 turns this budget off [default: 50]
    #[arg(
        long,
        env = "SPOOL_SIGN_IN_FAILURES_PER_ADDRESS",
        global = true,
        value_name = "N"
    )]
    pub sign_in_failures_per_address: Option<String>,

    /// The window the sign-in failure budgets refill over, in seconds [default: 900]
    #[arg(
        long,
        env = "SPOOL_SIGN_IN_FAILURE_WINDOW_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub sign_in_failure_window_seconds: Option<String>,

    /// Requests per second each credential may make; 0 turns limiting off [default: 100]
    #[arg(
        long,
        env = "SPOOL_RATE_LIMIT_PER_SECOND",
        global = true,
        value_name = "N"
    )]
    pub rate_limit_per_second: Option<String>,

    /// Requests a credential may make at once after a quiet spell [default: 400]
    #[arg(long, env = "SPOOL_RATE_LIMIT_BURST", global = true, value_name = "N")]
    pub rate_limit_burst: Option<String>,

    /// Seconds a client may take to send a whole request head [default: 10]
    #[arg(
        long,
        env = "SPOOL_HEADER_READ_TIMEOUT_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub header_read_timeout_seconds: Option<String>,

    /// Seconds a kept-alive connection may wait for its next request [default: 60]
    #[arg(
        long,
        env = "SPOOL_IDLE_TIMEOUT_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub idle_timeout_seconds: Option<String>,

    /// Seconds a node's lease on a run it executes lasts unrenewed; then any node ends the run [default: 30]
    #[arg(
        long,
        env = "SPOOL_RUN_LEASE_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub run_lease_seconds: Option<String>,

    /// Seconds between a node's renewals of its run leases [default: 5]
    #[arg(
        long,
        env = "SPOOL_RUN_LEASE_RENEW_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub run_lease_renew_seconds: Option<String>,

    /// Days a run's events are kept for re-attaching [default: 30]
    #[arg(
        long,
        env = "SPOOL_RUN_EVENTS_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub run_events_retention_days: Option<String>,

    /// Most model steps (a model call and its tool calls) one run takes [default: 8]
    #[arg(long, env = "SPOOL_RUN_MAX_STEPS", global = true, value_name = "N")]
    pub run_max_steps: Option<String>,

    /// Seconds a run waits in requires_action for tool outputs before it fails [default: 600]
    #[arg(
        long,
        env = "SPOOL_TOOL_OUTPUTS_TIMEOUT_SECONDS",
        global = true,
        value_name = "SECONDS"
    )]
    pub tool_outputs_timeout_seconds: Option<String>,

    /// Connections served at once; more are answered 503 [default: from the open-file limit]
    #[arg(long, env = "SPOOL_MAX_CONNECTIONS", global = true, value_name = "N")]
    pub max_connections: Option<String>,

    /// Hosts or addresses http tools may reach although they are not public (comma-separated) [default: none]
    #[arg(
        long,
        env = "SPOOL_ALLOWED_TOOL_HOSTS",
        global = true,
        value_name = "HOSTS"
    )]
    pub allowed_tool_hosts: Option<String>,

    /// Hosts or addresses webhooks may be sent to although they are not public (comma-separated) [default: none]
    #[arg(
        long,
        env = "SPOOL_ALLOWED_WEBHOOK_HOSTS",
        global = true,
        value_name = "HOSTS"
    )]
    pub allowed_webhook_hosts: Option<String>,

    /// Hosts or addresses workspace providers may reach although they are not public (comma-separated) [default: none]
    #[arg(
        long,
        env = "SPOOL_ALLOWED_PROVIDER_HOSTS",
        global = true,
        value_name = "HOSTS"
    )]
    pub allowed_provider_hosts: Option<String>,

    /// Keys sealing workspace providers' credentials, `id:base64` (32 bytes, `spool keys generate`), comma-separated, the sealing one first [default: on SQLite, a key file made in the data directory]
    #[arg(
        long,
        env = "SPOOL_ENCRYPTION_KEYS",
        global = true,
        value_name = "KEYS",
        hide_env_values = true
    )]
    pub encryption_keys: Option<String>,

    /// Bearer token GET /metrics asks for, at least 16 characters; better from the environment [default: none, /metrics answers 404]
    #[arg(
        long,
        env = "SPOOL_METRICS_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,

    /// Model for runs that name none [default: echo]
    #[arg(long, env = "SPOOL_DEFAULT_MODEL", global = true, value_name = "NAME")]
    pub default_model: Option<String>,

    /// Model that writes thread titles [default: each thread's own model]
    #[arg(long, env = "SPOOL_NAMING_MODEL", global = true, value_name = "NAME")]
    pub naming_model: Option<String>,

    /// Log filter, tracing-subscriber EnvFilter syntax [default: info]
    #[arg(long, env = "SPOOL_LOG", global = true, value_name = "FILTER")]
    pub log: Option<String>,

    /// Log format: text or json [default: text]
    #[arg(long, env = "SPOOL_LOG_FORMAT", global = true, value_name = "FORMAT")]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API; on an empty database, first create an owner and a workspace
    Serve(ServeArgs),
    /// Apply pending database migrations and report the schema version
    Migrate,
    /// Print the effective configuration as TOML (secrets redacted)
    Config,
    /// Manage users
    #[command(subcommand)]
    User(UserCommand),
    /// Manage workspaces
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage API keys
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage the keys that seal workspace providers' credentials
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy a SQLite database to PATH while the server keeps running (VACUUM INTO)
    Backup(BackupArgs),
    /// Write the database, or one workspace, as JSON Lines (to stdout unless --output)
    Export(ExportArgs),
    /// Add the JSON Lines of `spool export` to the database, in one transaction
    Import(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random key as `encryption_keys` takes it (`ID:base64`)
    Generate {
        /// The key's id, stored beside everything it seals [default: the date and time]
        #[arg(long, value_name = "ID")]
        id: Option<String>,
    },
    /// Re-seal every credential an older key sealed with the first key of `encryption_keys`
    Rotate,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only this workspace and the users, agents and threads it holds [default: everything]
    #[arg(long, value_name = "UUID")]
    pub workspace: Option<String>,
    /// Include users' password hashes (argon2id); without them imported users cannot sign in
    #[arg(long)]
    pub include_password_hashes: bool,
    /// Write to this new file instead of stdout (an existing file is refused)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file `spool export` wrote; `-` or none reads stdin
    #[arg(value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where the copy goes: a new file (an existing one is refused)
    #[arg(value_name = "PATH")]
    pub path: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Email of the owner created on first start [default: admin@localhost]
    #[arg(long, env = "SPOOL_ADMIN_EMAIL", value_name = "EMAIL")]
    pub admin_email: Option<String>,
    // The owner's password comes from SPOOL_ADMIN_PASSWORD only (see bootstrap).
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints its id and email
    Create(UserCreateArgs),
    /// List every user: id, email, name, created_at (tab-separated, one a line)
    List,
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// The user's email, their sign-in name (compared case-insensitively)
    #[arg(long)]
    pub email: String,
    /// Prefer SPOOL_USER_PASSWORD: a flag is visible to other local users
    #[arg(long, env = "SPOOL_USER_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// Display name
    #[arg(long)]
    pub name: String,
    /// Given name, optional
    #[arg(long)]
    pub first_name: Option<String>,
    /// Family name, optional
    #[arg(long)]
    pub last_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace owned by an existing user; prints its uuid
    Create(WorkspaceCreateArgs),
    /// List every workspace: uuid, slug, name, created_at (tab-separated, one a line)
    List,
}

#[derive(Debug, Args)]
pub struct WorkspaceCreateArgs {
    /// The workspace's display name
    #[arg(long)]
    pub name: String,
    /// Email of the user who will own it
    #[arg(long, value_name = "EMAIL")]
    pub owner: String,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key held by the workspace's owner; prints only the key
    Create(KeyCreateArgs),
    /// List a workspace's API keys: uuid, prefix, name, created, last used, state
    List(KeyListArgs),
    /// Revoke an API key: it stops working at once
    Revoke(KeyRevokeArgs),
}

#[derive(Debug, Args)]
pub struct KeyListArgs {
    /// The workspace's uuid
    #[arg(long, value_name = "UUID")]
    pub workspace: String,
}

#[derive(Debug, Args)]
pub struct KeyRevokeArgs {
    /// The workspace's uuid
    #[arg(long, value_name = "UUID")]
    pub workspace: String,
    /// The key's uuid (the first column of `spool key list`)
    #[arg(value_name = "KEY_UUID")]
    pub key: String,
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// The workspace's uuid
    #[arg(long, value_name = "UUID")]
    pub workspace: String,
    /// What the key is for, shown in lists
    #[arg(long)]
    pub name: String,
    /// When the key stops working, RFC 3339 (e.g. 2030-01-01T00:00:00Z)
    #[arg(long, value_name = "RFC3339")]
    pub expires_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every flag and argument of every command says what it is, and a
    /// command's help lists its own flags before the settings all share.
    #[test]
    fn every_command_documents_its_flags_first() {
        fn walk(command: &mut clap::Command, path: &str) {
            let path = format!("{path} {}", command.get_name());
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if ["help", "version"].contains(&id) {
                    continue;
                }
                assert!(
                    arg.get_help().is_some(),
                    "{path}: --{id} has no description"
                );
            }
            let own: Vec<String> = command
                .get_arguments()
                .filter(|a| !a.is_global_set() && a.get_help_heading().is_none())
                .filter(|a| !["help", "version"].contains(&a.get_id().as_str()))
                .map(|a| {
                    a.get_long()
                        .map_or_else(|| a.get_id().to_string().to_uppercase(), str::to_owned)
                })
                .collect();
            let help = command.render_help().to_string();
            let settings = help.find("Settings (every command").unwrap_or(help.len());
            for name in own {
                let at = help
                    .find(&name)
                    .unwrap_or_else(|| panic!("{path}: {name} not in\n{help}"));
                assert!(
                    at < settings,
                    "{path}: {name} comes after the shared settings\n{help}"
                );
            }
            for sub in command.get_subcommands_mut() {
                walk(sub, &path);
            }
        }
        let mut command = Cli::command();
        command.build();
        walk(&mut command, "");
    }
}
