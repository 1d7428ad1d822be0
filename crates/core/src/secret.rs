//! Secrets are types: a plain token exists only between its creation and the
//! response that shows it once; storage sees only its SHA-256 hash. `Debug`
//! never prints a secret.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;

/// Prefix of API keys; anything else presented as a credential is a session token.
pub const API_KEY_PREFIX: &str = "spk_";
/// Prefix of session tokens, so that a leaked one is recognisable in scans.
pub const SESSION_PREFIX: &str = "sps_";

/// A credential as the client holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(String);

impl PlainToken {
    /// 256 random bits, hex-encoded, behind `prefix`.
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", hex::encode(bytes)))
    }

    pub fn from_presented(value: &str) -> Self {
        Self(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_api_key(&self) -> bool {
        self.0.starts_with(API_KEY_PREFIX)
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }

    /// The part that may be shown later to tell keys apart (`spk_1a2b3c4d`).
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(API_KEY_PREFIX.len() + 8).collect()
    }
}

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(<redacted>)")
    }
}

/// The SHA-256 of a token: what is stored and looked up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", hex::encode(&self.0[..4]))
    }
}

/// A password as typed; never stored, never logged.
pub struct Password(String);

impl Password {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// An argon2id PHC string with a random salt. Expensive by design: call
    /// it off the async runtime.
    pub fn hash(&self) -> String {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .expect("argon2 with default parameters accepts any password")
            .to_string()
    }

    /// Checks against a stored PHC string; a malformed hash never matches.
    pub fn verify(&self, phc: &str) -> bool {
        PasswordHash::new(phc)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(self.0.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_redacted() {
        let a = PlainToken::generate(API_KEY_PREFIX);
        let b = PlainToken::generate(API_KEY_PREFIX);
        assert_ne!(a, b);
        assert!(a.is_api_key());
        assert_eq!(a.expose().len(), 4 + 64);
        assert!(!format!("{a:?}").contains(&a.expose()[4..]));
        assert_eq!(a.hash(), PlainToken::from_presented(a.expose()).hash());
        assert!(!PlainToken::generate(SESSION_PREFIX).is_api_key());
    }

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = Password::new("correct horse").hash();
        assert!(phc.starts_with("$argon2id$"));
        assert!(Password::new("correct horse").verify(&phc));
        assert!(!Password::new("wrong horse").verify(&phc));
        assert!(!Password::new("x").verify("not a phc string"));
        assert_eq!(
            format!("{:?}", Password::new("secret")),
            "Password(<redacted>)"
        );
    }
}

/// A credential spool keeps to send on (a workspace provider's key or
/// header value), as a client gave it: sealed before it is stored, never
/// shown again, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}
