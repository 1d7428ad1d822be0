//! Flame graphs of spool under load (`spool-bench suite --profile DIR`):
//! after a scenario's measured repetitions, one more load of the same shape
//! runs while `perf record` samples the spool process, and the samples
//! become `DIR/<backend>-<scenario>-c<N>.svg` through inferno's
//! `inferno-collapse-perf` and `inferno-flamegraph` (the folded stacks stay
//! in the suite's working directory). The profiled load is not one of the
//! figures: perf's own cost would skew them.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Sampling rate: odd, so that it does not beat with timers.
const FREQUENCY: &str = "499";

/// A `perf record` attached to one process until [`Recording::finish`].
pub struct Recording {
    child: Child,
    data: PathBuf,
}

/// Starts sampling `pid` with call graphs unwound from the stack (spool's
/// release build keeps no frame pointers).
pub fn start(pid: u32, data: &Path) -> anyhow::Result<Recording> {
    let child = Command::new("perf")
        .args([
            "record",
            "-F",
            FREQUENCY,
            "--call-graph",
            "dwarf,8192",
            "-q",
            "-o",
        ])
        .arg(data)
        .args(["-p", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting `perf record` (is perf installed?)")?;
    Ok(Recording {
        child,
        data: data.to_owned(),
    })
}

impl Recording {
    /// Stops sampling (SIGINT, as perf expects) and writes the flame graph
    /// to `svg`, titled `title`.
    pub fn finish(mut self, svg: &Path, title: &str) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let status = self.child.wait()?;
        if !status.success() && !self.data.exists() {
            bail!("perf record failed ({status})");
        }
        let script = Command::new("perf")
            .args(["script", "-i"])
            .arg(&self.data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("running `perf script`")?;
        let folded = Command::new("inferno-collapse-perf")
            .stdin(script.stdout.context("perf script's output")?)
            .output()
            .context("running inferno-collapse-perf (cargo install inferno)")?;
        if !folded.status.success() {
            bail!("inferno-collapse-perf failed ({})", folded.status);
        }
        // The folded stacks stay in the working directory, beside perf's data.
        let folded_path = self.data.with_extension("folded");
        std::fs::write(&folded_path, &folded.stdout)?;
        let graph = Command::new("inferno-flamegraph")
            .args(["--title", title, "--width", "1600"])
            .arg(&folded_path)
            .output()
            .context("running inferno-flamegraph")?;
        if !graph.status.success() {
            bail!("inferno-flamegraph failed ({})", graph.status);
        }
        std::fs::write(svg, &graph.stdout)?;
        let _ = std::fs::remove_file(&self.data);
        Ok(())
    }
}
