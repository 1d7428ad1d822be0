//! The model catalog: `[[models]]` tables naming the models users may ask
//! for, each served by one of the `[[providers]]`.

use crate::config::{ConfigError, ProviderConfig};
use crate::echo::ECHO_LABEL;
use serde::Deserialize;
use spool_core::provider::Provider;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `[[providers]]` and `[[models]]`, as a config file holds them.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersConfig {
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    #[serde(default)]
    pub models: Vec<ModelConfig>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// What clients ask for (a run's `model`, an agent's
    /// `large_language_model`).
    pub name: String,
    /// The `[[providers]]` entry that serves it.
    pub provider: String,
    /// The provider's own id for it; `name` when absent.
    pub upstream_model: Option<String>,
    /// Prompt plus reply, in tokens.
    pub context_window: u32,
    /// The reply limit when a request names none.
    pub max_output_tokens: Option<u32>,
    /// How it is shown in model lists; the name when absent.
    pub label: Option<String>,
    /// Takes images: attached images reach it as image parts (else a note).
    #[serde(default)]
    pub vision: bool,
}

/// A model ready to run.
#[derive(Clone)]
pub struct Model {
    pub name: String,
    pub upstream_model: String,
    pub provider_name: String,
    pub provider: Arc<dyn Provider>,
    pub context_window: u32,
    pub max_output_tokens: Option<u32>,
    pub label: String,
    /// Served by the offline `echo` provider: not a real model.
    pub development: bool,
    pub vision: bool,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("name", &self.name)
            .field("upstream_model", &self.upstream_model)
            .field("provider_name", &self.provider_name)
            .field("context_window", &self.context_window)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The configured models by name, in name order.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    models: BTreeMap<String, Model>,
}

impl Catalog {
    /// Builds every provider and checks every reference; the first problem
    /// found is the error.
    pub fn from_config(config: &ProvidersConfig) -> Result<Catalog, ConfigError> {
        let mut providers: BTreeMap<&str, (&ProviderConfig, Arc<dyn Provider>)> = BTreeMap::new();
        for (i, provider) in config.providers.iter().enumerate() {
            let name = provider.name();
            if name.trim().is_empty() {
                return Err(ConfigError::new(
                    format!("providers[{i}].name"),
                    "must not be empty",
                ));
            }
            if providers.contains_key(name) {
                return Err(ConfigError::new(
                    format!("providers[{i}].name"),
                    format!("'{name}' is used by two providers"),
                ));
            }
            providers.insert(name, (provider, crate::build(provider)?));
        }
        let mut models = BTreeMap::new();
        for (i, model) in config.models.iter().enumerate() {
            let key = |field: &str| format!("models[{i}].{field}");
            if model.name.trim().is_empty() {
                return Err(ConfigError::new(key("name"), "must not be empty"));
            }
            if models.contains_key(&model.name) {
                return Err(ConfigError::new(
                    key("name"),
                    format!("'{}' is listed twice", model.name),
                ));
            }
            let Some((provider_config, provider)) = providers.get(model.provider.as_str()) else {
                return Err(ConfigError::new(
                    key("provider"),
                    format!("no [[providers]] entry is named '{}'", model.provider),
                ));
            };
            if model.context_window == 0 {
                return Err(ConfigError::new(
                    key("context_window"),
                    "must be greater than 0",
                ));
            }
            if model
                .max_output_tokens
                .is_some_and(|m| m == 0 || m >= model.context_window)
            {
                return Err(ConfigError::new(
                    key("max_output_tokens"),
                    "must be greater than 0 and less than context_window",
                ));
            }
            let development = matches!(provider_config, ProviderConfig::Echo(_));
            let label = match (&model.label, development) {
                // The echo model never passes for a real one.
                (Some(label), true) => format!("{label} — {ECHO_LABEL}"),
                (None, true) => ECHO_LABEL.to_owned(),
                (Some(label), false) => label.clone(),
                (None, false) => model.name.clone(),
            };
            let upstream_model = model
                .upstream_model
                .clone()
                .unwrap_or_else(|| model.name.clone());
            models.insert(
                model.name.clone(),
                Model {
                    name: model.name.clone(),
                    upstream_model,
                    provider_name: model.provider.clone(),
                    provider: provider.clone(),
                    context_window: model.context_window,
                    max_output_tokens: model.max_output_tokens,
                    label,
                    development,
                    vision: model.vision,
                },
            );
        }
        Ok(Catalog { models })
    }

    /// The catalog when nothing is configured: the `echo` model alone.
    pub fn offline() -> Catalog {
        let config: ProvidersConfig = serde_json::from_value(serde_json::json!({
            "providers": [{"kind": "echo", "name": "echo"}],
            "models": [{"name": "echo", "provider": "echo", "context_window": 128_000}],
        }))
        .expect("the offline catalog's config is valid");
        Catalog::from_config(&config).expect("the offline catalog builds")
    }

    pub fn get(&self, name: &str) -> Option<&Model> {
        self.models.get(name)
    }

    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.models.values()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}
