//! PostgreSQL's own ceiling on this machine, measured in the same run as
//! spool: `pgbench` TPC-B-like (one small write transaction each: three
//! UPDATEs, a SELECT and an INSERT, durable) and select-only, 16 clients, in
//! a database of its own on the same cluster, scale = clients. S2 (create message) is set
//! against the TPC-B figure: both are one durable transaction per request.

use anyhow::{Context, bail};
use std::process::Command;
use std::time::Duration;

pub struct PgBench {
    pub clients: usize,
    pub duration: Duration,
    /// TPC-B-like transactions per second (`synchronous_commit` on).
    pub tpcb_tps: f64,
    /// Select-only transactions per second.
    pub select_tps: f64,
}

fn bin(name: &str) -> String {
    std::env::var("PG_CLUSTER_BIN").map_or_else(|_| name.into(), |b| format!("{b}/{name}"))
}

fn run(program: &str, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(bin(program))
        .args(args)
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!("{program}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `tps = 3456.7 (without initial connection time)` in pgbench's report.
fn tps(report: &str) -> anyhow::Result<f64> {
    report
        .lines()
        .find_map(|line| {
            line.strip_prefix("tps = ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .with_context(|| format!("no tps in pgbench's report:\n{report}"))
}

/// Runs both tests in a scratch database beside the one `url` names (the
/// URL's last path segment is replaced), dropped afterwards.
pub fn measure(url: &str, clients: usize, duration: Duration) -> anyhow::Result<PgBench> {
    let (server, _) = url.rsplit_once('/').context("a database URL")?;
    let admin = format!("{server}/postgres");
    let name = format!("spool_pgbench_{}", std::process::id());
    let scratch = format!("{server}/{name}");
    run(
        "psql",
        &["-qAtX", &admin, "-c", &format!("CREATE DATABASE {name}")],
    )?;
    let measured = (|| {
        // One branch row per client: at scale 1 every TPC-B transaction
        // updates the same pgbench_branches row and the clients queue on it.
        let (c, seconds) = (clients.to_string(), duration.as_secs().max(1).to_string());
        run("pgbench", &["-i", "-q", "-s", &c, &scratch])?;
        let jobs = "2";
        let tpcb = tps(&run(
            "pgbench",
            &["-n", "-c", &c, "-j", jobs, "-T", &seconds, &scratch],
        )?)?;
        let select = tps(&run(
            "pgbench",
            &["-n", "-S", "-c", &c, "-j", jobs, "-T", &seconds, &scratch],
        )?)?;
        Ok(PgBench {
            clients,
            duration,
            tpcb_tps: tpcb,
            select_tps: select,
        })
    })();
    let _ = run(
        "psql",
        &[
            "-qAtX",
            &admin,
            "-c",
            &format!("DROP DATABASE IF EXISTS {name}"),
        ],
    );
    measured
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_tps_line() {
        let report = "number of failed transactions: 0 (0.000%)\n\
                      latency average = 4.613 ms\n\
                      initial connection time = 12.345 ms\n\
                      tps = 3468.102 (without initial connection time)\n";
        assert_eq!(super::tps(report).unwrap(), 3468.102);
        assert!(super::tps("nothing").is_err());
    }
}
