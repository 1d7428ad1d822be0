//! The whole benchmark: start spool, seed, capture, start the baseline, run
//! every scenario against both A/B-alternated, measure memory and start-up,
//! and hand the figures to the report.

use crate::captures::{Captured, Captures};
use crate::client::Client;
use crate::load::{self, Outcome, Shape};
use crate::process::{RssSampler, Server, free_addr};
use crate::scenarios::Scenario;
use crate::seed::{self, ADMIN_EMAIL, ADMIN_PASSWORD, BulkReport, Fixture, Sizes};
use crate::streams::{self, OpenStreams, StreamOutcome, Target};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Options {
    pub spool: PathBuf,
    pub baseline: PathBuf,
    /// `postgres://…` for PostgreSQL; SQLite in `workdir` when absent.
    pub database_url: Option<String>,
    /// The URL the bulk seeding opens (PostgreSQL: the same database, with
    /// `synchronous_commit` off for the seeding session only).
    pub seed_url: Option<String>,
    pub workdir: PathBuf,
    pub mode: String,
    pub sizes: Sizes,
    pub scenarios: Vec<Scenario>,
    pub concurrency: Vec<usize>,
    pub repetitions: usize,
    pub warmup: Duration,
    pub duration: Duration,
    /// How many extra starts measure start-to-ready on the seeded database.
    pub starts: usize,
    /// Skip seeding: `workdir` holds the database and `fixture.json` of an
    /// earlier run (kept with `--keep`). For profiling and quick iteration.
    pub reuse: bool,
    /// S7's concurrent runs (empty: S7 is skipped).
    pub run_concurrency: Vec<usize>,
    /// S7's measured window per repetition.
    pub run_duration: Duration,
    /// S8's open streams (0: S8 is skipped).
    pub open_streams: usize,
    /// S9's numbers of open streams (PostgreSQL only; empty: skipped).
    pub stream_costs: Vec<usize>,
    /// Where to write flame graphs of spool under each scenario at
    /// concurrency 16 (see `profile`); `None`: no profiling.
    pub profile: Option<PathBuf>,
}

impl Options {
    pub fn backend(&self) -> &'static str {
        if self.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

/// One measured run.
#[derive(Clone, Debug)]
pub struct Sample {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl From<&Outcome> for Sample {
    fn from(o: &Outcome) -> Self {
        Sample {
            per_second: o.per_second(),
            p50_ms: o.percentile_ms(0.50),
            p99_ms: o.percentile_ms(0.99),
            errors: o.errors(),
            first_error: o.first_error.clone(),
        }
    }
}

/// A scenario at one concurrency: every repetition against each server.
pub struct Cell {
    pub scenario: Scenario,
    pub concurrency: usize,
    pub spool: Vec<Sample>,
    pub baseline: Vec<Sample>,
    /// spool's peak RSS while this cell ran.
    pub spool_peak_rss: u64,
}

/// S7 at one concurrency for one model: through spool and, for the
/// scripted upstream, directly.
pub struct StreamCell {
    pub model: &'static str,
    pub concurrency: usize,
    pub spool: Vec<StreamSample>,
    pub direct: Vec<StreamSample>,
}

#[derive(Clone, Debug)]
pub struct StreamSample {
    pub first_p50: f64,
    pub first_p99: f64,
    pub last_p50: f64,
    pub last_p99: f64,
    pub runs_per_second: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

impl From<&StreamOutcome> for StreamSample {
    fn from(o: &StreamOutcome) -> Self {
        StreamSample {
            first_p50: StreamOutcome::ms(&o.first, 0.50),
            first_p99: StreamOutcome::ms(&o.first, 0.99),
            last_p50: StreamOutcome::ms(&o.last, 0.50),
            last_p99: StreamOutcome::ms(&o.last, 0.99),
            runs_per_second: o.runs_per_second(),
            errors: o.errors,
            first_error: o.first_error.clone(),
        }
    }
}

pub struct Results {
    pub backend: &'static str,
    pub mode: String,
    pub sizes: Sizes,
    pub repetitions: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub cells: Vec<Cell>,
    pub runs: Vec<StreamCell>,
    pub open_streams: Option<OpenStreams>,
    /// S9: what open streams cost PostgreSQL.
    pub stream_costs: Vec<crate::pgcost::StreamCost>,
    /// `pgbench` on the same cluster (PostgreSQL, not in smoke runs).
    pub pgbench: Option<crate::pgbench::PgBench>,
    pub start_empty: Duration,
    pub start_seeded: Vec<Duration>,
    pub idle_rss: u64,
    pub rss_after_load: u64,
    pub baseline_idle_rss: u64,
    pub http_seed: Duration,
    pub bulk: BulkReport,
    pub total: Duration,
}

impl Results {
    pub fn errors(&self) -> Vec<String> {
        let mut out = Vec::new();
        for cell in &self.runs {
            for (who, samples) in [("spool", &cell.spool), ("direct", &cell.direct)] {
                for s in samples.iter().filter(|s| s.errors > 0) {
                    out.push(format!(
                        "S7 {} c{} {who}: {} errors; first: {}",
                        cell.model,
                        cell.concurrency,
                        s.errors,
                        s.first_error.as_deref().unwrap_or("?")
                    ));
                }
            }
        }
        if let Some(open) = self.open_streams.as_ref().filter(|o| o.errors > 0) {
            out.push(format!(
                "S8: {} of {} streams failed; first: {}",
                open.errors,
                open.streams,
                open.first_error.as_deref().unwrap_or("?")
            ));
        }
        for cost in self.stream_costs.iter().filter(|c| c.errors > 0) {
            out.push(format!(
                "S9: {} of {} streams failed; first: {}",
                cost.errors,
                cost.streams,
                cost.first_error.as_deref().unwrap_or("?")
            ));
        }
        // A smoke run must show every scenario working at least once.
        if self.mode == "smoke" {
            for cell in &self.cells {
                if cell.spool.iter().all(|s| s.per_second == 0.0) {
                    out.push(format!("{}: no request completed", cell.scenario.id()));
                }
            }
            for model in [streams::FAST_MODEL, streams::ECHO_MODEL] {
                let cells = self.runs.iter().filter(|c| c.model == model);
                if self.runs.iter().any(|c| c.model == model)
                    && cells
                        .flat_map(|c| &c.spool)
                        .all(|s| s.runs_per_second == 0.0)
                {
                    out.push(format!("S7 {model}: no run completed"));
                }
            }
        }
        for cell in &self.cells {
            for (who, samples) in [("spool", &cell.spool), ("baseline", &cell.baseline)] {
                for s in samples.iter().filter(|s| s.errors > 0) {
                    out.push(format!(
                        "{} c{} {who}: {} errors; first: {}",
                        cell.scenario.id(),
                        cell.concurrency,
                        s.errors,
                        s.first_error.as_deref().unwrap_or("?")
                    ));
                }
            }
        }
        out
    }
}

fn log(message: impl AsRef<str>) {
    eprintln!("bench: {}", message.as_ref());
}

fn spool_command(options: &Options, addr: std::net::SocketAddr, url: &str) -> Command {
    let mut command = Command::new(&options.spool);
    command
        .arg("serve")
        .current_dir(&options.workdir)
        // The scripted upstream as a provider (S7, S8).
        .env("SPOOL_CONFIG", options.workdir.join("spool.toml"))
        .env("SPOOL_DATA_DIR", options.workdir.join("data"))
        .env("SPOOL_DATABASE_URL", url)
        .env("SPOOL_LISTEN", addr.to_string())
        .env("SPOOL_LOG", "warn")
        // Off: the benchmark measures spool, not its limiter.
        .env("SPOOL_RATE_LIMIT_PER_SECOND", "0")
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD);
    command
}

async fn start_spool(options: &Options, url: &str, log_name: &str) -> anyhow::Result<Server> {
    let addr = free_addr()?;
    let command = spool_command(options, addr, url);
    Server::start(
        "spool",
        command,
        addr,
        "/readyz",
        &options.workdir.join(log_name),
    )
    .await
}

pub async fn run(options: Options) -> anyhow::Result<Results> {
    let began = Instant::now();
    std::fs::create_dir_all(options.workdir.join("data"))?;
    let url = options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            options.workdir.join("data").join("spool.db").display()
        )
    });

    let upstream = streams::start_upstream().await?;
    std::fs::write(
        options.workdir.join("spool.toml"),
        streams::spool_toml(upstream),
    )?;
    let (fixture, start_empty, http_seed, bulk) = if options.reuse {
        let seeded: Seeded = serde_json::from_slice(
            &std::fs::read(options.workdir.join("fixture.json"))
                .context("--reuse needs the fixture.json of a kept run")?,
        )?;
        log("reusing the seeded database");
        (
            seeded.fixture,
            Duration::from_secs_f64(seeded.start_empty_secs),
            Duration::from_secs_f64(seeded.http_seed_secs),
            seeded.bulk,
        )
    } else {
        seed_all(&options, &url).await?
    };

    let mut start_seeded = Vec::new();
    for i in 0..options.starts {
        let spool = start_spool(&options, &url, &format!("spool-start-{i}.log")).await?;
        start_seeded.push(spool.start_to_ready);
        spool.stop().await?;
    }
    let mut spool = start_spool(&options, &url, "spool.log").await?;
    start_seeded.push(spool.start_to_ready);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = spool.rss()?;
    log(format!(
        "spool pid {} on {}; idle RSS {:.1} MiB",
        spool.pid(),
        spool.addr,
        idle_rss as f64 / 1048576.0
    ));

    let captures = capture(spool.addr, &fixture, &options.scenarios).await?;
    let captures_path = options.workdir.join("captures.json");
    captures.write(&captures_path)?;
    let baseline_addr = free_addr()?;
    let mut command = Command::new(&options.baseline);
    command
        .arg("--listen")
        .arg(baseline_addr.to_string())
        .arg("--captures")
        .arg(&captures_path);
    let mut baseline = Server::start(
        "spool-baseline",
        command,
        baseline_addr,
        "/readyz",
        &options.workdir.join("baseline.log"),
    )
    .await?;
    let baseline_idle_rss = baseline.rss()?;

    let mut cells = Vec::new();
    for &scenario in &options.scenarios {
        // S6's target is a latency: measure it alone too, not only queued
        // behind 15 or 63 other searches.
        let single = (scenario == Scenario::Search).then_some(1);
        for concurrency in single
            .into_iter()
            .chain(options.concurrency.iter().copied())
        {
            let cell = measure(
                &options,
                &fixture,
                scenario,
                concurrency,
                &mut spool,
                &mut baseline,
            )
            .await?;
            cells.push(cell);
        }
    }
    // PostgreSQL's own ceiling, in the same run, while spool idles.
    let pgbench = match options.database_url.clone() {
        Some(url) if options.mode != "smoke" => {
            let measured = tokio::task::spawn_blocking(move || {
                crate::pgbench::measure(&url, 16, Duration::from_secs(5))
            })
            .await??;
            log(format!(
                "pgbench, {} clients: TPC-B-like {:.0} tps, select-only {:.0} tps",
                measured.clients, measured.tpcb_tps, measured.select_tps
            ));
            Some(measured)
        }
        _ => None,
    };
    let runs = measure_runs(&options, &fixture, &mut spool, upstream).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after_load = spool.rss()?;
    let open_streams = if options.open_streams > 0 {
        // A fresh process, so that S8 sees the streams' memory and not the
        // page caches S6 left behind.
        spool.stop().await?;
        spool = start_spool(&options, &url, "spool-s8.log").await?;
        // One run first, unmeasured, as for S7: the first run of a process
        // builds the tokenizer's tables (tens of MiB, once), which is not
        // what an open stream costs.
        let warm = Target::Spool {
            addr: spool.addr,
            key: fixture.write_key.clone(),
            threads: std::sync::Arc::new(fixture.run_threads.clone()),
            model: streams::FAST_MODEL,
        };
        streams::closed_loop(warm, 1, Duration::ZERO, Duration::from_millis(1)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let target = Target::Spool {
            addr: spool.addr,
            key: fixture.write_key.clone(),
            threads: std::sync::Arc::new(fixture.run_threads.clone()),
            model: streams::SLOW_MODEL,
        };
        let open = streams::hold_open(target, options.open_streams, spool.pid()).await;
        log(format!(
            "S8 {} streams: all open after {:.2} s; RSS {:.1} MiB open, {:.1} MiB peak; errors {}",
            open.streams,
            open.time_to_all_open.as_secs_f64(),
            open.rss_all_open as f64 / 1048576.0,
            open.rss_peak as f64 / 1048576.0,
            open.errors
        ));
        Some(open)
    } else {
        None
    };
    let mut stream_costs = Vec::new();
    if let Some(url) = options.database_url.as_deref() {
        for &n in &options.stream_costs {
            let target = Target::Spool {
                addr: spool.addr,
                key: fixture.write_key.clone(),
                threads: std::sync::Arc::new(fixture.run_threads.clone()),
                model: streams::SLOW_MODEL,
            };
            let settle = if options.mode == "smoke" {
                Duration::from_millis(500)
            } else {
                Duration::from_secs(11)
            };
            let cost = crate::pgcost::measure(target, n, spool.pid(), url, settle).await?;
            log(format!(
                "S9 {n} streams: {:.0} commits/s ({} in {:.2} s), PostgreSQL CPU {:.0}% of a core; errors {}",
                cost.commits_per_second(),
                cost.commits,
                cost.elapsed.as_secs_f64(),
                cost.cpu_percent(),
                cost.errors
            ));
            stream_costs.push(cost);
        }
    }
    spool.stop().await?;
    baseline.stop().await?;
    Ok(Results {
        backend: options.backend(),
        mode: options.mode.clone(),
        sizes: options.sizes,
        repetitions: options.repetitions,
        warmup: options.warmup,
        duration: options.duration,
        cells,
        runs,
        open_streams,
        stream_costs,
        pgbench,
        start_empty,
        start_seeded,
        idle_rss,
        rss_after_load,
        baseline_idle_rss,
        http_seed,
        bulk,
        total: began.elapsed(),
    })
}

/// What a kept run leaves beside its database, for `--reuse`.
#[derive(serde::Serialize, serde::Deserialize)]
struct Seeded {
    fixture: Fixture,
    start_empty_secs: f64,
    http_seed_secs: f64,
    bulk: BulkReport,
}

async fn seed_all(
    options: &Options,
    url: &str,
) -> anyhow::Result<(Fixture, Duration, Duration, BulkReport)> {
    log(format!(
        "seeding through the API ({} backend)",
        options.backend()
    ));
    let spool = start_spool(options, url, "spool-seed.log").await?;
    let start_empty = spool.start_to_ready;
    let http_began = Instant::now();
    let mut fixture = seed::through_http(spool.addr, options.sizes).await?;
    let http_seed = http_began.elapsed();
    spool.stop().await?;

    log(format!(
        "seeding through the Store: {} threads, {} messages",
        options.sizes.list_threads,
        options.sizes.big_thread + options.sizes.search_messages
    ));
    let store = spool_store::open(options.seed_url.as_deref().unwrap_or(url))
        .await
        .context("opening the store for bulk seeding")?;
    let bulk = seed::through_store(store, &mut fixture, options.sizes).await?;
    log(format!(
        "seeded {} messages in {:.1} s",
        bulk.messages,
        bulk.took.as_secs_f64()
    ));
    let seeded = Seeded {
        fixture: fixture.clone(),
        start_empty_secs: start_empty.as_secs_f64(),
        http_seed_secs: http_seed.as_secs_f64(),
        bulk: bulk.clone(),
    };
    std::fs::write(
        options.workdir.join("fixture.json"),
        serde_json::to_vec_pretty(&seeded)?,
    )?;
    Ok((fixture, start_empty, http_seed, bulk))
}

async fn measure(
    options: &Options,
    fixture: &Fixture,
    scenario: Scenario,
    concurrency: usize,
    spool: &mut Server,
    baseline: &mut Server,
) -> anyhow::Result<Cell> {
    let shape = Shape {
        connections: concurrency,
        warmup: options.warmup,
        duration: options.duration,
    };
    let mut cell = Cell {
        scenario,
        concurrency,
        spool: Vec::new(),
        baseline: Vec::new(),
        spool_peak_rss: 0,
    };
    for rep in 0..options.repetitions {
        // A/B alternated: spool first on even repetitions, baseline first on odd.
        let order: [bool; 2] = if rep.is_multiple_of(2) {
            [true, false]
        } else {
            [false, true]
        };
        for is_spool in order {
            let server = if is_spool {
                &mut *spool
            } else {
                &mut *baseline
            };
            server.check_alive()?;
            let sampler = RssSampler::start(server.pid());
            let outcome = load::run(server.addr, scenario.plan(fixture), shape).await?;
            let peak = sampler.finish().await;
            let sample = Sample::from(&outcome);
            log(format!(
                "{:<8} c{:<3} #{} {:<8} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                scenario.id(),
                concurrency,
                rep + 1,
                if is_spool { "spool" } else { "baseline" },
                sample.per_second,
                sample.p50_ms,
                sample.p99_ms,
                sample.errors
            ));
            if let Some(error) = sample.first_error.as_deref().filter(|_| sample.errors > 0) {
                log(format!("  first error: {error}"));
            }
            if is_spool {
                cell.spool_peak_rss = cell.spool_peak_rss.max(peak);
                cell.spool.push(sample);
            } else {
                cell.baseline.push(sample);
            }
        }
    }
    if let Some(dir) = options.profile.as_deref()
        && concurrency == PROFILED_CONCURRENCY
    {
        std::fs::create_dir_all(dir)?;
        let name = format!("{}-{}-c{concurrency}", options.backend(), scenario.id());
        let recording = crate::profile::start(
            spool.pid(),
            &options.workdir.join(format!("{name}.perf.data")),
        )?;
        let outcome = load::run(spool.addr, scenario.plan(fixture), shape).await?;
        let svg = dir.join(format!("{name}.svg"));
        let title = format!(
            "spool, {} on {}, {} connections: {:.0} req/s under perf",
            scenario.id(),
            options.backend(),
            concurrency,
            Sample::from(&outcome).per_second
        );
        tokio::task::spawn_blocking(move || recording.finish(&svg, &title)).await??;
        log(format!("profiled {name}"));
    }
    Ok(cell)
}

/// The concurrency `--profile` samples spool at.
const PROFILED_CONCURRENCY: usize = 16;

/// S7: streamed runs through spool against the same stream from the
/// upstream directly, A/B alternated; then the echo model through spool.
async fn measure_runs(
    options: &Options,
    fixture: &Fixture,
    spool: &mut Server,
    upstream: std::net::SocketAddr,
) -> anyhow::Result<Vec<StreamCell>> {
    let mut cells = Vec::new();
    let threads = std::sync::Arc::new(fixture.run_threads.clone());
    if !options.run_concurrency.is_empty() {
        // One run per model first, unmeasured: the first run of a process
        // builds the tokenizer's tables, which is start-up, not a run.
        for model in [streams::FAST_MODEL, streams::ECHO_MODEL] {
            let target = Target::Spool {
                addr: spool.addr,
                key: fixture.write_key.clone(),
                threads: threads.clone(),
                model,
            };
            streams::closed_loop(target, 1, Duration::ZERO, Duration::from_millis(1)).await;
        }
    }
    for &concurrency in &options.run_concurrency {
        anyhow::ensure!(
            concurrency <= threads.len(),
            "S7 at {concurrency} needs as many threads (one active run each); {} seeded",
            threads.len()
        );
        for model in [streams::FAST_MODEL, streams::ECHO_MODEL] {
            let mut cell = StreamCell {
                model,
                concurrency,
                spool: Vec::new(),
                direct: Vec::new(),
            };
            for rep in 0..options.repetitions {
                let order: &[bool] = match (model, rep.is_multiple_of(2)) {
                    (streams::ECHO_MODEL, _) => &[true],
                    (_, true) => &[true, false],
                    (_, false) => &[false, true],
                };
                for &through_spool in order {
                    spool.check_alive()?;
                    let target = if through_spool {
                        Target::Spool {
                            addr: spool.addr,
                            key: fixture.write_key.clone(),
                            threads: threads.clone(),
                            model,
                        }
                    } else {
                        Target::Direct {
                            addr: upstream,
                            model,
                        }
                    };
                    let outcome = streams::closed_loop(
                        target,
                        concurrency,
                        options.warmup,
                        options.run_duration,
                    )
                    .await;
                    let sample = StreamSample::from(&outcome);
                    log(format!(
                        "S7 {model:<10} c{concurrency:<3} #{} {:<6} {:>6.0} runs/s  first p50 {:>7.2} p99 {:>7.2}  last p50 {:>7.2} p99 {:>7.2} ms  errors {}",
                        rep + 1,
                        if through_spool { "spool" } else { "direct" },
                        sample.runs_per_second,
                        sample.first_p50,
                        sample.first_p99,
                        sample.last_p50,
                        sample.last_p99,
                        sample.errors
                    ));
                    if let Some(error) = sample.first_error.as_deref().filter(|_| sample.errors > 0)
                    {
                        log(format!("  first error: {error}"));
                    }
                    if through_spool {
                        cell.spool.push(sample);
                    } else {
                        cell.direct.push(sample);
                    }
                }
            }
            cells.push(cell);
        }
    }
    Ok(cells)
}

/// One request per scenario against spool; the baseline answers with these.
async fn capture(
    addr: std::net::SocketAddr,
    fixture: &Fixture,
    scenarios: &[Scenario],
) -> anyhow::Result<Captures> {
    let mut client = Client::new(addr);
    let mut captures = Captures::default();
    for &scenario in scenarios {
        let plan = scenario.plan(fixture);
        let template = &plan.templates[0];
        let body = template
            .body
            .as_ref()
            .map(|b| serde_json::from_slice(b))
            .transpose()?;
        let answer = client
            .send(
                template.method.clone(),
                &template.path,
                Some(&plan.api_key),
                body.as_ref(),
            )
            .await?;
        if !answer.status.is_success() {
            bail!(
                "{} {} answered {} while capturing {}: {}",
                template.method,
                template.path,
                answer.status,
                scenario.id(),
                String::from_utf8_lossy(&answer.body)
            );
        }
        captures.responses.insert(
            scenario.id().to_owned(),
            Captured {
                status: answer.status.as_u16(),
                content_type: answer.content_type,
                body: String::from_utf8(answer.body.to_vec())?,
            },
        );
    }
    captures.message_threads.insert(
        fixture.small_thread.clone(),
        Scenario::ListMessagesSmall.id().to_owned(),
    );
    captures.message_threads.insert(
        fixture.big_thread.clone(),
        Scenario::ListMessagesBig.id().to_owned(),
    );
    Ok(captures)
}

/// The short commit the results were measured at, with `+dirty` when the
/// work tree had changes (`SPOOL_BENCH_REVISION` overrides it, for a tree
/// exported with `git archive`).
pub fn revision(repo: &Path) -> String {
    if let Ok(named) = std::env::var("SPOOL_BENCH_REVISION") {
        return named;
    }
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty { format!("{head}+dirty") } else { head }
}
