//! `[files]`: where uploaded files' bytes go and their limits. The bytes
//! go to `<data_dir>/files` unless `storage = "s3"`; S3 credentials come
//! from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), never
//! from this file.

use serde::Deserialize;
use spool_store::blobs::{BlobConfig, S3Config};
use std::path::Path;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesFile {
    /// `local` (default) or `s3`.
    pub storage: Option<String>,
    /// For `local`: the directory; default `<data_dir>/files`.
    pub dir: Option<std::path::PathBuf>,
    pub s3_bucket: Option<String>,
    /// An S3-compatible endpoint (MinIO, R2, …); AWS when unset.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    /// `endpoint/bucket/key` paths (most S3-compatible servers want them).
    pub s3_path_style: Option<bool>,
    pub max_upload_bytes: Option<u64>,
    pub workspace_quota_bytes: Option<u64>,
    pub unreferenced_grace_hours: Option<u64>,
    pub prompt_text_tokens: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct FilesConfig {
    pub storage: BlobConfig,
    pub settings: spool_core::files::FileSettings,
}

pub fn load(file: Option<FilesFile>, data_dir: &Path) -> Result<FilesConfig, (String, String)> {
    let file = file.unwrap_or_default();
    let key = |k: &str| format!("files.{k}");
    let storage = match file.storage.as_deref().unwrap_or("local") {
        "local" => BlobConfig::Local(file.dir.unwrap_or_else(|| data_dir.join("files"))),
        "s3" => {
            let bucket = file
                .s3_bucket
                .filter(|b| !b.trim().is_empty())
                .ok_or_else(|| (key("s3_bucket"), "is required when storage = \"s3\"".into()))?;
            BlobConfig::S3(S3Config {
                bucket,
                endpoint: file.s3_endpoint,
                region: file.s3_region,
                path_style: file.s3_path_style.unwrap_or(false),
            })
        }
        other => {
            return Err((
                key("storage"),
                format!("must be \"local\" or \"s3\", not \"{other}\""),
            ));
        }
    };
    let mut settings = spool_core::files::FileSettings::default();
    if let Some(n) = file.max_upload_bytes {
        if n == 0 {
            return Err((key("max_upload_bytes"), "must be greater than 0".into()));
        }
        settings.max_upload_bytes = n;
    }
    if let Some(n) = file.workspace_quota_bytes {
        settings.workspace_quota_bytes = n;
    }
    if let Some(hours) = file.unreferenced_grace_hours {
        let hours = i64::try_from(hours)
            .ok()
            .filter(|h| *h <= 24 * 366)
            .ok_or_else(|| {
                (
                    key("unreferenced_grace_hours"),
                    "must be at most a year".into(),
                )
            })?;
        settings.unreferenced_grace = chrono::Duration::hours(hours);
    }
    if let Some(n) = file.prompt_text_tokens {
        settings.prompt_text_tokens = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(FilesConfig { storage, settings })
}

/// The `[files]` table of `spool config`.
pub fn render(config: &FilesConfig, quoted: impl Fn(&str) -> String) -> String {
    let storage = match &config.storage {
        BlobConfig::Local(dir) => format!(
            "storage = \"local\"\ndir = {}\n",
            quoted(&dir.to_string_lossy())
        ),
        BlobConfig::S3(s3) => {
            let mut out = format!("storage = \"s3\"\ns3_bucket = {}\n", quoted(&s3.bucket));
            if let Some(endpoint) = &s3.endpoint {
                out.push_str(&format!("s3_endpoint = {}\n", quoted(endpoint)));
            }
            if let Some(region) = &s3.region {
                out.push_str(&format!("s3_region = {}\n", quoted(region)));
            }
            out.push_str(&format!("s3_path_style = {}\n", s3.path_style));
            out
        }
    };
    let s = &config.settings;
    format!(
        "\n[files]\n{storage}max_upload_bytes = {}\nworkspace_quota_bytes = {}\n\
         unreferenced_grace_hours = {}\nprompt_text_tokens = {}\n",
        s.max_upload_bytes,
        s.workspace_quota_bytes,
        s.unreferenced_grace.num_hours(),
        s.prompt_text_tokens,
    )
}
