//! Token counting with OpenAI's `o200k_base` encoding (the GPT-4o family's).
//! Other models' tokenizers differ by some percent; for fitting prompts into
//! context windows that is close enough, given a margin.
//!
//! The BPE ranks ship inside the `tiktoken-rs` crate (`include_str!`): nothing
//! is downloaded, at build time or at run time.

use spool_core::provider::Tokenizer;
use std::sync::{Arc, LazyLock};

/// Loads the encoding at its first use, not at start: a server that never
/// counts (no runs) does not carry the ranks in memory.
pub struct O200kTokenizer;

impl O200kTokenizer {
    /// The process-wide instance; the first count parses the ranks (some
    /// tens of milliseconds in a release build), later ones are free.
    pub fn shared() -> Arc<O200kTokenizer> {
        static SHARED: LazyLock<Arc<O200kTokenizer>> = LazyLock::new(|| Arc::new(O200kTokenizer));
        SHARED.clone()
    }
}

impl Tokenizer for O200kTokenizer {
    /// Special-token text such as `<|endoftext|>` counts as ordinary text:
    /// it is what a user typed, not a control token.
    fn count(&self, text: &str) -> usize {
        tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(text)
            .len()
    }
}

/// The tokenizer to count with, shared by the whole process.
pub fn tokenizer() -> Arc<dyn Tokenizer> {
    O200kTokenizer::shared()
}
