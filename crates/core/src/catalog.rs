//! The large language models this server can call, from configuration.

use uuid::Uuid;

/// The built-in offline model: answers from the thread itself.
pub const ECHO_MODEL: &str = "echo";

#[derive(Clone, Debug, PartialEq)]
pub struct ModelEntry {
    /// Stable across restarts: derived from the name.
    pub uuid: Uuid,
    /// What clients ask for (`model` in a run, `metadata.model`, …).
    pub name: String,
    /// The configured provider that serves it.
    pub provider: String,
    /// The provider's own name for it, when it differs from `name`.
    pub upstream_name: String,
    pub context_window: u32,
    pub max_output_tokens: u32,
    pub description: Option<String>,
    /// Takes images as input (`vision = true` in the catalog).
    pub vision: bool,
    /// The workspace provider that serves it; `None`: one of the server's.
    pub workspace_provider: Option<(crate::WorkspaceId, crate::ProviderId)>,
}

impl ModelEntry {
    pub fn new(name: &str, provider: &str, context_window: u32, max_output_tokens: u32) -> Self {
        Self {
            uuid: Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                format!("spool-model:{name}").as_bytes(),
            ),
            name: name.to_owned(),
            provider: provider.to_owned(),
            upstream_name: name.to_owned(),
            context_window,
            max_output_tokens,
            description: None,
            vision: false,
            workspace_provider: None,
        }
    }

    /// The `echo` model, labelled as the development model it is.
    pub fn echo() -> Self {
        Self {
            description: Some(
                "Offline development model: replies by echoing the thread. No network, no AI."
                    .into(),
            ),
            ..Self::new(ECHO_MODEL, ECHO_MODEL, 128_000, 4_096)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelCatalog {
    pub models: Vec<ModelEntry>,
    /// Used when neither the request, the thread nor the agent names one.
    pub default_model: String,
    /// Writes thread titles; `None`: the thread's own model.
    pub naming_model: Option<String>,
    /// Writes an agent's memories after its runs; `None`: the naming
    /// model, else the run's own.
    pub memory_model: Option<String>,
}

impl Default for ModelCatalog {
    fn default() -> Self {
        Self {
            models: vec![ModelEntry::echo()],
            default_model: ECHO_MODEL.into(),
            naming_model: None,
            memory_model: None,
        }
    }
}

impl ModelCatalog {
    pub fn get(&self, name: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn by_uuid(&self, uuid: Uuid) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.uuid == uuid)
    }
}
