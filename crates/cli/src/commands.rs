//! The one-shot operator commands: `migrate`, `user create|list`,
//! `workspace create|list`, `key create|list|revoke`, `keys generate|rotate`, `backup`. Each prints
//! only its result to stdout; lists are tab-separated, one item a line.

use crate::cli::{
    BackupArgs, KeyCreateArgs, KeyListArgs, KeyRevokeArgs, UserCreateArgs, WorkspaceCreateArgs,
};
use crate::config::Config;
use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use spool_core::secret::Password;
use spool_core::service::{NewApiKeyInput, NewUserInput};
use spool_core::{CoreError, Spool, SpoolConfig, WorkspaceId};
use std::time::Duration;

/// Opens (and so migrates) the configured store.
pub async fn open(config: &Config) -> anyhow::Result<Spool> {
    let store = spool_store::open(config.database_url.expose())
        .await
        .with_context(|| format!("database_url: cannot open {}", config.database_url))?;
    let ttl_hours =
        i64::try_from(config.session_ttl_hours).context("session_ttl_hours: too large")?;
    let catalog = spool_providers::Catalog::from_config(&config.models)
        .map_err(|err| anyhow!("{}: {}", err.key, err.message))?;
    let (catalog, runtime) = spool_providers::core_catalog(
        &catalog,
        config.default_model.as_deref(),
        config.naming_model.as_deref(),
        config.memory_model.as_deref(),
    )
    .map_err(|err| anyhow!("{}: {}", err.key, err.message))?;
    let spool_config = SpoolConfig {
        session_ttl: chrono::Duration::hours(ttl_hours),
        sign_in_throttle: config.sign_in_throttle(),
        rate_limit: config.rate_limit(),
        list_page_max_bytes: config.list_page_max_bytes,
        catalog,
        run_lease: Duration::from_secs(config.run_lease_seconds),
        run_lease_renew: Duration::from_secs(config.run_lease_renew_seconds),
        run_events_retention: chrono::Duration::days(
            i64::try_from(config.run_events_retention_days)
                .context("run_events_retention_days: too large")?,
        ),
        run_max_steps: u32::try_from(config.run_max_steps).context("run_max_steps: too large")?,
        tool_outputs_timeout: Duration::from_secs(config.tool_outputs_timeout_seconds),
        files: config.files.settings.clone(),
        ..SpoolConfig::default()
    };
    let blobs = spool_store::blobs::ObjectBlobs::open(&config.files.storage)
        .map_err(|err| anyhow!("files: {err}"))?;
    let runtime = runtime.with_tool_caller(std::sync::Arc::new(
        spool_providers::OutboundTools::new(config.allowed_tool_hosts.iter().cloned()),
    ));
    let runtime = runtime.with_workspace_providers(
        std::sync::Arc::new(spool_providers::OutboundProviders::new(
            config.allowed_provider_hosts.iter().cloned(),
        )),
        keyring(config)?,
    );
    let webhooks = spool_providers::HttpWebhooks::new(config.allowed_webhook_hosts.iter().cloned());
    Ok(Spool::new(store, spool_config)
        .with_blobs(std::sync::Arc::new(blobs))
        .with_runtime(runtime)
        .with_webhook_sender(std::sync::Arc::new(webhooks)))
}

/// The file in the data directory holding the sealing keys of a server on
/// SQLite that configures none: one `id:base64` a line, the sealing one
/// first; made with one key at first use, readable by its owner only.
pub const KEY_FILE: &str = "encryption-keys";

/// The keys that seal workspace providers' credentials: the configured
/// ones; else, on SQLite, the data directory's key file; else none (and
/// providers that need credentials cannot be added).
pub fn keyring(config: &Config) -> anyhow::Result<spool_core::sealing::Keyring> {
    use spool_core::sealing::Keyring;
    if let Some(keys) = &config.encryption_keys {
        return Keyring::parse(&keys.0).map_err(|err| anyhow!("encryption_keys: {err}"));
    }
    if config.database_url.sqlite_path().is_none() {
        return Ok(Keyring::default());
    }
    let path = config.data_dir.join(KEY_FILE);
    if !path.exists() {
        write_key_file(&path, &Keyring::generate("local-1"))
            .with_context(|| format!("cannot create the key file {}", path.display()))?;
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let specs: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    Keyring::parse(&specs).map_err(|err| anyhow!("{}: {err}", path.display()))
}

fn write_key_file(path: &std::path::Path, key: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    writeln!(
        file,
        "# Keys sealing workspace providers' credentials (spool keys): the first seals.\n{key}"
    )?;
    file.sync_all()
}

/// `spool keys generate`: a new key for `encryption_keys`.
pub fn generate_key(id: Option<&str>) -> anyhow::Result<()> {
    let id = id
        .map(str::to_owned)
        .unwrap_or_else(|| Utc::now().format("%Y%m%d%H%M%S").to_string());
    let key = spool_core::sealing::Keyring::generate(&id);
    spool_core::sealing::Keyring::parse(&[&key]).map_err(|err| anyhow!("--id: {err}"))?;
    println!("{key}");
    Ok(())
}

/// `spool keys rotate`: re-seals with the first key everything an older
/// key sealed; prints how many, and fails naming any it could not open.
pub async fn rotate_keys(config: &Config) -> anyhow::Result<()> {
    let spool = open(config).await?;
    let rotation = spool.rotate_provider_keys().await.map_err(explain)?;
    println!("resealed\t{}", rotation.resealed);
    if !rotation.failed.is_empty() {
        let failed: Vec<String> = rotation
            .failed
            .iter()
            .map(|(id, why)| format!("provider {id}: {why}"))
            .collect();
        return Err(anyhow!(
            "{} could not be re-sealed: {}",
            failed.len(),
            failed.join("; ")
        ));
    }
    Ok(())
}

/// One line for the operator: each invalid field with its problems, or the
/// error with its causes.
pub fn explain(err: CoreError) -> anyhow::Error {
    match err {
        CoreError::Validation(errors) => {
            let fields: Vec<String> = errors
                .0
                .iter()
                .map(|(field, messages)| format!("{field}: {}", messages.join(" ")))
                .collect();
            anyhow!("invalid input: {}", fields.join("; "))
        }
        other => anyhow::Error::new(other),
    }
}

pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let spool = open(config).await?;
    spool
        .store()
        .ping()
        .await
        .context("database_url: the database does not answer")?;
    println!(
        "The {} schema at {} is current: pending migrations, if any, have been applied.",
        spool.store().backend(),
        config.database_url
    );
    Ok(())
}

pub async fn create_user(config: &Config, args: UserCreateArgs) -> anyhow::Result<()> {
    let spool = open(config).await?;
    let input = NewUserInput {
        email: args.email,
        password: Password::new(args.password),
        name: args.name,
        first_name: args.first_name,
        last_name: args.last_name,
    };
    let user = spool.create_user(input).await.map_err(explain)?;
    println!("{} {}", user.id, user.email);
    Ok(())
}

pub async fn create_workspace(config: &Config, args: WorkspaceCreateArgs) -> anyhow::Result<()> {
    let spool = open(config).await?;
    let email = args.owner.trim().to_lowercase();
    let owner = spool.store().user_by_email(&email).await?;
    let owner = owner.ok_or_else(|| {
        anyhow!(
            "invalid input: owner: no user has the email '{}'",
            args.owner.trim()
        )
    })?;
    let workspace = spool
        .create_workspace_as_operator(owner.id, &args.name)
        .await
        .map_err(explain)?;
    println!("{}", workspace.id);
    Ok(())
}

pub async fn create_key(config: &Config, args: KeyCreateArgs) -> anyhow::Result<()> {
    let mut problems = Vec::new();
    let workspace = WorkspaceId::parse(args.workspace.trim());
    if workspace.is_none() {
        problems.push(format!("workspace: '{}' is not a UUID", args.workspace));
    }
    let expires_at = match args
        .expires_at
        .as_deref()
        .map(|at| DateTime::parse_from_rfc3339(at.trim()))
    {
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        Some(Err(err)) => {
            problems.push(format!("expires_at: not an RFC 3339 date-time ({err})"));
            None
        }
        None => None,
    };
    let Some(workspace) = workspace.filter(|_| problems.is_empty()) else {
        return Err(anyhow!("invalid input: {}", problems.join("; ")));
    };
    let spool = open(config).await?;
    let input = NewApiKeyInput {
        name: args.name,
        expires_at,
    };
    let created = spool
        .create_api_key_as_operator(workspace, input)
        .await
        .map_err(explain)?;
    println!("{}", created.token.expose());
    Ok(())
}

/// Rows a listing reads at a time: memory stays flat however many there are.
const LIST_BATCH: u32 = 500;

/// An optional time as a list shows it: RFC 3339, or `-`.
fn shown(at: Option<chrono::DateTime<Utc>>) -> String {
    at.map_or_else(|| "-".to_owned(), |at| at.to_rfc3339())
}

fn workspace_arg(text: &str) -> anyhow::Result<WorkspaceId> {
    WorkspaceId::parse(text.trim())
        .ok_or_else(|| anyhow!("invalid input: workspace: '{text}' is not a UUID"))
}

pub async fn list_users(config: &Config) -> anyhow::Result<()> {
    let spool = open(config).await?;
    let mut after = None;
    loop {
        let users = spool.store().users_after(after, LIST_BATCH).await?;
        let Some(last) = users.last() else { break };
        after = Some(last.id);
        for user in &users {
            println!(
                "{}\t{}\t{}\t{}",
                user.id,
                user.email,
                user.name,
                user.created_at.to_rfc3339()
            );
        }
    }
    Ok(())
}

pub async fn list_workspaces(config: &Config) -> anyhow::Result<()> {
    let spool = open(config).await?;
    let mut after = None;
    loop {
        let workspaces = spool.store().workspaces_after(after, LIST_BATCH).await?;
        let Some(last) = workspaces.last() else {
            break;
        };
        after = Some(last.id);
        for workspace in &workspaces {
            println!(
                "{}\t{}\t{}\t{}",
                workspace.id,
                workspace.slug,
                workspace.name,
                workspace.created_at.to_rfc3339()
            );
        }
    }
    Ok(())
}

pub async fn list_keys(config: &Config, args: KeyListArgs) -> anyhow::Result<()> {
    let workspace = workspace_arg(&args.workspace)?;
    let spool = open(config).await?;
    if spool.store().workspace(workspace).await?.is_none() {
        return Err(anyhow!(
            "invalid input: workspace: no workspace has the uuid {workspace}"
        ));
    }
    let now = Utc::now();
    let mut page = spool_core::paging::PageRequest {
        page: 1,
        per_page: LIST_BATCH,
    };
    loop {
        let keys = spool.store().list_api_keys(workspace, page).await?;
        for key in &keys.items {
            let state = if key.revoked_at.is_some() {
                "revoked"
            } else if key.is_active(now) {
                "active"
            } else {
                "expired"
            };
            println!(
                "{}\t{}\t{}\t{}\t{}\t{state}",
                key.id,
                key.prefix,
                key.name,
                key.created_at.to_rfc3339(),
                shown(key.last_used_at),
            );
        }
        if page.offset() + u64::from(page.per_page) >= keys.total {
            return Ok(());
        }
        page.page += 1;
    }
}

pub async fn revoke_key(config: &Config, args: KeyRevokeArgs) -> anyhow::Result<()> {
    let workspace = workspace_arg(&args.workspace)?;
    let key = spool_core::ApiKeyId::parse(args.key.trim())
        .ok_or_else(|| anyhow!("invalid input: key: '{}' is not a UUID", args.key))?;
    let spool = open(config).await?;
    let Some(found) = spool.store().api_key(workspace, key).await? else {
        return Err(anyhow!(
            "invalid input: key: the workspace {workspace} has no key {key}"
        ));
    };
    if found.revoked_at.is_some() {
        println!("{key} was already revoked");
        return Ok(());
    }
    spool
        .store()
        .revoke_api_key(workspace, key, Utc::now())
        .await?;
    println!("{key} revoked");
    Ok(())
}

/// `VACUUM INTO` on SQLite; PostgreSQL has its own tools (docs/operations.md).
pub fn backup(config: &Config, args: &BackupArgs) -> anyhow::Result<()> {
    let url = config.database_url.expose();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(anyhow!(
            "database_url: spool backup copies SQLite databases; back up PostgreSQL with pg_dump or pg_basebackup (docs/operations.md)"
        ));
    }
    let bytes = spool_store::sqlite::backup(url, &args.path)
        .with_context(|| format!("backup to {}", args.path.display()))?;
    println!("{}\t{bytes} bytes", args.path.display());
    Ok(())
}
