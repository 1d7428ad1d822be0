//! The one-shot operator commands: `migrate`, `user create`,
//! `workspace create`, `key create`. Each prints only its result to stdout.

use crate::cli::{KeyCreateArgs, UserCreateArgs, WorkspaceCreateArgs};
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
        ..SpoolConfig::default()
    };
    let runtime = runtime.with_http_tools(std::sync::Arc::new(spool_providers::HttpTools::new(
        config.allowed_tool_hosts.iter().cloned(),
    )));
    Ok(Spool::new(store, spool_config).with_runtime(runtime))
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
