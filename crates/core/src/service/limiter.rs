//! Token buckets kept in memory on each node (so a cluster of N nodes allows
//! up to N times the rate to a client that spreads its requests): one per
//! session or API key for the request rate, and the sign-in throttle's (see
//! `throttle`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: f64,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub(crate) struct Limiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<[u8; 16], Bucket>>,
}

/// Buckets idle this long are full again and can be forgotten.
const SWEEP_EVERY: usize = 10_000;

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; on refusal, the whole seconds until one is free.
    pub(crate) fn check(&self, key: [u8; 16], now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= SWEEP_EVERY {
            let full_after = self.limit.burst / self.limit.per_second;
            buckets.retain(|_, b| now.duration_since(b.at).as_secs_f64() < full_after);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.limit.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.limit.per_second).min(self.limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.limit.per_second;
            Err(wait.ceil().max(1.0) as u64)
        }
    }

    /// Gives back a token [`check`](Self::check) took, up to the burst.
    pub(crate) fn refund(&self, key: [u8; 16]) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(&key) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.limit.burst);
        }
    }

    /// Forgets `key`: its next check starts from a full bucket.
    pub(crate) fn reset(&self, key: [u8; 16]) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn allows_the_burst_then_refills_at_the_rate() {
        let limiter = Limiter::new(RateLimit {
            per_second: 2.0,
            burst: 3.0,
        });
        let start = Instant::now();
        let key = [1; 16];
        for _ in 0..3 {
            assert!(limiter.check(key, start).is_ok());
        }
        assert_eq!(limiter.check(key, start), Err(1));
        assert!(
            limiter.check([2; 16], start).is_ok(),
            "other credentials are unaffected"
        );
        assert!(
            limiter
                .check(key, start + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check(key, start + Duration::from_millis(500))
                .is_err()
        );
    }

    #[test]
    fn refunds_and_resets_give_tokens_back() {
        let limiter = Limiter::new(RateLimit {
            per_second: 0.001,
            burst: 2.0,
        });
        let now = Instant::now();
        let key = [3; 16];
        assert!(limiter.check(key, now).is_ok());
        assert!(limiter.check(key, now).is_ok());
        assert!(limiter.check(key, now).is_err());
        limiter.refund(key);
        assert!(limiter.check(key, now).is_ok());
        assert!(limiter.check(key, now).is_err());
        limiter.reset(key);
        assert!(limiter.check(key, now).is_ok());
        assert!(limiter.check(key, now).is_ok());
        limiter.refund(key);
        limiter.refund(key);
        limiter.refund(key);
        assert!(limiter.check(key, now).is_ok());
        assert!(limiter.check(key, now).is_ok());
        assert!(
            limiter.check(key, now).is_err(),
            "refunds stop at the burst"
        );
    }
}
