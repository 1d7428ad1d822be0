//! Validated values. Each constructor checks the documented limits and names
//! the field at fault, so a value of these types has already passed them.
//! Lengths count Unicode scalar values, not bytes.

use crate::error::ValidationErrors;
use serde_json::{Map, Value};

pub const METADATA_MAX_KEYS: usize = 16;
pub const METADATA_MAX_KEY_CHARS: usize = 64;
pub const METADATA_MAX_VALUE_CHARS: usize = 512;
pub const NAME_MAX_CHARS: usize = 200;
pub const EMAIL_MAX_CHARS: usize = 254;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 1024;

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Whose `metadata` a client writes. Each kind has keys that spool itself
/// shows in that object or beside it in the resource (a message's run
/// usage, a thread's or agent's counters): a client may not set those, so
/// that nothing it writes can pass for what the server recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataOf {
    Message,
    Thread,
    Agent,
    Workspace,
}

impl MetadataOf {
    /// The keys of this kind's metadata that only the server writes.
    pub fn server_keys(self) -> &'static [&'static str] {
        match self {
            // What a run records over the client's keys (`Message::metadata_with_run`).
            MetadataOf::Message => &[
                "model",
                "temperature",
                "tokens",
                "finish_reason",
                "run_uuid",
            ],
            // A thread's `model`, `temperature`, `max_tokens` and `system_prompt` are the
            // client's settings for its runs; its counters and usage are not.
            MetadataOf::Thread => &[
                "message_count",
                "last_message_at",
                "last_model_used",
                "usage",
                "input_tokens",
                "output_tokens",
                "total_tokens",
            ],
            MetadataOf::Agent => &[
                "threads_count",
                "usage_count",
                "usage_frequency",
                "last_used_at",
            ],
            MetadataOf::Workspace => &[],
        }
    }
}

/// A client-writable metadata object within the limits.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(transparent)]
pub struct Metadata(Map<String, Value>);

impl Metadata {
    /// A resource's `metadata` as a client wrote it: within the limits, and
    /// without the keys the server owns there (each answered 422 as
    /// `metadata.<key>`). Every path by which a client's metadata reaches a
    /// resource comes through here.
    pub fn client(
        of: MetadataOf,
        value: Map<String, Value>,
        errors: &mut ValidationErrors,
    ) -> Self {
        for key in of.server_keys() {
            if value.contains_key(*key) {
                errors.add(
                    format!("metadata.{key}"),
                    format!("The metadata.{key} is set by the server; it cannot be written."),
                );
            }
        }
        Self::parse("metadata", value, errors)
    }

    /// A free-form object within the metadata limits (e.g. an agent's
    /// `profile_photo_config`); a resource's `metadata` goes through
    /// [`Metadata::client`] instead.
    pub fn parse(field: &str, value: Map<String, Value>, errors: &mut ValidationErrors) -> Self {
        if value.len() > METADATA_MAX_KEYS {
            errors.add(
                field,
                format!("The {field} may not have more than {METADATA_MAX_KEYS} keys."),
            );
        }
        for (key, item) in &value {
            if chars(key) > METADATA_MAX_KEY_CHARS {
                errors.add(
                    format!("{field}.{key}"),
                    format!("The {field} keys may not be greater than {METADATA_MAX_KEY_CHARS} characters."),
                );
            }
            let len = match item {
                Value::String(s) => chars(s),
                other => chars(&other.to_string()),
            };
            if len > METADATA_MAX_VALUE_CHARS {
                errors.add(
                    format!("{field}.{key}"),
                    format!("The {field} values may not be greater than {METADATA_MAX_VALUE_CHARS} characters."),
                );
            }
        }
        Self(value)
    }

    /// Trusted input, e.g. read back from storage.
    pub fn from_stored(value: Map<String, Value>) -> Self {
        Self(value)
    }

    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    pub fn to_json_string(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}

/// A display name or title: not blank, at most 200 characters, trimmed.
pub fn name(field: &str, value: &str, errors: &mut ValidationErrors) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        errors.add(field, format!("The {field} field is required."));
    } else if chars(trimmed) > NAME_MAX_CHARS {
        errors.add(
            field,
            format!("The {field} may not be greater than {NAME_MAX_CHARS} characters."),
        );
    }
    trimmed.to_owned()
}

/// An optional short text (first name, photo url): at most 200 characters.
pub fn short_text(
    field: &str,
    value: Option<&str>,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?.trim();
    if chars(value) > NAME_MAX_CHARS {
        errors.add(
            field,
            format!("The {field} may not be greater than {NAME_MAX_CHARS} characters."),
        );
    }
    (!value.is_empty()).then(|| value.to_owned())
}

/// An email address, lower-cased so that uniqueness is case-insensitive.
pub fn email(field: &str, value: &str, errors: &mut ValidationErrors) -> String {
    let value = value.trim().to_lowercase();
    let well_formed = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if value.is_empty() {
        errors.add(field, format!("The {field} field is required."));
    } else if !well_formed {
        errors.add(field, format!("The {field} must be a valid email address."));
    } else if chars(&value) > EMAIL_MAX_CHARS {
        errors.add(
            field,
            format!("The {field} may not be greater than {EMAIL_MAX_CHARS} characters."),
        );
    }
    value
}

pub fn password(field: &str, value: &str, errors: &mut ValidationErrors) {
    let len = chars(value);
    if len < PASSWORD_MIN_CHARS {
        errors.add(
            field,
            format!("The {field} must be at least {PASSWORD_MIN_CHARS} characters."),
        );
    } else if len > PASSWORD_MAX_CHARS {
        errors.add(
            field,
            format!("The {field} may not be greater than {PASSWORD_MAX_CHARS} characters."),
        );
    }
}

/// A URL-friendly form of a name: lower-case ASCII letters, digits and dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "workspace".to_owned()
    } else {
        slug.chars().take(NAME_MAX_CHARS).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(value: Value) -> ValidationErrors {
        let mut errors = ValidationErrors::new();
        let Value::Object(map) = value else {
            panic!("object expected")
        };
        Metadata::parse("metadata", map, &mut errors);
        errors
    }

    #[test]
    fn metadata_limits_hold_at_the_edge_and_fail_one_past() {
        let sixteen: Map<String, Value> = (0..16).map(|i| (format!("k{i}"), json!(i))).collect();
        assert!(metadata(Value::Object(sixteen.clone())).is_empty());
        let mut seventeen = sixteen;
        seventeen.insert("k16".into(), json!(1));
        assert!(!metadata(Value::Object(seventeen)).is_empty());

        assert!(metadata(json!({ "é".repeat(64): 1 })).is_empty());
        assert!(!metadata(json!({ "é".repeat(65): 1 })).is_empty());

        assert!(metadata(json!({ "k": "ü".repeat(512) })).is_empty());
        assert!(!metadata(json!({ "k": "ü".repeat(513) })).is_empty());

        // Non-string values are measured by their JSON text.
        let list_510 = json!(["a".repeat(506)]); // ["aaa…"] = 506 + 4
        assert_eq!(list_510.to_string().chars().count(), 510);
        assert!(metadata(json!({ "k": list_510 })).is_empty());
        assert!(!metadata(json!({ "k": ["a".repeat(509)] })).is_empty());
    }

    #[test]
    fn server_owned_keys_are_refused_by_name() {
        let mut errors = ValidationErrors::new();
        let Value::Object(map) = json!({
            "run_uuid": "0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f",
            "finish_reason": "stop",
            "label": "kept",
        }) else {
            unreachable!()
        };
        Metadata::client(MetadataOf::Message, map.clone(), &mut errors);
        let fields: Vec<&str> = errors.0.keys().map(String::as_str).collect();
        assert_eq!(fields, ["metadata.finish_reason", "metadata.run_uuid"]);
        assert!(errors.0["metadata.run_uuid"][0].contains("set by the server"));

        // The same keys mean nothing special on a thread; its counters do.
        let mut errors = ValidationErrors::new();
        Metadata::client(MetadataOf::Thread, map, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let Value::Object(map) = json!({ "message_count": 9, "model": "echo" }) else {
            unreachable!()
        };
        Metadata::client(MetadataOf::Thread, map, &mut errors);
        assert_eq!(
            errors.0.keys().collect::<Vec<_>>(),
            ["metadata.message_count"]
        );
    }

    #[test]
    fn names_count_characters_not_bytes() {
        let mut errors = ValidationErrors::new();
        name("name", &"漢".repeat(200), &mut errors);
        assert!(errors.is_empty());
        name("name", &"漢".repeat(201), &mut errors);
        name("title", "   ", &mut errors);
        assert_eq!(errors.0.len(), 2);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        let mut errors = ValidationErrors::new();
        assert_eq!(
            email("email", " Ada@Example.COM ", &mut errors),
            "ada@example.com"
        );
        assert!(errors.is_empty());
        email("email", "no-at-sign", &mut errors);
        email("email", "a@b@c", &mut errors);
        assert_eq!(errors.0["email"].len(), 2);
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("My AI Workspace!"), "my-ai-workspace");
        assert_eq!(slugify("  ✨ "), "workspace");
    }
}
