//! Providers a workspace adds itself: an OpenAI-compatible or Anthropic
//! endpoint, its credentials (sealed; only hints are kept in the clear) and
//! the models on it, which the workspace's runs may use beside the
//! server's.

use crate::Timestamp;
use crate::ids::{ProviderId, UserId, WorkspaceId};
use crate::sealing::Sealed;
use std::collections::BTreeMap;

/// The protocol a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// Chat completions, as OpenAI and the many servers compatible with it.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "openai" => Some(ProviderKind::OpenAi),
            "anthropic" => Some(ProviderKind::Anthropic),
            _ => None,
        }
    }
}

/// How requests to the provider authenticate, as far as it may be shown:
/// the secrets themselves are sealed apart, and only their hints are here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// Nothing is sent (a local server).
    None,
    /// One key: in `header` as it is, else the kind's usual place
    /// (`Authorization: Bearer …`, Anthropic's `x-api-key`).
    ApiKey {
        header: Option<String>,
        hint: String,
    },
    /// Headers sent as given, by name, each with its value's hint.
    Headers { hints: BTreeMap<String, String> },
}

impl Authentication {
    pub fn type_name(&self) -> &'static str {
        match self {
            Authentication::None => "none",
            Authentication::ApiKey { .. } => "api_key",
            Authentication::Headers { .. } => "headers",
        }
    }
}

/// A model the provider serves, as the workspace names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderModel {
    /// What runs ask for; unique in the workspace and not one of the
    /// server's own models.
    pub name: String,
    /// The provider's id for it; `name` when absent.
    pub upstream_model: Option<String>,
    pub context_window: u32,
    pub max_output_tokens: Option<u32>,
    pub label: Option<String>,
    pub vision: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct WorkspaceProvider {
    pub id: ProviderId,
    pub workspace_id: WorkspaceId,
    /// Who added it; `None` once that user is gone (the provider stays).
    pub user_id: Option<UserId>,
    pub name: String,
    pub description: Option<String>,
    pub kind: ProviderKind,
    /// Up to and without `/chat/completions` (OpenAI) or `/v1/messages`.
    pub base_url: String,
    pub authentication: Authentication,
    /// The credentials, sealed; `None` with `Authentication::None`.
    pub secret: Option<Sealed>,
    pub models: Vec<ProviderModel>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// How the stores keep `Authentication` (a JSON object, no secret in it).
pub fn authentication_json(auth: &Authentication) -> serde_json::Value {
    use serde_json::json;
    match auth {
        Authentication::None => json!({"type": "none"}),
        Authentication::ApiKey { header, hint } => {
            json!({"type": "api_key", "header": header, "hint": hint})
        }
        Authentication::Headers { hints } => json!({"type": "headers", "headers": hints}),
    }
}

/// `authentication_json` read back; `None` for anything else.
pub fn authentication_from_json(value: &serde_json::Value) -> Option<Authentication> {
    let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str);
    match text("type")? {
        "none" => Some(Authentication::None),
        "api_key" => Some(Authentication::ApiKey {
            header: text("header").map(str::to_owned),
            hint: text("hint")?.to_owned(),
        }),
        "headers" => {
            let hints = value
                .get("headers")?
                .as_object()?
                .iter()
                .map(|(name, hint)| Some((name.clone(), hint.as_str()?.to_owned())))
                .collect::<Option<BTreeMap<_, _>>>()?;
            Some(Authentication::Headers { hints })
        }
        _ => None,
    }
}

/// How the stores keep a provider's models (a JSON array).
pub fn models_json(models: &[ProviderModel]) -> serde_json::Value {
    models
        .iter()
        .map(|m| {
            serde_json::json!({
                "name": m.name,
                "upstream_model": m.upstream_model,
                "context_window": m.context_window,
                "max_output_tokens": m.max_output_tokens,
                "label": m.label,
                "vision": m.vision,
            })
        })
        .collect()
}

/// `models_json` read back; `None` for anything else.
pub fn models_from_json(value: &serde_json::Value) -> Option<Vec<ProviderModel>> {
    value
        .as_array()?
        .iter()
        .map(|m| {
            let text = |key: &str| {
                m.get(key)
                    .and_then(serde_json::Value::as_str)
                    .map(str::to_owned)
            };
            let number = |key: &str| {
                m.get(key)
                    .and_then(serde_json::Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
            };
            Some(ProviderModel {
                name: text("name")?,
                upstream_model: text("upstream_model"),
                context_window: number("context_window")?,
                max_output_tokens: number("max_output_tokens"),
                label: text("label"),
                vision: m.get("vision").and_then(serde_json::Value::as_bool)?,
            })
        })
        .collect()
}

/// What may be shown of a secret: its last four characters when it is
/// long enough that they give little away, else nothing.
pub fn secret_hint(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 12 {
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("…{tail}")
    } else {
        "…".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_show_four_characters_of_long_secrets_only() {
        assert_eq!(secret_hint("sk-proj-abcdefgh1234"), "…1234");
        assert_eq!(secret_hint("short-key"), "…");
    }

    #[test]
    fn the_stored_forms_read_back() {
        for auth in [
            Authentication::None,
            Authentication::ApiKey {
                header: Some("api-key".into()),
                hint: "…1234".into(),
            },
            Authentication::Headers {
                hints: BTreeMap::from([("X-Key".into(), "…".into())]),
            },
        ] {
            assert_eq!(
                authentication_from_json(&authentication_json(&auth)),
                Some(auth)
            );
        }
        let models = vec![ProviderModel {
            name: "m".into(),
            upstream_model: Some("vendor/m".into()),
            context_window: 8_000,
            max_output_tokens: None,
            label: None,
            vision: true,
        }];
        assert_eq!(models_from_json(&models_json(&models)), Some(models));
    }
}
