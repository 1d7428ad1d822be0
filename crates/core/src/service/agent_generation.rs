//! "Generate an agent": a model writes an agent's name, description,
//! instruction and persona from a one-line description; spool checks what
//! it wrote as it checks any agent, and creates it or answers it as a
//! proposal.

use super::{AgentInput, Principal, Scope, Spool};
use crate::error::CoreError;
use crate::model::Agent;
use crate::provider::{ChatEvent, ChatMessage, ChatRequest, ChatRole};
use futures_util::StreamExt;
use serde_json::{Map, Value};

/// The longest description a generation starts from.
pub const GENERATE_DESCRIPTION_MAX_CHARS: usize = 2_000;

/// The persona keys the model is asked for, besides name, description and
/// instruction.
const PERSONA_KEYS: [&str; 6] = [
    "role",
    "goal_statement",
    "backstory",
    "tone_of_voice",
    "guardrails",
    "conversation_starters",
];

const GENERATION_INSTRUCTION: &str = "You design AI assistants. From the user's one-line description, \
write the assistant as one JSON object and nothing else, with these keys: \
\"name\" (at most 60 characters), \"description\" (one or two sentences), \
\"instruction\" (the system prompt, in the second person), \"role\", \"goal_statement\", \
\"backstory\", \"tone_of_voice\", \"guardrails\" (strings) and \"conversation_starters\" \
(an array of up to four short questions a user might ask).";

#[derive(Debug, Default)]
pub struct GenerateAgentInput {
    /// What the agent is for, in a line.
    pub description: String,
    /// The model that writes it; else the catalog's naming model, else its
    /// default.
    pub model: Option<String>,
    /// Create the agent, instead of answering the proposal only.
    pub create: bool,
}

/// What a generation answers.
pub enum GeneratedAgent {
    Created(Box<Agent>),
    /// The fields as [`AgentInput`] would take them: `name`,
    /// `description`, `instruction`, `metadata` (the persona keys).
    Proposed(Map<String, Value>),
}

impl Spool {
    pub async fn generate_agent(
        &self,
        principal: &Principal,
        scope: &Scope,
        input: GenerateAgentInput,
    ) -> Result<GeneratedAgent, CoreError> {
        let description = input.description.trim().to_owned();
        if description.is_empty() {
            return Err(CoreError::invalid(
                "description",
                "The description field is required.",
            ));
        }
        if description.chars().count() > GENERATE_DESCRIPTION_MAX_CHARS {
            return Err(CoreError::invalid(
                "description",
                format!(
                    "The description may not be greater than {GENERATE_DESCRIPTION_MAX_CHARS} characters."
                ),
            ));
        }
        let catalog = &self.config().catalog;
        let name = input
            .model
            .or_else(|| catalog.naming_model.clone())
            .unwrap_or_else(|| catalog.default_model.clone());
        let (model, provider) = self
            .model_with_provider(scope.id(), &name)
            .await?
            .ok_or_else(|| {
                CoreError::invalid(
                    "model",
                    format!("The model '{name}' is not configured here."),
                )
            })?;
        let request = ChatRequest {
            model: model.upstream_name.clone(),
            messages: vec![
                ChatMessage::text(ChatRole::System, GENERATION_INSTRUCTION),
                ChatMessage::text(ChatRole::User, description),
            ],
            temperature: Some(0.4),
            top_p: None,
            max_tokens: Some(1_500.min(model.max_output_tokens)),
            tools: Vec::new(),
            tool_choice: Default::default(),
        };
        let unavailable = |err: crate::provider::ProviderError| {
            tracing::warn!(error = %err, "agent generation model failed");
            CoreError::Conflict(format!("The model could not write an agent: {err}"))
        };
        let mut events = provider.stream_chat(request).await.map_err(unavailable)?;
        let mut raw = String::new();
        while let Some(event) = events.next().await {
            if let ChatEvent::Delta(piece) = event.map_err(unavailable)? {
                raw.push_str(&piece);
            }
        }
        let fields = proposal(&raw).ok_or_else(|| {
            CoreError::Conflict(
                "The model did not answer with an agent (a JSON object with a name).".into(),
            )
        })?;
        let agent_input = AgentInput {
            name: fields
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            description: Some(text(&fields, "description")),
            instruction: Some(text(&fields, "instruction")),
            metadata: fields.get("metadata").and_then(Value::as_object).cloned(),
            ..Default::default()
        };
        if input.create {
            let agent = self.create_agent(principal, scope, agent_input).await?;
            return Ok(GeneratedAgent::Created(Box::new(agent)));
        }
        // Checked as a new agent would be, so that a proposal can be created as is.
        self.new_agent(principal, scope, agent_input).await?;
        Ok(GeneratedAgent::Proposed(fields))
    }
}

fn text(fields: &Map<String, Value>, key: &str) -> Option<String> {
    fields.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The agent in a model's answer: the first JSON object in it (models like
/// to wrap it in a code fence), cut to the keys an agent has, each trimmed
/// to its limit.
fn proposal(raw: &str) -> Option<Map<String, Value>> {
    let start = raw.find('{')?;
    let end = raw.rfind('}')?;
    let parsed: Map<String, Value> = serde_json::from_str(raw.get(start..=end)?).ok()?;
    let cut = |value: &Value, max: usize| -> Option<Value> {
        let text = value.as_str()?.trim();
        (!text.is_empty()).then(|| Value::String(text.chars().take(max).collect()))
    };
    let name = cut(parsed.get("name")?, crate::validate::NAME_MAX_CHARS)?;
    let mut fields = Map::new();
    fields.insert("name".into(), name);
    for (key, max) in [
        ("description", super::agents::DESCRIPTION_MAX_CHARS),
        ("instruction", super::INSTRUCTION_MAX_CHARS),
    ] {
        if let Some(value) = parsed.get(key).and_then(|v| cut(v, max)) {
            fields.insert(key.into(), value);
        }
    }
    let mut metadata = Map::new();
    for key in PERSONA_KEYS {
        let Some(value) = parsed.get(key) else {
            continue;
        };
        let kept = if key == "conversation_starters" {
            value.as_array().map(|items| {
                Value::Array(
                    items
                        .iter()
                        .filter_map(|item| cut(item, 200))
                        .take(4)
                        .collect(),
                )
            })
        } else {
            cut(value, crate::validate::METADATA_MAX_VALUE_CHARS)
        };
        if let Some(kept) = kept {
            metadata.insert(key.into(), kept);
        }
    }
    fields.insert("metadata".into(), Value::Object(metadata));
    Some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_agent_is_read_from_a_fenced_answer_and_cut_to_its_keys() {
        let raw = "Here it is:\n```json\n{\"name\": \"  Travel Planner \", \"instruction\": \"Plan trips.\", \
                   \"role\": \"planner\", \"conversation_starters\": [\"Where to?\", 3, \"When?\"], \
                   \"secret\": \"x\"}\n```";
        let fields = proposal(raw).unwrap();
        assert_eq!(fields["name"], "Travel Planner");
        assert_eq!(fields["instruction"], "Plan trips.");
        assert_eq!(
            fields["metadata"],
            json!({"role": "planner", "conversation_starters": ["Where to?", "When?"]})
        );
        assert!(!fields.contains_key("secret"));
        assert_eq!(proposal("Echo: a travel planner"), None);
        assert_eq!(proposal("{\"description\": \"no name\"}"), None);
    }
}
