//! `spool serve`: raise the open-file limit, bind, bootstrap an empty
//! database, serve until SIGINT or SIGTERM, then let in-flight requests
//! finish. (`main` has already taken the SQLite database's lock.)

use crate::bootstrap::{self, Admin};
use crate::cli::ServeArgs;
use crate::commands;
use crate::config::Config;
use crate::connections::{self, Limits};
use crate::open_files;
use anyhow::Context;
use spool_http::HttpConfig;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<()> {
    let files = open_files::raise();
    files.log();
    let max_connections =
        files.max_connections(config.max_connections, &config.max_connections_origin)?;
    let limits = Limits {
        header_read: Duration::from_secs(config.header_read_timeout_seconds),
        idle: Duration::from_secs(config.idle_timeout_seconds),
        max_connections: u32::try_from(max_connections).unwrap_or(u32::MAX),
    };
    // Bind first: a taken port fails before anything is written.
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listen: cannot bind {}", config.listen))?;
    let addr = listener.local_addr().context("listen: no local address")?;
    let spool = commands::open(config).await?;
    bootstrap::first_start(&spool, Admin::from_env(args.admin_email), addr).await?;
    // One SQLite node owns its runs: any left unfinished died with the last
    // process, so it ends them now. (Several PostgreSQL nodes share runs:
    // those of a node that stopped end when their lease runs out, below.)
    if spool.store().backend() == "sqlite" {
        let failed = spool
            .fail_abandoned_runs()
            .await
            .map_err(commands::explain)?;
        if failed > 0 {
            tracing::warn!(
                failed,
                "marked runs left unfinished by the previous process as failed"
            );
        }
    }

    // Leases on this node's runs, the end of runs whose node stopped, and
    // the retention of run events.
    tokio::spawn(spool.clone().serve_runs());
    // The webhook outbox: due deliveries, sent and retried.
    tokio::spawn(spool.clone().serve_webhooks());
    // Files no message refers to, past their grace period.
    tokio::spawn(spool.clone().serve_file_sweep());

    let backend = spool.store().backend();
    let http = HttpConfig {
        body_limit_bytes: config.body_limit_bytes,
        metrics_token: config.metrics_token.as_ref().map(|t| t.hash()),
    };
    let app = spool_http::app(spool, http);
    let shutdown = shutdown_signal().context("cannot listen for SIGTERM")?;
    tracing::info!(
        max_connections,
        header_read_timeout_seconds = config.header_read_timeout_seconds,
        idle_timeout_seconds = config.idle_timeout_seconds,
        "connections: at most {max_connections} at once"
    );
    tracing::info!(%addr, backend, "listening on {addr}");
    connections::serve(listener, app, limits, shutdown).await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on the first SIGINT or SIGTERM. A second one stops at once,
/// for when a client holds a connection open longer than the operator waits.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(
            signal = name,
            "shutting down; waiting for in-flight requests to finish"
        );
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {},
                _ = int.recv() => {},
            }
            tracing::warn!("second signal: stopping without waiting");
            std::process::exit(1);
        });
    })
}
