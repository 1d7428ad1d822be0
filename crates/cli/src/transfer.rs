//! `spool export` and `spool import`: JSON Lines to stdout or a file, and
//! back (see `spool_store::transfer`). Progress goes to stderr when it is a
//! terminal.

use crate::cli::{ExportArgs, ImportArgs};
use crate::config::Config;
use anyhow::{Context, anyhow};
use spool_core::WorkspaceId;
use spool_store::transfer::{self, ExportOptions, Progress};
use std::io::{BufReader, BufWriter, IsTerminal, Write};

fn progress(verb: &'static str) -> Progress {
    if std::io::stderr().is_terminal() {
        Box::new(move |rows| eprint!("\r{verb} {rows} rows"))
    } else {
        Box::new(|_| {})
    }
}

fn done(verb: &str, rows: u64) {
    if std::io::stderr().is_terminal() {
        eprintln!("\r{verb} {rows} rows");
    }
}

pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let workspace = args
        .workspace
        .as_deref()
        .map(|text| {
            WorkspaceId::parse(text)
                .ok_or_else(|| anyhow!("invalid input: workspace: '{text}' is not a UUID"))
        })
        .transpose()?;
    let url = config.database_url.expose();
    if let Some(id) = workspace {
        let store = spool_store::open(url)
            .await
            .with_context(|| format!("database_url: cannot open {}", config.database_url))?;
        if store.workspace(id).await?.is_none() {
            return Err(anyhow!("invalid input: workspace: no workspace {id}"));
        }
    }
    let out: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            // A new file only, like `spool backup`: an export never replaces one.
            let file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("output: cannot create {}", path.display()))?;
            Box::new(BufWriter::new(file))
        }
        None => Box::new(BufWriter::new(std::io::stdout())),
    };
    let options = ExportOptions {
        workspace,
        password_hashes: args.include_password_hashes,
    };
    let rows = transfer::export(url, options, out, progress("exported"))
        .await
        .context("export")?;
    done("exported", rows);
    Ok(())
}

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let input: Box<dyn std::io::BufRead + Send> = match &args.file {
        Some(path) if path.as_os_str() != "-" => Box::new(BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        )),
        _ => Box::new(BufReader::new(std::io::stdin())),
    };
    let url = config.database_url.expose();
    let rows = transfer::import(url, input, progress("imported"))
        .await
        .context("import")?;
    done("imported", rows);
    println!("imported {rows} rows");
    Ok(())
}
