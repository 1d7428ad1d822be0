//! Deterministic message text: 12–30 common English words plus one "topic"
//! word out of 1,000 made-up ones. A topic word is in about one message in a
//! thousand, so S6's searches each match about 1,000 of 1,000,000 messages —
//! a selective search, the kind a user types — rather than half the corpus.

const COMMON: &[&str] = &[
    "the",
    "customer",
    "asked",
    "about",
    "pricing",
    "plans",
    "and",
    "whether",
    "annual",
    "billing",
    "includes",
    "support",
    "we",
    "can",
    "help",
    "with",
    "that",
    "please",
    "share",
    "your",
    "account",
    "details",
    "so",
    "I",
    "check",
    "invoice",
    "for",
    "last",
    "month",
    "thanks",
    "team",
    "upgrade",
    "to",
    "pro",
    "tier",
    "is",
    "available",
    "today",
    "order",
    "shipping",
    "delivery",
    "was",
    "late",
    "refund",
    "policy",
    "allows",
    "returns",
    "within",
    "thirty",
    "days",
    "password",
    "reset",
    "link",
    "expired",
    "again",
    "new",
    "feature",
    "request",
    "dashboard",
    "export",
    "data",
    "weekly",
    "report",
    "error",
    "message",
    "when",
    "saving",
    "settings",
    "it",
    "works",
    "now",
    "great",
    "news",
    "integration",
    "calendar",
    "sync",
    "missing",
    "events",
    "timezone",
    "looks",
    "wrong",
    "could",
    "you",
    "confirm",
    "a",
    "of",
    "in",
    "on",
    "my",
    "our",
];

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tu", "sa", "vek", "dor", "pi", "zan",
];

pub struct Words {
    topics: Vec<String>,
}

impl Default for Words {
    fn default() -> Self {
        Self::new()
    }
}

impl Words {
    pub fn new() -> Self {
        let topics = (0..1000)
            .map(|i| {
                let s = |d: usize| SYLLABLES[(i / d) % 10];
                format!("{}{}{}x", s(100), s(10), s(1))
            })
            .collect();
        Self { topics }
    }

    /// The words S6 searches for, in turn.
    pub fn search_words(&self) -> Vec<String> {
        self.topics.iter().step_by(50).cloned().collect()
    }

    /// The `i`th message text; the same `i` always gives the same text.
    pub fn sentence(&self, i: u64) -> String {
        let mut rng = SplitMix(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED);
        let len = 12 + (rng.next() % 19) as usize;
        let topic_at = (rng.next() as usize) % len;
        let mut out = String::with_capacity(len * 8);
        for w in 0..len {
            if w > 0 {
                out.push(' ');
            }
            if w == topic_at {
                out.push_str(&self.topics[(rng.next() % 1000) as usize]);
            } else {
                out.push_str(COMMON[(rng.next() as usize) % COMMON.len()]);
            }
        }
        out.push('.');
        out
    }
}

/// A tiny deterministic generator; statistical quality is beside the point.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::Words;

    #[test]
    fn sentences_are_deterministic_and_carry_one_topic() {
        let words = Words::new();
        assert_eq!(words.sentence(7), words.sentence(7));
        assert_ne!(words.sentence(7), words.sentence(8));
        let topics = words
            .sentence(7)
            .split(' ')
            .filter(|w| w.trim_end_matches('.').ends_with('x'))
            .count();
        assert_eq!(topics, 1);
        assert_eq!(words.search_words().len(), 20);
    }
}
