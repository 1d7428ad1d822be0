//! Token counting with OpenAI's `o200k_base` encoding (the GPT-4o family's).
//! Other models' tokenizers differ by some percent; for fitting prompts into
//! context windows that is close enough, given a margin.
//!
//! The BPE ranks ship inside the `tiktoken-rs` crate (`include_str!`): nothing
//! is downloaded, at build time or at run time.

use spool_core::provider::Tokenizer;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, LazyLock, Mutex};

/// Texts shorter than this are counted every time: hashing them costs about
/// what encoding them does.
const MEMO_MIN_BYTES: usize = 64;
/// Counts remembered at most; past it the memory starts afresh.
const MEMO_MAX_ENTRIES: usize = 65_536;

/// Loads the encoding at its first use, not at start: a server that never
/// counts (no runs) does not carry the ranks in memory.
///
/// A run counts every message of its thread's history, so each run of a
/// thread used to encode the same messages again. Counts of longer texts are
/// remembered, keyed by the text's length and a hash whose keys are random
/// per process (no text can be crafted to share another's entry); a few
/// bytes per message instead of an encoding per message per run.
pub struct O200kTokenizer {
    hasher: RandomState,
    memo: Mutex<HashMap<(usize, u64), usize>>,
}

impl O200kTokenizer {
    /// The process-wide instance; the first count parses the ranks (some
    /// tens of milliseconds in a release build), later ones are free.
    pub fn shared() -> Arc<O200kTokenizer> {
        static SHARED: LazyLock<Arc<O200kTokenizer>> = LazyLock::new(|| {
            Arc::new(O200kTokenizer {
                hasher: RandomState::new(),
                memo: Mutex::new(HashMap::new()),
            })
        });
        SHARED.clone()
    }

    fn encode(text: &str) -> usize {
        tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(text)
            .len()
    }
}

impl Tokenizer for O200kTokenizer {
    /// Special-token text such as `<|endoftext|>` counts as ordinary text:
    /// it is what a user typed, not a control token.
    fn count(&self, text: &str) -> usize {
        if text.len() < MEMO_MIN_BYTES {
            return Self::encode(text);
        }
        let key = (text.len(), self.hasher.hash_one(text));
        let memo = || self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = memo().get(&key) {
            return *count;
        }
        let count = Self::encode(text);
        let mut memo = memo();
        if memo.len() >= MEMO_MAX_ENTRIES {
            memo.clear();
        }
        memo.insert(key, count);
        count
    }
}

/// The tokenizer to count with, shared by the whole process.
pub fn tokenizer() -> Arc<dyn Tokenizer> {
    O200kTokenizer::shared()
}
