//! `spool`: the server and its operator commands. Configuration is resolved
//! and validated before anything else runs (see docs/configuration.md).

mod bootstrap;
mod cli;
mod commands;
mod config;
mod connections;
mod logging;
mod open_files;
mod serve;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, KeyCommand, UserCommand, WorkspaceCommand};
use std::process::ExitCode;

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
    logging::init(&config)?;
    config.ensure_data_dir()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(&config, args).await,
            Command::Migrate => commands::migrate(&config).await,
            Command::Config => Ok(()),
            Command::User(UserCommand::Create(args)) => commands::create_user(&config, args).await,
            Command::Workspace(WorkspaceCommand::Create(args)) => {
                commands::create_workspace(&config, args).await
            }
            Command::Key(KeyCommand::Create(args)) => commands::create_key(&config, args).await,
        }
    })
}
