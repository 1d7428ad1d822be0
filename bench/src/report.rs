//! The results file: medians, ratios to the baseline, the targets,
//! memory and start-up, and every repetition underneath.

use crate::scenarios::Scenario;
use crate::suite::{Cell, Results, Sample, StreamCell, StreamSample};
use std::fmt::Write;
use std::time::Duration;

pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if !values.len().is_multiple_of(2) {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// Medians of one server's repetitions.
pub struct Summary {
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

pub fn summarise(samples: &[Sample]) -> Summary {
    Summary {
        per_second: median(samples.iter().map(|s| s.per_second).collect()),
        p50_ms: median(samples.iter().map(|s| s.p50_ms).collect()),
        p99_ms: median(samples.iter().map(|s| s.p99_ms).collect()),
        errors: samples.iter().map(|s| s.errors).sum(),
    }
}

/// Medians of S7's repetitions, ms.
pub struct StreamSummary {
    pub first_p50: f64,
    pub first_p99: f64,
    pub last_p50: f64,
    pub last_p99: f64,
    pub runs_per_second: f64,
    pub errors: u64,
}

pub fn summarise_streams(samples: &[StreamSample]) -> StreamSummary {
    let med = |f: fn(&StreamSample) -> f64| median(samples.iter().map(f).collect());
    StreamSummary {
        first_p50: med(|s| s.first_p50),
        first_p99: med(|s| s.first_p99),
        last_p50: med(|s| s.last_p50),
        last_p99: med(|s| s.last_p99),
        runs_per_second: med(|s| s.runs_per_second),
        errors: samples.iter().map(|s| s.errors).sum(),
    }
}

impl StreamCell {
    /// spool's added time to first token, p50 and p99 (ms): spool's
    /// percentile minus the direct call's.
    pub fn added_first(&self) -> Option<(f64, f64)> {
        if self.direct.is_empty() {
            return None;
        }
        let (s, d) = (
            summarise_streams(&self.spool),
            summarise_streams(&self.direct),
        );
        Some((s.first_p50 - d.first_p50, s.first_p99 - d.first_p99))
    }
}

impl Cell {
    pub fn ratio(&self) -> f64 {
        summarise(&self.spool).per_second / summarise(&self.baseline).per_second
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

/// Milliseconds with two decimals; a dash when nothing completed.
fn millis(value: f64) -> String {
    if value.is_nan() {
        "—".into()
    } else {
        format!("{value:.2}")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// One target of issue 11 and whether it held.
pub struct Check {
    pub target: String,
    pub measured: String,
    pub holds: bool,
}

pub fn checks(results: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    let find = |s: Scenario, c: usize| {
        results
            .cells
            .iter()
            .find(|cell| cell.scenario == s && cell.concurrency == c)
    };
    for cell in &results.cells {
        let floor = match cell.scenario {
            Scenario::CreateThread
            | Scenario::CreateMessage
            | Scenario::ListThreads
            | Scenario::ListThreadsCursor => Some(0.30),
            Scenario::GetThread => Some(0.50),
            Scenario::ListMessagesSmall | Scenario::ListMessagesBig => Some(0.40),
            Scenario::Search => None,
        };
        if let Some(floor) = floor {
            let ratio = cell.ratio();
            out.push(Check {
                target: format!(
                    "{} c{}: spool/baseline ≥ {floor:.2}",
                    cell.scenario.id(),
                    cell.concurrency
                ),
                measured: format!("{ratio:.3}"),
                holds: ratio >= floor,
            });
        }
        if cell.scenario == Scenario::Search {
            let s = summarise(&cell.spool);
            match cell.concurrency {
                1 | 16 => {
                    let limit = if cell.concurrency == 1 { 20.0 } else { 50.0 };
                    out.push(Check {
                        target: format!("S6 c{}: p50 ≤ {limit:.0} ms", cell.concurrency),
                        measured: format!("{} ms", millis(s.p50_ms)),
                        holds: s.p50_ms <= limit,
                    });
                }
                c => out.push(Check {
                    target: format!("S6 c{c}: no request fails"),
                    measured: format!("{} errors, {:.0} req/s", s.errors, s.per_second),
                    holds: s.errors == 0 && s.per_second > 0.0,
                }),
            }
        }
        if cell.concurrency == 64 && cell.scenario != Scenario::Search {
            let p99 = summarise(&cell.spool).p99_ms;
            out.push(Check {
                target: format!("{} c64: p99 ≤ 25 ms", cell.scenario.id()),
                measured: format!("{} ms", millis(p99)),
                holds: p99 <= 25.0,
            });
        }
    }
    let mut concurrencies: Vec<usize> = results.cells.iter().map(|c| c.concurrency).collect();
    concurrencies.sort_unstable();
    concurrencies.dedup();
    for c in concurrencies {
        if let (Some(small), Some(big)) = (
            find(Scenario::ListMessagesSmall, c),
            find(Scenario::ListMessagesBig, c),
        ) {
            let slowdown = summarise(&small.spool).per_second / summarise(&big.spool).per_second;
            out.push(Check {
                target: format!("S4 c{c}: big thread within 1.2× of the small one (req/s)"),
                measured: format!("{slowdown:.2}×"),
                holds: slowdown <= 1.2,
            });
        }
    }
    for cell in results.runs.iter().filter(|c| c.concurrency == 200) {
        if let Some((p50, p99)) = cell.added_first() {
            out.push(Check {
                target: "S7 c200: added time to first token p50 ≤ 2 ms".into(),
                measured: format!("{} ms", millis(p50)),
                holds: p50 <= 2.0,
            });
            out.push(Check {
                target: "S7 c200: added time to first token p99 ≤ 10 ms".into(),
                measured: format!("{} ms", millis(p99)),
                holds: p99 <= 10.0,
            });
        }
    }
    if let Some(open) = &results.open_streams {
        let per_stream = open.rss_peak.saturating_sub(open.rss_before) / open.streams.max(1) as u64;
        out.push(Check {
            target: format!(
                "S8: {} open run streams, ≤ 64 KiB each (peak RSS over the RSS before)",
                open.streams
            ),
            measured: format!("{:.0} KiB", per_stream as f64 / 1024.0),
            holds: per_stream <= 64 * 1024,
        });
    }
    out.push(Check {
        target: "RSS after S1–S7 ≤ 256 MiB".into(),
        measured: mib(results.rss_after_load),
        holds: results.rss_after_load <= 256 * 1024 * 1024,
    });
    out.push(Check {
        target: "idle RSS ≤ 30 MiB".into(),
        measured: mib(results.idle_rss),
        holds: results.idle_rss <= 30 * 1024 * 1024,
    });
    let start = median(
        results
            .start_seeded
            .iter()
            .map(|d| d.as_secs_f64())
            .collect(),
    );
    out.push(Check {
        target: "start to ready ≤ 200 ms (seeded database)".into(),
        measured: format!("{:.0} ms", start * 1000.0),
        holds: start <= 0.2,
    });
    out
}

/// PostgreSQL's targets: every scenario at least 0.10 × the baseline, and
/// S2 (one durable transaction a request) at least half of what `pgbench`
/// TPC-B-like reaches on the same cluster in the same run.
pub fn postgres_checks(results: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for cell in &results.cells {
        let ratio = cell.ratio();
        out.push(Check {
            target: format!(
                "{} c{}: spool/baseline ≥ 0.10",
                cell.scenario.id(),
                cell.concurrency
            ),
            measured: format!("{ratio:.3}"),
            holds: ratio >= 0.10,
        });
        if let (Scenario::CreateMessage, Some(pg)) = (cell.scenario, &results.pgbench) {
            let rate = summarise(&cell.spool).per_second;
            out.push(Check {
                target: format!(
                    "S2 c{}: ≥ half of pgbench TPC-B ({:.0} tps)",
                    cell.concurrency, pg.tpcb_tps
                ),
                measured: format!("{rate:.0} req/s = {:.2} × pgbench", rate / pg.tpcb_tps),
                holds: rate >= pg.tpcb_tps / 2.0,
            });
        }
    }
    out
}

fn render_checks(w: &mut String, checks: Vec<Check>) {
    let _ = writeln!(w, "| target | measured | holds |");
    let _ = writeln!(w, "|---|--:|---|");
    for check in checks {
        let _ = writeln!(
            w,
            "| {} | {} | {} |",
            check.target,
            check.measured,
            if check.holds { "yes" } else { "**no**" }
        );
    }
}

pub struct Header {
    pub date: String,
    pub revision: String,
    pub cores: usize,
    pub kernel: String,
}

pub fn render(results: &Results, header: &Header) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "# spool benchmark — {}, {}\n",
        results.backend, header.date
    );
    let _ = writeln!(
        w,
        "Written by `scripts/bench` (mode `{}`) at commit `{}` on {} cores ({}). Each figure is the \
         median of {} repetition(s) of {:.1} s after a {:.1} s warm-up, per server, scenario and \
         concurrency; spool and the baseline alternate (A/B, then B/A). The load generator shares \
         the cores with the server. The whole suite took {:.0} s. docs/benchmarks.md explains the \
         method.\n",
        results.mode,
        header.revision,
        header.cores,
        header.kernel,
        results.repetitions,
        results.duration.as_secs_f64(),
        results.warmup.as_secs_f64(),
        results.total.as_secs_f64(),
    );
    let _ = writeln!(w, "## Throughput and latency\n");
    let _ = writeln!(
        w,
        "| scenario | | conc. | spool req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms | spool / baseline | errors |"
    );
    let _ = writeln!(w, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for cell in &results.cells {
        let (s, b) = (summarise(&cell.spool), summarise(&cell.baseline));
        let _ = writeln!(
            w,
            "| {} | {} | {} | {:.0} | {} | {} | {:.0} | {} | {} | **{:.3}** | {} |",
            cell.scenario.id(),
            cell.scenario.title(&results.sizes),
            cell.concurrency,
            s.per_second,
            millis(s.p50_ms),
            millis(s.p99_ms),
            b.per_second,
            millis(b.p50_ms),
            millis(b.p99_ms),
            cell.ratio(),
            s.errors + b.errors
        );
    }
    let _ = writeln!(
        w,
        "\nThe baseline answers the same bytes from memory: a bare POST that parses the same JSON \
         (S1, S2) or a bare GET (S3–S6).\n"
    );
    if results.mode == "smoke" {
        let _ = writeln!(
            w,
            "A smoke run: its figures mean nothing; it proves the harness works."
        );
    } else if results.backend == "sqlite" {
        let _ = writeln!(w, "## Targets (issue 11, SQLite)\n");
        render_checks(w, checks(results));
    } else {
        if let Some(pg) = &results.pgbench {
            let _ = writeln!(
                w,
                "## PostgreSQL's own ceiling\n\n`pgbench` on the same cluster in this run, {} \
                 clients, {} s each, scale {}: TPC-B-like **{:.0} tps** (one durable write \
                 transaction each), select-only **{:.0} tps**.\n",
                pg.clients,
                pg.duration.as_secs(),
                pg.clients,
                pg.tpcb_tps,
                pg.select_tps
            );
        }
        let _ = writeln!(w, "## Targets (issue 11, PostgreSQL)\n");
        render_checks(w, postgres_checks(results));
    }
    if !results.runs.is_empty() || results.open_streams.is_some() {
        render_runs(w, results);
    }
    if !results.stream_costs.is_empty() {
        render_s9(w, &results.stream_costs);
    }
    let peak = results
        .cells
        .iter()
        .map(|c| c.spool_peak_rss)
        .max()
        .unwrap_or(0);
    let _ = writeln!(w, "\n## Memory and start-up\n");
    let _ = writeln!(w, "| | spool |\n|---|--:|");
    let _ = writeln!(
        w,
        "| idle RSS, seeded database, 1 s after ready | {} |",
        mib(results.idle_rss)
    );
    if peak > 0 {
        let _ = writeln!(w, "| peak RSS under load (S1–S6) | {} |", mib(peak));
    }
    let _ = writeln!(
        w,
        "| RSS 1 s after S1–S7 | {} |",
        mib(results.rss_after_load)
    );
    let _ = writeln!(
        w,
        "| start to ready, empty database (spawn → `/readyz` 200) | {} |",
        ms(results.start_empty)
    );
    let starts: Vec<String> = results.start_seeded.iter().map(|d| ms(*d)).collect();
    let _ = writeln!(
        w,
        "| start to ready, seeded database (median of {}: {}) | {:.0} ms |",
        starts.len(),
        starts.join(", "),
        median(
            results
                .start_seeded
                .iter()
                .map(|d| d.as_secs_f64() * 1000.0)
                .collect()
        )
    );
    let _ = writeln!(
        w,
        "| baseline idle RSS, for scale | {} |",
        mib(results.baseline_idle_rss)
    );
    let _ = writeln!(
        w,
        "\nPeak RSS per scenario: {}.\n",
        results
            .cells
            .iter()
            .map(|c| format!(
                "{} c{} {}",
                c.scenario.id(),
                c.concurrency,
                mib(c.spool_peak_rss)
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(w, "## Data\n");
    let sizes = &results.sizes;
    let _ = writeln!(
        w,
        "Through the HTTP API ({:.1} s): an owner, a second workspace for the writes, two API keys, \
         an agent, S3's thread, S4's {}-message thread and {} threads for S2. Through the `Store` \
         trait with spool stopped ({:.1} s): a thread of {} messages and {} threads holding {} \
         messages dealt round-robin ({} threads and {} messages in all).\n",
        results.http_seed.as_secs_f64(),
        sizes.small_thread,
        sizes.write_threads,
        results.bulk.took.as_secs_f64(),
        sizes.big_thread,
        sizes.list_threads,
        sizes.search_messages,
        results.bulk.threads,
        results.bulk.messages,
    );
    let _ = writeln!(w, "## Every repetition\n");
    let _ = writeln!(
        w,
        "| scenario | conc. | # | server | req/s | p50 ms | p99 ms | errors |"
    );
    let _ = writeln!(w, "|---|--:|--:|---|--:|--:|--:|--:|");
    for cell in &results.cells {
        for (who, samples) in [("spool", &cell.spool), ("baseline", &cell.baseline)] {
            for (i, s) in samples.iter().enumerate() {
                let _ = writeln!(
                    w,
                    "| {} | {} | {} | {who} | {:.0} | {} | {} | {} |",
                    cell.scenario.id(),
                    cell.concurrency,
                    i + 1,
                    s.per_second,
                    millis(s.p50_ms),
                    millis(s.p99_ms),
                    s.errors
                );
            }
        }
    }
    out
}

fn render_runs(w: &mut String, results: &Results) {
    if !results.runs.is_empty() {
        render_s7(w, results);
    }
    if let Some(open) = &results.open_streams {
        render_s8(w, open);
    }
}

fn render_s7(w: &mut String, results: &Results) {
    let _ = writeln!(w, "\n## Streamed runs (S7)\n");
    let _ = writeln!(
        w,
        "Each concurrent run streams `POST /api/v1/threads/{{uuid}}/run` (`stream: true`) on its own \
         thread and connection, one run after another. `bench-fast` is the scripted upstream \
         (50 ms to the first token, then 20 chunks 10 ms apart); *direct* is the same request \
         straight to the upstream; *added* is spool's percentile minus the direct one. `echo` is \
         spool's offline model (no upstream). Times in ms from sending the request.\n"
    );
    let _ = writeln!(
        w,
        "| model | concurrent runs | runs/s | first token p50 | p99 | direct p50 | p99 | **added p50** | **added p99** | last token p50 | p99 | direct p50 | p99 | errors |"
    );
    let _ = writeln!(
        w,
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for cell in &results.runs {
        let s = summarise_streams(&cell.spool);
        let (d, added) = if cell.direct.is_empty() {
            (None, None)
        } else {
            (Some(summarise_streams(&cell.direct)), cell.added_first())
        };
        let opt = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), millis);
        let _ = writeln!(
            w,
            "| {} | {} | {:.0} | {} | {} | {} | {} | **{}** | **{}** | {} | {} | {} | {} | {} |",
            cell.model,
            cell.concurrency,
            s.runs_per_second,
            millis(s.first_p50),
            millis(s.first_p99),
            opt(d.as_ref().map(|d| d.first_p50)),
            opt(d.as_ref().map(|d| d.first_p99)),
            opt(added.map(|a| a.0)),
            opt(added.map(|a| a.1)),
            millis(s.last_p50),
            millis(s.last_p99),
            opt(d.as_ref().map(|d| d.last_p50)),
            opt(d.as_ref().map(|d| d.last_p99)),
            s.errors + d.map_or(0, |d| d.errors),
        );
    }
}

fn render_s9(w: &mut String, costs: &[crate::pgcost::StreamCost]) {
    let _ = writeln!(w, "\n## What open streams cost PostgreSQL (S9)\n");
    let _ = writeln!(
        w,
        "N streamed runs started at once (`bench-slow`: 20 chunks 200 ms apart, about 4 s \
         each) on the spool process of S8; meanwhile the database's committed transactions \
         (`pg_stat_database.xact_commit`, admissions and ends included) and the CPU time of \
         every `postgres` process. One node writes the events of all its runs in one \
         statement per turn.\n"
    );
    let _ = writeln!(
        w,
        "| open streams | time | commits | commits/s | commits per stream | PostgreSQL CPU (% of one core) | errors |\n|--:|--:|--:|--:|--:|--:|--:|"
    );
    for cost in costs {
        let _ = writeln!(
            w,
            "| {} | {:.2} s | {} | {:.0} | {:.1} | {:.0}% | {} |",
            cost.streams,
            cost.elapsed.as_secs_f64(),
            cost.commits,
            cost.commits_per_second(),
            cost.commits as f64 / cost.streams as f64,
            cost.cpu_percent(),
            cost.errors
        );
    }
}

fn render_s8(w: &mut String, open: &crate::streams::OpenStreams) {
    {
        let _ = writeln!(w, "\n## Open run streams (S8)\n");
        let _ = writeln!(
            w,
            "{} streamed runs started at once (`bench-slow`: 20 chunks 200 ms apart, so each \
             stream stays open about 4 s), each on its own thread and connection, against a \
             spool process started afresh for S8 (after one unmeasured run, which builds the \
             tokenizer's tables).\n",
            open.streams
        );
        let _ = writeln!(w, "| | |\n|---|--:|");
        let _ = writeln!(
            w,
            "| spool RSS before (fresh process, one run done, 1 s later) | {} |",
            mib(open.rss_before)
        );
        let _ = writeln!(
            w,
            "| spool RSS with {} of {} streams open | {} |",
            open.open_at_sample,
            open.streams,
            mib(open.rss_all_open)
        );
        let _ = writeln!(
            w,
            "| spool peak RSS while they ran | {} |",
            mib(open.rss_peak)
        );
        let _ = writeln!(
            w,
            "| per open stream: (peak − before) / streams | {:.0} KiB |",
            open.rss_peak.saturating_sub(open.rss_before) as f64 / 1024.0 / open.streams as f64
        );
        let _ = writeln!(
            w,
            "| time until every stream had its first token | {:.2} s |",
            open.time_to_all_open.as_secs_f64()
        );
        let _ = writeln!(w, "| failed streams | {} |", open.errors);
    }
}
