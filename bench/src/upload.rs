//! `spool-bench upload`: what one big upload costs in resident memory. A
//! fresh server (SQLite, local file storage) takes one raw `POST
//! /api/v1/files` of `mib` MiB, sent as it is produced; spool's RSS is
//! sampled throughout. An upload is streamed to storage, so the peak should
//! stay near the idle RSS however big the file (issue 13: 1 GiB within
//! 64 MiB of it).

use crate::client::{Client, data_str};
use crate::process::{RssSampler, Server, free_addr, rss_of};
use crate::seed::{ADMIN_EMAIL, ADMIN_PASSWORD};
use anyhow::{Context, bail};
use hyper::Method;
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Figures {
    pub mib: u64,
    pub idle: u64,
    pub peak: u64,
    pub seconds: f64,
}

pub async fn run(spool: PathBuf, mib: u64) -> anyhow::Result<Figures> {
    let workdir = tempfile::Builder::new()
        .prefix("spool-bench-upload-")
        .tempdir()?;
    let data_dir = workdir.path().join("data");
    std::fs::create_dir_all(&data_dir)?;
    let size = mib * 1024 * 1024;
    std::fs::write(
        workdir.path().join("spool.toml"),
        format!(
            "[files]\nmax_upload_bytes = {}\nworkspace_quota_bytes = {}\n",
            size + 1,
            size + 1
        ),
    )?;
    let addr = free_addr()?;
    let mut command = Command::new(&spool);
    command
        .arg("serve")
        .current_dir(workdir.path())
        .env("SPOOL_DATA_DIR", &data_dir)
        .env("SPOOL_LISTEN", addr.to_string())
        .env("SPOOL_LOG", "warn")
        .env("SPOOL_RATE_LIMIT_PER_SECOND", "0")
        .env("SPOOL_ADMIN_EMAIL", ADMIN_EMAIL)
        .env("SPOOL_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("SPOOL_CONFIG");
    let log = workdir.path().join("spool.log");
    let server = Server::start("spool", command, addr, "/readyz", &log).await?;
    let pid = server.pid();
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
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = rss_of(pid)?;

    let sampler = RssSampler::start(pid);
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST /api/v1/files?name=big.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    let chunk = vec![0x5a_u8; 1024 * 1024];
    for _ in 0..mib {
        stream.write_all(&chunk).await?;
    }
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let seconds = started.elapsed().as_secs_f64();
    let peak = sampler.finish().await;
    let answer = String::from_utf8_lossy(&answer);
    if !answer.starts_with("HTTP/1.1 201") {
        bail!(
            "the upload was not stored: {}",
            answer.lines().next().unwrap_or_default()
        );
    }
    let stored = answer
        .split("\r\n\r\n")
        .nth(1)
        .context("no body in the answer")?;
    if !stored.contains(&format!("\"size\":{size}")) {
        bail!("the stored size is not {size}: {stored}");
    }
    server.stop().await?;
    Ok(Figures {
        mib,
        idle,
        peak,
        seconds,
    })
}
