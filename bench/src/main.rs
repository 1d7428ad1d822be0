//! `spool-bench`: the load generator and the suite behind `scripts/bench`.
//!
//!     spool-bench suite --spool target/release/spool --baseline target/release/spool-baseline \
//!         --out bench/results/2026-11-23-sqlite.md
//!     spool-bench run --addr 127.0.0.1:8080 --key spk_… --path /api/v1/threads -c 64
//!     spool-bench memory --spool target/release/spool --out bench/results/2026-12-02-memory.md

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use spool_bench::load::{self, Plan, Shape, Template};
use spool_bench::report::{self, Header};
use spool_bench::scenarios::Scenario;
use spool_bench::seed::Sizes;
use spool_bench::suite::{self, Options};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "spool-bench",
    about = "Load generator and benchmark suite for spool"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed, run every scenario against spool and the baseline, write the results
    Suite(SuiteArgs),
    /// Load one running server with one request, and print the figures
    Run(RunArgs),
    /// Big messages read by many clients at once: spool's peak and settled RSS
    Memory(MemoryArgs),
    /// One big file upload: spool's idle and peak RSS while it streams in
    Upload(UploadArgs),
}

#[derive(Parser)]
struct UploadArgs {
    #[arg(long)]
    spool: PathBuf,
    /// Size of the file
    #[arg(long, default_value_t = 1024)]
    mib: u64,
}

#[derive(Parser)]
struct MemoryArgs {
    #[arg(long)]
    spool: PathBuf,
    /// PostgreSQL database to use (created empty by the caller); SQLite when absent
    #[arg(long)]
    postgres_url: Option<String>,
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Size of each message's content
    #[arg(long, default_value_t = 256)]
    kib: usize,
    #[arg(long, default_value_t = 16)]
    readers: usize,
    /// Whole-thread reads per reader
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Seconds between the readers' end and the settled RSS
    #[arg(long, default_value_t = 5)]
    settle: u64,
    /// Also run with this `list_page_max_bytes` (e.g. 4294967295: pages of
    /// 100 messages, as before the bound), each run on a fresh server
    #[arg(long)]
    compare_page_max_bytes: Option<u64>,
    /// Where to write the results (Markdown)
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Full data, 3 repetitions, concurrency 16 and 64
    Full,
    /// A tenth of the data, one short repetition
    Quick,
    /// Tiny data and durations, concurrency 4: proves the harness works
    Smoke,
}

#[derive(Parser)]
struct SuiteArgs {
    #[arg(long)]
    spool: PathBuf,
    #[arg(long)]
    baseline: PathBuf,
    /// PostgreSQL database to use (created empty by the caller); SQLite when absent
    #[arg(long)]
    postgres_url: Option<String>,
    #[arg(long, value_enum, default_value = "full")]
    mode: Mode,
    /// Where to write the results (Markdown)
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these scenarios, comma-separated (S1,S2,S3,S4-small,S4-big,S5,S5-cursor,S6,S7,S8,S9)
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Override the mode's concurrency levels, comma-separated
    #[arg(long, value_delimiter = ',')]
    concurrency: Vec<usize>,
    /// Override the mode's repetitions
    #[arg(long)]
    repetitions: Option<usize>,
    /// Override the mode's measured seconds per run
    #[arg(long)]
    duration: Option<f64>,
    /// Override the mode's data scale (1.0 = 100,000 threads, 1,000,000 messages)
    #[arg(long, overrides_with = "scale")]
    scale: Option<f64>,
    /// Keep the working directory (database, logs, captures, fixture.json)
    #[arg(long)]
    keep: bool,
    /// Reuse a kept working directory instead of seeding (SQLite; profiling)
    #[arg(long, value_name = "DIR", conflicts_with = "postgres_url")]
    reuse: Option<PathBuf>,
    /// After each scenario's repetitions at concurrency 16, one more load
    /// under `perf record`, written as a flame graph into DIR (needs perf and
    /// inferno's `inferno-collapse-perf`, `inferno-flamegraph` on PATH)
    #[arg(long, value_name = "DIR")]
    profile: Option<PathBuf>,
}

#[derive(Parser)]
struct RunArgs {
    #[arg(long)]
    addr: SocketAddr,
    #[arg(long)]
    key: String,
    #[arg(long, default_value = "GET")]
    method: String,
    #[arg(long)]
    path: String,
    /// JSON body
    #[arg(long)]
    body: Option<String>,
    #[arg(short = 'c', long, default_value_t = 64)]
    connections: usize,
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Suite(args) => suite_command(args).await,
            Command::Run(args) => run_command(args).await,
            Command::Memory(args) => memory_command(args).await,
            Command::Upload(args) => upload_command(args).await,
        }
    })
}

async fn suite_command(args: SuiteArgs) -> anyhow::Result<()> {
    let (scale, repetitions, warmup, duration, concurrency, starts) = match args.mode {
        Mode::Full => (1.0, 3, 0.5, 2.0, vec![16, 64], 3),
        Mode::Quick => (0.1, 1, 0.3, 1.0, vec![16, 64], 1),
        Mode::Smoke => (0.005, 1, 0.05, 0.2, vec![4], 1),
    };
    let all = args.scenarios.is_empty();
    let wants = |id: &str| all || args.scenarios.iter().any(|s| s.eq_ignore_ascii_case(id));
    let scenarios = if all {
        Scenario::ALL.to_vec()
    } else {
        args.scenarios
            .iter()
            .filter(|id| !["s7", "s8", "s9"].contains(&id.to_lowercase().as_str()))
            .map(|id| Scenario::parse(id).with_context(|| format!("unknown scenario {id}")))
            .collect::<anyhow::Result<_>>()?
    };
    let (run_concurrency, run_duration, open_streams, run_threads) = match args.mode {
        Mode::Full => (vec![1, 200], 3.0, 1000, 1000),
        Mode::Quick => (vec![1, 200], 1.5, 1000, 1000),
        Mode::Smoke => (vec![1, 4], 1.0, 20, 20),
    };
    // S9 (PostgreSQL only): the cost of 100 and of 1,000 open streams.
    let stream_costs = match args.mode {
        Mode::Smoke => vec![5, 20],
        _ => vec![100, 1000],
    };
    let workdir = tempfile::Builder::new().prefix("spool-bench-").tempdir()?;
    let workdir_path = match &args.reuse {
        Some(dir) => std::fs::canonicalize(dir)?,
        None => workdir.path().to_owned(),
    };
    let seed_url = args.postgres_url.as_deref().map(|url| {
        // Seeding is setup, not the measurement: no fsync wait per commit.
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20synchronous_commit%3Doff")
    });
    let options = Options {
        spool: std::fs::canonicalize(&args.spool)
            .with_context(|| format!("--spool {}", args.spool.display()))?,
        baseline: std::fs::canonicalize(&args.baseline)
            .with_context(|| format!("--baseline {}", args.baseline.display()))?,
        database_url: args.postgres_url,
        seed_url,
        workdir: workdir_path,
        mode: match args.mode {
            Mode::Full => "full",
            Mode::Quick => "quick",
            Mode::Smoke => "smoke",
        }
        .to_owned(),
        sizes: Sizes {
            run_threads,
            ..Sizes::FULL.scaled(args.scale.unwrap_or(scale))
        },
        scenarios,
        concurrency: if args.concurrency.is_empty() {
            concurrency
        } else {
            args.concurrency
        },
        repetitions: args.repetitions.unwrap_or(repetitions),
        warmup: Duration::from_secs_f64(warmup),
        duration: Duration::from_secs_f64(args.duration.unwrap_or(duration)),
        starts,
        reuse: args.reuse.is_some(),
        run_concurrency: if wants("S7") {
            run_concurrency
        } else {
            Vec::new()
        },
        run_duration: Duration::from_secs_f64(run_duration),
        open_streams: if wants("S8") { open_streams } else { 0 },
        stream_costs: if wants("S9") {
            stream_costs
        } else {
            Vec::new()
        },
        profile: args.profile.clone(),
    };
    let results = suite::run(options).await;
    if args.keep {
        eprintln!("bench: kept {}", workdir.keep().display());
    }
    let results = results?;
    let header = Header {
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        revision: suite::revision(&std::env::current_dir()?),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| "unknown OS".into()),
    };
    let text = report::render(&results, &header);
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("bench: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    let errors = results.errors();
    if !errors.is_empty() {
        for error in &errors {
            eprintln!("bench: ERROR {error}");
        }
        bail!(
            "{} run(s) had errors (non-2xx answers or failed requests)",
            errors.len()
        );
    }
    Ok(())
}

async fn run_command(args: RunArgs) -> anyhow::Result<()> {
    let template = match args.body {
        Some(body) => {
            let mut t = Template::post(args.path, &serde_json::from_str(&body)?);
            t.method = args.method.parse()?;
            t
        }
        None => {
            let mut t = Template::get(args.path);
            t.method = args.method.parse()?;
            t
        }
    };
    let plan = Plan {
        templates: vec![template],
        api_key: args.key,
    };
    let shape = Shape {
        connections: args.connections,
        warmup: Duration::from_millis(500),
        duration: Duration::from_secs_f64(args.duration),
    };
    let outcome = load::run(args.addr, plan, shape).await?;
    println!(
        "{:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        outcome.per_second(),
        outcome.percentile_ms(0.5),
        outcome.percentile_ms(0.99),
        outcome.errors()
    );
    let errors = outcome.errors();
    if let Some(error) = outcome.first_error.filter(|_| errors > 0) {
        println!("first error: {error}");
    }
    Ok(())
}

async fn upload_command(args: UploadArgs) -> anyhow::Result<()> {
    let spool = std::fs::canonicalize(&args.spool)
        .with_context(|| format!("--spool {}", args.spool.display()))?;
    let figures = spool_bench::upload::run(spool, args.mib).await?;
    println!(
        "upload of {} MiB in {:.1} s: idle RSS {} MiB, peak {} MiB (+{} MiB)",
        figures.mib,
        figures.seconds,
        figures.idle >> 20,
        figures.peak >> 20,
        figures.peak.saturating_sub(figures.idle) >> 20
    );
    Ok(())
}

async fn memory_command(args: MemoryArgs) -> anyhow::Result<()> {
    use spool_bench::memory::{self, Options};
    let mut options = Options {
        spool: std::fs::canonicalize(&args.spool)
            .with_context(|| format!("--spool {}", args.spool.display()))?,
        database_url: args.postgres_url,
        messages: args.messages,
        kib: args.kib,
        readers: args.readers,
        rounds: args.rounds,
        settle: Duration::from_secs(args.settle),
        page_max_bytes: None,
    };
    let mut runs = Vec::new();
    for bound in std::iter::once(None).chain(args.compare_page_max_bytes.map(Some)) {
        options.page_max_bytes = bound;
        eprintln!(
            "bench: memory, list_page_max_bytes {}",
            bound.map_or("default".into(), |n| n.to_string())
        );
        let figures = memory::run(options.clone()).await?;
        eprintln!(
            "bench: peak {} MiB, settled {} MiB",
            figures.peak >> 20,
            figures.settled >> 20
        );
        runs.push(figures);
        if options.database_url.is_some() && args.compare_page_max_bytes.is_some() {
            // One database per run: the second would find the first's data.
            eprintln!("bench: the comparison run needs a fresh database; skipped");
            break;
        }
    }
    options.page_max_bytes = None;
    let header = Header {
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        revision: suite::revision(&std::env::current_dir()?),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| format!("Linux {}", s.trim()))
            .unwrap_or_else(|_| "unknown OS".into()),
    };
    let text = memory::render(&options, &runs, &header);
    match &args.out {
        Some(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("bench: wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
