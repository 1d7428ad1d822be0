//! `spool-bench memory`: what big messages read by many clients at once
//! cost in resident memory. One API key stores `messages` messages of
//! `kib` KiB in one thread; then `readers` clients at once read the whole
//! thread `rounds` times each, `per_page=100` from page 1, following
//! `links.next` (a cut page continues with a cursor) to the end. spool's
//! RSS is read from `/proc/PID/status` throughout: the peak (`VmHWM`, reset
//! before the reads, and 20 ms samples of `VmRSS`) and the RSS left once
//! the readers have stopped and `settle` has passed.

use crate::client::{Client, data_str};
use crate::process::{Server, free_addr, rss_of};
use crate::seed::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::words::Words;
use anyhow::{Context, bail};
use hyper::Method;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Options {
    pub spool: PathBuf,
    /// PostgreSQL database (created empty by the caller); SQLite when absent.
    pub database_url: Option<String>,
    pub messages: usize,
    pub kib: usize,
    pub readers: usize,
    pub rounds: usize,
    pub settle: Duration,
    /// `SPOOL_LIST_PAGE_MAX_BYTES` for the server; its default when absent.
    pub page_max_bytes: Option<u64>,
}

pub struct Figures {
    pub backend: &'static str,
    pub page_max_bytes: Option<u64>,
    pub idle: u64,
    pub seeded: u64,
    pub peak: u64,
    pub settled: u64,
    pub pages: u64,
    pub bytes: u64,
    pub largest_page: u64,
    pub reading: Duration,
}

fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))?
        .parse::<u64>()
        .map(|kib| kib * 1024)
        .context("a number of kB")
}

/// The peak RSS from here on: `clear_refs` 5 resets `VmHWM` (Linux ≥ 4.0).
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// Markdown text of `bytes` bytes: paragraphs of the bench's words.
fn content(words: &Words, bytes: usize, salt: u64) -> String {
    let mut text = String::with_capacity(bytes + 256);
    let mut n = salt;
    while text.len() < bytes {
        let line = words.sentence(n);
        n += 1;
        text.push_str(&line);
        text.push_str(if n.is_multiple_of(4) { "\n\n" } else { " " });
    }
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

#[derive(Deserialize)]
struct PageLinks {
    next: Option<String>,
}

/// Only what a reader follows; the items are skipped, not built.
#[derive(Deserialize)]
struct PageHead {
    links: PageLinks,
    data: Vec<serde::de::IgnoredAny>,
}

pub async fn run(options: Options) -> anyhow::Result<Figures> {
    let workdir = tempfile::Builder::new()
        .prefix("spool-bench-memory-")
        .tempdir()?;
    let data_dir = workdir.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let url = options
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("spool.db").display()));
    let addr = free_addr()?;
    let mut command = Command::new(&options.spool);
    command
        .arg("serve")
        .current_dir(workdir.path())
        .env("SPOOL_DATA_DIR", &data_dir)
        .env("SPOOL_DATABASE_URL", &url)
        .env("SPOOL_LISTEN", addr.to_string())
        .env("SPOOL_LOG", "warn")
        .env("SPOOL_RATE_LIMIT_PER_SECOND", "0")
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("SPOOL_CONFIG");
    if let Some(bytes) = options.page_max_bytes {
        command.env("SPOOL_LIST_PAGE_MAX_BYTES", bytes.to_string());
    }
    let log = workdir.path().join("spool.log");
    let mut server = Server::start("spool", command, addr, "/readyz", &log).await?;
    let pid = server.pid();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_of(pid)?;

    // One API key, one thread, the big messages.
    let mut client = Client::new(addr);
    let signed_in = client
        .expect(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
        )
        .await?;
    let token = data_str(&signed_in, "token")?;
    let workspace = signed_in["data"]["user"]["primary_workspace"]["uuid"]
        .as_str()
        .context("no primary workspace")?
        .to_owned();
    let key_body = json!({ "name": "memory bench", "workspace_uuid": workspace });
    let created = client
        .expect(
            Method::POST,
            "/api/v1/api-keys",
            Some(&token),
            Some(&key_body),
        )
        .await?;
    let key = data_str(&created, "key")?;
    let thread = client
        .expect(
            Method::POST,
            "/api/v1/threads",
            Some(&key),
            Some(&json!({ "name": "Big messages" })),
        )
        .await?;
    let thread = data_str(&thread, "uuid")?;
    let words = Words::new();
    for i in 0..options.messages {
        let body = json!({
            "thread_uuid": thread,
            "role": if i % 2 == 0 { "user" } else { "assistant" },
            "content": content(&words, options.kib * 1024, i as u64 * 7919),
        });
        client
            .expect(Method::POST, "/api/v1/messages", Some(&key), Some(&body))
            .await
            .with_context(|| format!("storing message {i}"))?;
    }
    drop(client);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seeded = rss_of(pid)?;

    // The readers, with the RSS sampled meanwhile.
    reset_peak(pid);
    let reading = Arc::new(AtomicBool::new(true));
    let sampler = {
        let reading = reading.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while reading.load(Ordering::Relaxed) {
                peak = peak.max(rss_of(pid).unwrap_or(0));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            peak
        })
    };
    let pages = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let largest = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let mut readers = Vec::new();
    for _ in 0..options.readers {
        let (key, thread) = (key.clone(), thread.clone());
        let (pages, bytes, largest) = (pages.clone(), bytes.clone(), largest.clone());
        let (rounds, expected) = (options.rounds, options.messages);
        readers.push(tokio::spawn(async move {
            let mut client = Client::new(addr);
            for round in 0..rounds {
                let mut next = Some(format!(
                    "/api/v1/messages?thread_uuid={thread}&page=1&per_page=100"
                ));
                let mut seen = 0;
                while let Some(path) = next {
                    let answer = client.send(Method::GET, &path, Some(&key), None).await?;
                    if !answer.status.is_success() {
                        bail!("GET {path} answered {}", answer.status);
                    }
                    let head: PageHead = serde_json::from_slice(&answer.body)
                        .with_context(|| format!("GET {path}: not a page"))?;
                    let size = answer.body.len() as u64;
                    pages.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(size, Ordering::Relaxed);
                    largest.fetch_max(size, Ordering::Relaxed);
                    seen += head.data.len();
                    next = head.links.next;
                }
                if seen != expected {
                    bail!("round {round} read {seen} messages, not {expected}");
                }
            }
            anyhow::Ok(())
        }));
    }
    for reader in readers {
        reader.await??;
    }
    let reading_took = began.elapsed();
    reading.store(false, Ordering::Relaxed);
    let sampled = sampler.await?;
    let peak = status_kib(pid, "VmHWM:")?.max(sampled);
    tokio::time::sleep(options.settle).await;
    let settled = rss_of(pid)?;
    server.check_alive()?;
    server.stop().await?;
    Ok(Figures {
        backend: if options.database_url.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        page_max_bytes: options.page_max_bytes,
        idle,
        seeded,
        peak,
        settled,
        pages: pages.load(Ordering::Relaxed),
        bytes: bytes.load(Ordering::Relaxed),
        largest_page: largest.load(Ordering::Relaxed),
        reading: reading_took,
    })
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The results file: the setup, then one row per run.
pub fn render(options: &Options, runs: &[Figures], header: &crate::report::Header) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# spool memory under big list pages — {}\n\n\
         Commit {}, {} cores, {}. `scripts/bench --memory` (`spool-bench memory`, release build).\n\n\
         One API key stores {} messages of {} KiB in one thread; then {} readers at once each \
         read the whole thread {} times: `GET /api/v1/messages?thread_uuid=…&page=1&per_page=100`, \
         then `links.next` to the end. RSS from `/proc/PID/status`: **peak** is `VmHWM` (reset \
         after seeding) or the highest 20 ms sample of `VmRSS` during the reads; **settled** is \
         `VmRSS` {} s after the readers stopped. Acceptance (issue): peak under 300 MiB, settled \
         under 100 MiB.\n\n",
        header.date,
        header.revision,
        header.cores,
        header.kernel,
        options.messages,
        options.kib,
        options.readers,
        options.rounds,
        options.settle.as_secs(),
    ));
    out.push_str(
        "| backend | list_page_max_bytes | idle | after seeding | peak | settled | pages read | \
         largest page | reading took |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for run in runs {
        out.push_str(&format!(
            "| {} | {} | {} | {} | **{}** | **{}** | {} ({} in all) | {} | {:.1} s |\n",
            run.backend,
            run.page_max_bytes
                .map_or("default (4 MiB)".to_owned(), |n| n.to_string()),
            mib(run.idle),
            mib(run.seeded),
            mib(run.peak),
            mib(run.settled),
            run.pages,
            mib(run.bytes),
            mib(run.largest_page),
            run.reading.as_secs_f64(),
        ));
    }
    out
}
