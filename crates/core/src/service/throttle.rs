//! The sign-in throttle: a budget of failed sign-ins per email and per client
//! address. Each attempt takes a token from both budgets before the password
//! is checked (so concurrent guesses cannot all slip through while argon2
//! runs); a success gives the email its whole budget back and the address
//! its token. An unknown email spends its budget like a known one, so the
//! throttle tells no more about who has an account than the 422 does.

use super::limiter::{Limiter, RateLimit};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// `failures` failed sign-ins at once, then one more every
/// `window / failures`: at most about `failures` per `window` over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureBudget {
    pub failures: u32,
    pub window: Duration,
}

impl FailureBudget {
    fn rate(self) -> RateLimit {
        let failures = f64::from(self.failures.max(1));
        RateLimit {
            per_second: failures / self.window.as_secs_f64().max(1.0),
            burst: failures,
        }
    }
}

/// Which budgets sign-in keeps; `None` turns that one off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInThrottle {
    /// Per email, compared case-insensitively.
    pub per_email: Option<FailureBudget>,
    /// Per client address (IPv6 by its /64), when the server knows it.
    pub per_address: Option<FailureBudget>,
}

impl Default for SignInThrottle {
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        Self {
            per_email: Some(FailureBudget {
                failures: 5,
                window,
            }),
            per_address: Some(FailureBudget {
                failures: 50,
                window,
            }),
        }
    }
}

pub(crate) struct Throttle {
    per_email: Option<Limiter>,
    per_address: Option<Limiter>,
}

/// The tokens one attempt took, to give back when it turns out not to be a
/// failed guess.
pub(crate) struct Attempt {
    email: Option<[u8; 16]>,
    address: Option<[u8; 16]>,
}

impl Throttle {
    pub(crate) fn new(config: SignInThrottle) -> Self {
        Self {
            per_email: config.per_email.map(|b| Limiter::new(b.rate())),
            per_address: config.per_address.map(|b| Limiter::new(b.rate())),
        }
    }

    /// Takes a token from the email's budget and the address's; when either
    /// is spent, takes none and answers the whole seconds until both have one.
    pub(crate) fn begin(
        &self,
        email: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, u64> {
        let email_key = email_key(email);
        let address_key = address.map(address_key);
        let email = match &self.per_email {
            Some(limiter) => limiter.check(email_key, now).map(|()| Some(email_key)),
            None => Ok(None),
        };
        let address = match (&self.per_address, address_key) {
            (Some(limiter), Some(key)) => limiter.check(key, now).map(|()| Some(key)),
            _ => Ok(None),
        };
        match (email, address) {
            (Ok(email), Ok(address)) => Ok(Attempt { email, address }),
            (Ok(email), Err(wait)) => {
                self.give_back_email(email);
                Err(wait)
            }
            (Err(wait), Ok(address)) => {
                self.give_back_address(address);
                Err(wait)
            }
            (Err(a), Err(b)) => Err(a.max(b)),
        }
    }

    /// The right password: the email's failures are forgotten and the
    /// address's token returned.
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        if let (Some(limiter), Some(key)) = (&self.per_email, attempt.email) {
            limiter.reset(key);
        }
        self.give_back_address(attempt.address);
    }

    /// The attempt could not be judged (a storage error): not a guess.
    pub(crate) fn undone(&self, attempt: Attempt) {
        self.give_back_email(attempt.email);
        self.give_back_address(attempt.address);
    }

    fn give_back_email(&self, key: Option<[u8; 16]>) {
        if let (Some(limiter), Some(key)) = (&self.per_email, key) {
            limiter.refund(key);
        }
    }

    fn give_back_address(&self, key: Option<[u8; 16]>) {
        if let (Some(limiter), Some(key)) = (&self.per_address, key) {
            limiter.refund(key);
        }
    }
}

/// A digest, so that the throttle keeps no email in memory and every key has
/// one size. `email` is already trimmed and lower-cased by validation.
fn email_key(email: &str) -> [u8; 16] {
    let digest = Sha256::digest(email.as_bytes());
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// IPv4 (also when mapped into IPv6) by the whole address; IPv6 by its /64,
/// the smallest block a site is usually given, so that one client cannot
/// get a fresh budget from each of its addresses.
fn address_key(address: IpAddr) -> [u8; 16] {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_ipv6_mapped().octets(),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                octets
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budgets(per_email: u32, per_address: u32) -> Throttle {
        let window = Duration::from_secs(900);
        Throttle::new(SignInThrottle {
            per_email: Some(FailureBudget {
                failures: per_email,
                window,
            }),
            per_address: Some(FailureBudget {
                failures: per_address,
                window,
            }),
        })
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn an_email_has_its_burst_then_one_attempt_per_window_share() {
        let throttle = budgets(5, 100);
        let start = Instant::now();
        for _ in 0..5 {
            assert!(throttle.begin("ada@x.io", ip("10.0.0.1"), start).is_ok());
        }
        // 900 s / 5: one more every three minutes.
        assert_eq!(
            throttle.begin("ada@x.io", ip("10.0.0.2"), start).err(),
            Some(180)
        );
        assert!(throttle.begin("bob@x.io", ip("10.0.0.1"), start).is_ok());
        let later = start + Duration::from_secs(90);
        assert_eq!(throttle.begin("ada@x.io", None, later).err(), Some(90));
        let later = start + Duration::from_secs(180);
        assert!(throttle.begin("ada@x.io", None, later).is_ok());
        assert!(throttle.begin("ada@x.io", None, later).is_err());
    }

    #[test]
    fn an_address_has_its_own_budget_across_emails() {
        let throttle = budgets(100, 3);
        let now = Instant::now();
        for n in 0..3 {
            let email = format!("user{n}@x.io");
            assert!(throttle.begin(&email, ip("192.0.2.7"), now).is_ok());
        }
        assert_eq!(
            throttle.begin("new@x.io", ip("192.0.2.7"), now).err(),
            Some(300)
        );
        assert!(throttle.begin("new@x.io", ip("192.0.2.8"), now).is_ok());
        assert!(
            throttle.begin("other@x.io", None, now).is_ok(),
            "no address: the email's budget alone"
        );

        // An attempt the address refuses takes nothing from the email's budget.
        let throttle = budgets(1, 1);
        assert!(throttle.begin("spent@x.io", ip("192.0.2.1"), now).is_ok());
        assert!(throttle.begin("a@x.io", ip("192.0.2.1"), now).is_err());
        assert!(throttle.begin("a@x.io", ip("192.0.2.2"), now).is_ok());
    }

    #[test]
    fn ipv6_clients_share_a_budget_per_64_and_mapped_ipv4_is_ipv4() {
        let throttle = budgets(100, 1);
        let now = Instant::now();
        assert!(throttle.begin("a@x.io", ip("2001:db8:1:2::1"), now).is_ok());
        assert!(
            throttle
                .begin("b@x.io", ip("2001:db8:1:2::ffff"), now)
                .is_err()
        );
        assert!(throttle.begin("b@x.io", ip("2001:db8:1:3::1"), now).is_ok());
        assert!(throttle.begin("c@x.io", ip("198.51.100.4"), now).is_ok());
        assert!(
            throttle
                .begin("d@x.io", ip("::ffff:198.51.100.4"), now)
                .is_err()
        );
    }

    #[test]
    fn success_restores_the_email_budget_and_the_address_token() {
        let throttle = budgets(2, 2);
        let now = Instant::now();
        let address = ip("10.1.1.1");
        assert!(throttle.begin("ada@x.io", address, now).is_ok());
        let attempt = throttle.begin("ada@x.io", address, now).unwrap();
        throttle.succeeded(attempt);
        // The email's whole budget is back, the address's one token.
        assert!(throttle.begin("ada@x.io", None, now).is_ok());
        assert!(throttle.begin("ada@x.io", None, now).is_ok());
        assert!(throttle.begin("ada@x.io", None, now).is_err());
        let attempt = throttle.begin("bob@x.io", address, now).unwrap();
        throttle.undone(attempt);
        assert!(throttle.begin("bob@x.io", address, now).is_ok());
        assert!(throttle.begin("carol@x.io", address, now).is_err());
    }

    #[test]
    fn turned_off_budgets_refuse_nothing() {
        let throttle = Throttle::new(SignInThrottle {
            per_email: None,
            per_address: None,
        });
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(throttle.begin("ada@x.io", ip("10.0.0.1"), now).is_ok());
        }
    }
}
