//! S9: what open run streams cost PostgreSQL. `n` streamed runs at once
//! (`bench-slow`: 20 chunks 200 ms apart), and meanwhile the database's
//! committed transactions (`pg_stat_database.xact_commit`) and the CPU time
//! of every `postgres` process. A node writes the events of all its runs in
//! one statement per turn, so the cost should grow with the turns, not the
//! streams.

use crate::streams::{self, Target};
use anyhow::{Context, bail};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct StreamCost {
    pub streams: usize,
    /// From the first request to the last stream's end.
    pub elapsed: Duration,
    pub commits: u64,
    /// CPU seconds of all `postgres` processes over `elapsed`.
    pub cpu_seconds: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl StreamCost {
    pub fn commits_per_second(&self) -> f64 {
        self.commits as f64 / self.elapsed.as_secs_f64()
    }

    /// Share of one core, in percent.
    pub fn cpu_percent(&self) -> f64 {
        100.0 * self.cpu_seconds / self.elapsed.as_secs_f64()
    }
}

/// The database's committed transactions so far, through `psql`
/// (`$PG_CLUSTER_BIN/psql`, as scripts/bench sets it, else `psql`).
fn commits(url: &str) -> anyhow::Result<u64> {
    let psql =
        std::env::var("PG_CLUSTER_BIN").map_or_else(|_| "psql".into(), |b| format!("{b}/psql"));
    let out = Command::new(&psql)
        .args(["-qAtX", url, "-c"])
        .arg("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        .output()
        .with_context(|| format!("running {psql}"))?;
    if !out.status.success() {
        bail!("psql: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// CPU seconds used so far by every process named `postgres` (user and
/// system time; /proc counts in USER_HZ, 100 a second on Linux).
fn postgres_cpu() -> f64 {
    let mut ticks = 0u64;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    for entry in entries.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if !head.ends_with("(postgres") {
            continue;
        }
        // Fields after the name: state is the 3rd field; utime, stime the 14th and 15th.
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
        ticks += field(14).unwrap_or(0) + field(15).unwrap_or(0);
    }
    ticks as f64 / 100.0
}

/// A busy backend reports its commits to the statistics at most once a
/// second, an idle one within 10 s: `settle` (11 s, except in a smoke run)
/// is waited out before and after, so that the window holds the streams'
/// commits and no others.
pub async fn measure(
    target: Target,
    n: usize,
    spool_pid: u32,
    url: &str,
    settle: Duration,
) -> anyhow::Result<StreamCost> {
    tokio::time::sleep(settle).await;
    let (commits_before, cpu_before) = (commits(url)?, postgres_cpu());
    let began = Instant::now();
    let open = streams::hold_open(target, n, spool_pid).await;
    let elapsed = began.elapsed();
    let cpu_seconds = postgres_cpu() - cpu_before;
    tokio::time::sleep(settle).await;
    let commits = commits(url)?.saturating_sub(commits_before);
    Ok(StreamCost {
        streams: n,
        elapsed,
        commits,
        cpu_seconds,
        errors: open.errors,
        first_error: open.first_error,
    })
}
