//! `spool`: the server and its operator commands. Configuration is resolved
//! and validated before anything else runs (see docs/configuration.md).

mod bootstrap;
mod cli;
mod commands;
mod config;
mod connections;
mod database_lock;
mod logging;
mod open_files;
mod serve;
mod transfer;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, KeyCommand, KeysCommand, UserCommand, WorkspaceCommand};
use std::process::ExitCode;
use std::time::Duration;

/// How long a one-shot command waits for another process to release a
/// SQLite database: enough for a server that was just told to stop, or
/// another command, to finish; a running server holds it for good.
const COMMAND_PATIENCE: Duration = Duration::from_secs(5);

/// jemalloc, not glibc's malloc: after 16 clients had read pages of big
/// messages at once, glibc kept every byte it had handed out (its mmap
/// threshold rises with each large free, so later large blocks come from
/// per-thread arenas that it does not give back); jemalloc returns what was
/// freed within a second (options in `.cargo/config.toml`; measured by
/// `scripts/bench --memory`, bench/results/2026-12-01-memory.md).
#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    match run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, causes included, for people and for scripts.
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let config = config::load(cli.settings, matches)?;
    if let Command::Config = cli.command {
        print!("{}", config.to_toml());
        return Ok(());
    }
    if let Command::Keys(KeysCommand::Generate { id }) = &cli.command {
        return commands::generate_key(id.as_deref());
    }
    logging::init(&config)?;
    config.ensure_data_dir()?;
    // Held until `run` returns: a second server on the same SQLite file is
    // refused at once; a command waits a little for the file first.
    let (holder, patience) = match &cli.command {
        Command::Serve(_) => ("spool serve", Duration::ZERO),
        Command::Migrate => ("spool migrate", COMMAND_PATIENCE),
        Command::Config => ("spool config", Duration::ZERO),
        Command::User(_) => ("spool user", COMMAND_PATIENCE),
        Command::Workspace(_) => ("spool workspace", COMMAND_PATIENCE),
        Command::Key(_) => ("spool key", COMMAND_PATIENCE),
        Command::Keys(_) => ("spool keys", COMMAND_PATIENCE),
        Command::Export(_) => ("spool export", COMMAND_PATIENCE),
        Command::Import(_) => ("spool import", COMMAND_PATIENCE),
        // Copies a live database: it takes a read snapshot, not the lock.
        Command::Backup(args) => return commands::backup(&config, args),
    };
    let _database = database_lock::hold(&config.database_url, holder, patience)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(&config, args).await,
            Command::Migrate => commands::migrate(&config).await,
            Command::Config => Ok(()),
            Command::User(UserCommand::Create(args)) => commands::create_user(&config, args).await,
            Command::User(UserCommand::List) => commands::list_users(&config).await,
            Command::Workspace(WorkspaceCommand::Create(args)) => {
                commands::create_workspace(&config, args).await
            }
            Command::Workspace(WorkspaceCommand::List) => commands::list_workspaces(&config).await,
            Command::Key(KeyCommand::Create(args)) => commands::create_key(&config, args).await,
            Command::Key(KeyCommand::List(args)) => commands::list_keys(&config, args).await,
            Command::Key(KeyCommand::Revoke(args)) => commands::revoke_key(&config, args).await,
            Command::Keys(KeysCommand::Rotate) => commands::rotate_keys(&config).await,
            Command::Keys(KeysCommand::Generate { .. }) => Ok(()),
            Command::Export(args) => transfer::export(&config, args).await,
            Command::Import(args) => transfer::import(&config, args).await,
            Command::Backup(_) => Ok(()),
        }
    })
}
