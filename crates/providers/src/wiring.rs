//! From the configured catalog to what the core runs with: its model list
//! and the providers by name, plus the real tokenizer.

use crate::catalog::Catalog;
use crate::config::ConfigError;
use spool_core::catalog::{ModelCatalog, ModelEntry};
use spool_core::runs::Runtime;
use std::collections::HashMap;

/// Reply limit for models whose configuration names none.
const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 4_096;

/// The core's view of `catalog`. `default_model` (else `echo` when present,
/// else the first model) answers runs that name none; `naming_model`
/// writes thread titles (else each thread's own model); `memory_model`
/// writes agents' memories (else the naming model, else the run's).
pub fn core_catalog(
    catalog: &Catalog,
    default_model: Option<&str>,
    naming_model: Option<&str>,
    memory_model: Option<&str>,
) -> Result<(ModelCatalog, Runtime), ConfigError> {
    let mut providers = HashMap::new();
    let mut models = Vec::new();
    for model in catalog.models() {
        providers.insert(model.provider_name.clone(), model.provider.clone());
        let mut entry = ModelEntry::new(
            &model.name,
            &model.provider_name,
            model.context_window,
            model
                .max_output_tokens
                .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
                .min(model.context_window),
        );
        entry.upstream_name = model.upstream_model.clone();
        entry.description = Some(model.label.clone());
        entry.vision = model.vision;
        models.push(entry);
    }
    let known = |name: &str| models.iter().any(|m: &ModelEntry| m.name == name);
    for (key, name) in [
        ("default_model", default_model),
        ("naming_model", naming_model),
        ("memory_model", memory_model),
    ] {
        if let Some(name) = name
            && !known(name)
        {
            return Err(ConfigError::new(
                key.to_owned(),
                format!("no model named '{name}' is configured"),
            ));
        }
    }
    let default_model = default_model
        .map(str::to_owned)
        .or_else(|| known("echo").then(|| "echo".to_owned()))
        .or_else(|| models.first().map(|m| m.name.clone()))
        .ok_or_else(|| {
            ConfigError::new("models".to_owned(), "no model is configured".to_owned())
        })?;
    let catalog = ModelCatalog {
        models,
        default_model,
        naming_model: naming_model.map(str::to_owned),
        memory_model: memory_model.map(str::to_owned),
    };
    Ok((catalog, Runtime::new(providers, crate::tokenizer())))
}
