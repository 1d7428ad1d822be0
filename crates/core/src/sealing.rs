//! Secrets spool must send on later — the credentials of the providers a
//! workspace adds — are sealed at rest with ChaCha20-Poly1305 under a key
//! from the server's configuration. Each sealed value names the id of the
//! key that sealed it, so that keys can be rotated: the first key of the
//! ring seals, every key of it opens, and `spool keys rotate` re-seals what
//! an older key holds. The row a secret belongs to is bound in as
//! associated data, so a sealed value copied onto another row does not open.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;

/// A key is 256 bits.
pub const KEY_BYTES: usize = 32;
/// The longest key id accepted.
pub const KEY_ID_MAX_CHARS: usize = 32;

/// A secret's sealed form, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The id of the key that sealed it.
    pub key_id: String,
    /// Base64 of the nonce, the ciphertext and its tag.
    pub ciphertext: String,
}

impl Sealed {
    /// A stored row's two columns: both set, or nothing sealed.
    pub fn from_columns(key_id: Option<String>, ciphertext: Option<String>) -> Option<Sealed> {
        Some(Sealed {
            key_id: key_id?,
            ciphertext: ciphertext?,
        })
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("no encryption key is configured (encryption_keys)")]
    NoKey,
    #[error("the key '{0}' that sealed it is not configured (encryption_keys)")]
    UnknownKey(String),
    #[error("it does not open with the key '{0}': altered, or another key of that id")]
    Corrupt(String),
}

struct Key {
    id: String,
    key: LessSafeKey,
}

/// The configured keys, the sealing one first.
#[derive(Default)]
pub struct Keyring {
    keys: Vec<Key>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(|k| &k.id))
            .finish()
    }
}

impl Keyring {
    /// Keys written `id:base64` (32 bytes), the sealing one first. The
    /// error names the entry at fault and never shows a key.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<Keyring, String> {
        let mut keys: Vec<Key> = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let spec = spec.as_ref().trim();
            let Some((id, material)) = spec.split_once(':') else {
                return Err(format!(
                    "entry {} must be written id:base64 (see `spool keys generate`)",
                    i + 1
                ));
            };
            let id = id.trim();
            if id.is_empty()
                || id.chars().count() > KEY_ID_MAX_CHARS
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(format!(
                    "entry {}: the id must be 1 to {KEY_ID_MAX_CHARS} letters, digits, '-', '_' or '.'",
                    i + 1
                ));
            }
            if keys.iter().any(|k| k.id == id) {
                return Err(format!("entry {}: the id '{id}' is used twice", i + 1));
            }
            let bytes = BASE64
                .decode(material.trim())
                .ok()
                .filter(|b| b.len() == KEY_BYTES)
                .ok_or_else(|| {
                    format!(
                        "entry {} ('{id}'): the key must be {KEY_BYTES} bytes in base64",
                        i + 1
                    )
                })?;
            let key = UnboundKey::new(&CHACHA20_POLY1305, &bytes)
                .map_err(|_| format!("entry {} ('{id}'): not a usable key", i + 1))?;
            keys.push(Key {
                id: id.to_owned(),
                key: LessSafeKey::new(key),
            });
        }
        Ok(Keyring { keys })
    }

    /// A new random key as `parse` reads it.
    pub fn generate(id: &str) -> String {
        let mut bytes = [0u8; KEY_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the system's random source works");
        format!("{id}:{}", BASE64.encode(bytes))
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The id of the key that seals.
    pub fn current_id(&self) -> Option<&str> {
        self.keys.first().map(|k| k.id.as_str())
    }

    /// `plaintext` sealed under the current key, bound to `context`.
    pub fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Sealed, SealError> {
        let key = self.keys.first().ok_or(SealError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system's random source works");
        let mut buffer = plaintext.to_vec();
        key.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut buffer,
            )
            .map_err(|_| SealError::Corrupt(key.id.clone()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        Ok(Sealed {
            key_id: key.id.clone(),
            ciphertext: BASE64.encode(out),
        })
    }

    /// The plaintext of `sealed`, which must have been sealed with `context`.
    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Result<Vec<u8>, SealError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        let corrupt = || SealError::Corrupt(key.id.clone());
        let bytes = BASE64.decode(&sealed.ciphertext).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
        let mut body = body.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context), &mut body)
            .map_err(|_| corrupt())?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_their_key_and_context_only() {
        let old = Keyring::generate("old");
        let new = Keyring::generate("new");
        let before = Keyring::parse(std::slice::from_ref(&old)).unwrap();
        let after = Keyring::parse(&[new, old]).unwrap();
        let sealed = before.seal(b"sk-secret", b"row-1").unwrap();
        assert_eq!(sealed.key_id, "old");
        assert!(!sealed.ciphertext.contains("sk-secret"));
        // The rotated ring still opens it, and seals under the new key.
        assert_eq!(after.open(&sealed, b"row-1").unwrap(), b"sk-secret");
        assert_eq!(after.seal(b"x", b"row-1").unwrap().key_id, "new");
        // Another row's context, an altered byte, an unknown key: refused.
        assert!(matches!(
            after.open(&sealed, b"row-2"),
            Err(SealError::Corrupt(_))
        ));
        let mut altered = BASE64.decode(&sealed.ciphertext).unwrap();
        altered[NONCE_LEN] ^= 1;
        let altered = Sealed {
            ciphertext: BASE64.encode(altered),
            ..sealed.clone()
        };
        assert!(after.open(&altered, b"row-1").is_err());
        let unknown = Keyring::parse(&[Keyring::generate("other")]).unwrap();
        assert_eq!(
            unknown.open(&sealed, b"row-1"),
            Err(SealError::UnknownKey("old".into()))
        );
        assert_eq!(Keyring::default().seal(b"x", b"y"), Err(SealError::NoKey));
    }

    #[test]
    fn bad_key_entries_are_named_without_showing_the_key() {
        for (spec, says) in [
            ("nocolon", "id:base64"),
            (":AAAA", "the id"),
            ("k:short", "32 bytes"),
            ("sp ace:AAAA", "the id"),
        ] {
            let err = Keyring::parse(&[spec]).unwrap_err();
            assert!(err.contains(says), "{spec}: {err}");
        }
        let key = Keyring::generate("k");
        let err = Keyring::parse(&[key.clone(), key.clone()]).unwrap_err();
        assert!(err.contains("twice") && !err.contains(&key[2..]), "{err}");
        assert_eq!(format!("{:?}", Keyring::parse(&[key]).unwrap()), "[\"k\"]");
    }
}
