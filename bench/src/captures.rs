//! Responses captured from spool during setup, which the baseline replays
//! byte for byte. Written by `spool-bench`, read by `spool-baseline`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Captured {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Captures {
    /// By scenario id (`S1`, `S4-big`, …).
    pub responses: BTreeMap<String, Captured>,
    /// Which S4 capture answers a `thread_uuid`.
    pub message_threads: BTreeMap<String, String>,
}

impl Captures {
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        Ok(serde_json::from_slice(&std::fs::read(path)?)?)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}
