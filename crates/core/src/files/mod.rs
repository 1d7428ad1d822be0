//! Files: where their bytes go ([`Blobs`], implemented over `object_store`
//! in `spool-store`), what they are ([`sniff`]), the limits, and what a
//! model is given of them ([`prompt`]).

pub mod prompt;
pub mod sniff;

pub use sniff::{is_inline_image, is_text, sniff};

use bytes::Bytes;
use futures_core::Stream;
use std::ops::Range;
use std::pin::Pin;

/// Bytes read back from the object store.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, BlobError>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no such object")]
    NotFound,
    #[error("object store: {0}")]
    Backend(String),
}

/// The object store holding files' bytes: a local directory or an
/// S3-compatible bucket.
#[async_trait::async_trait]
pub trait Blobs: Send + Sync + 'static {
    /// `local` or `s3`, for logs.
    fn kind(&self) -> &'static str;
    /// A new object at `path`, written in pieces; nothing is visible under
    /// `path` until [`BlobWriter::finish`].
    async fn writer(&self, path: &str) -> Result<Box<dyn BlobWriter>, BlobError>;
    /// The object's bytes, or those in `range` (end exclusive, within the
    /// object: the caller checks it against the stored size).
    async fn read(&self, path: &str, range: Option<Range<u64>>) -> Result<ByteStream, BlobError>;
    /// Removes the object; one already gone is no error.
    async fn delete(&self, path: &str) -> Result<(), BlobError>;
    /// Removes every object under `prefix/`.
    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError>;
}

#[async_trait::async_trait]
pub trait BlobWriter: Send {
    /// Waits while earlier pieces are still being sent, so that memory stays
    /// bounded however large the file.
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError>;
    /// The object is durable (fsynced on a local disk) when this returns.
    async fn finish(self: Box<Self>) -> Result<(), BlobError>;
    /// Leaves nothing behind.
    async fn abort(self: Box<Self>);
}

/// The limits and lifecycle of files (config `[files]`).
#[derive(Clone, Debug)]
pub struct FileSettings {
    /// Largest file accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Most bytes of files one workspace keeps.
    pub workspace_quota_bytes: u64,
    /// How long a file no message refers to is kept before the sweep
    /// removes it (uploads wait this long to be attached).
    pub unreferenced_grace: chrono::Duration,
    /// How often the sweep looks.
    pub sweep_interval: std::time::Duration,
    /// Most tokens of one message's text files (and PDFs' text) put into a
    /// prompt; the rest is cut with a note.
    pub prompt_text_tokens: usize,
    /// Largest file read for a prompt (images inlined, text extracted);
    /// larger ones are named only.
    pub prompt_file_max_bytes: u64,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 50 * 1024 * 1024,
            workspace_quota_bytes: 5 * 1024 * 1024 * 1024,
            unreferenced_grace: chrono::Duration::hours(24),
            sweep_interval: std::time::Duration::from_secs(600),
            prompt_text_tokens: 16_000,
            prompt_file_max_bytes: 20 * 1024 * 1024,
        }
    }
}

/// A file to attach, as a client names it: `key` is the file's id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRef {
    pub key: String,
    /// Shown instead of the file's own name.
    pub name: Option<String>,
}

/// Most files on one message.
pub const ATTACHMENTS_MAX: usize = 20;
/// Longest file name kept, in characters.
pub const NAME_MAX_CHARS: usize = 255;

/// A name safe to keep and show: the last path segment, without control
/// characters, at most [`NAME_MAX_CHARS`]; `file` when nothing is left.
pub fn clean_name(given: &str) -> String {
    let last = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(NAME_MAX_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_matches('.');
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\report.pdf"), "report.pdf");
        assert_eq!(clean_name("a\nb\u{0}.txt"), "ab.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(&"é".repeat(300)).chars().count(), NAME_MAX_CHARS);
    }
}
