//! Memories. An agent whose `metadata.memory` is true keeps durable facts
//! about each user who runs it: after a completed run the memory model
//! reads the new messages and writes what is worth keeping (in the
//! background: it never holds the reply up, and its failures are logged,
//! not shown); at the start of a run the user's memories that match the new
//! message best go into the agent's system prompt, within a token budget.
//!
//! A member sees and edits the memories about them; the workspace's
//! owners, admins and API keys see every memory of the workspace.

use super::{Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::model::{Agent, Memory, Message, MessageRole, Run};
use crate::paging::{Page, PageRequest};
use crate::provider::{ChatEvent, ChatMessage, ChatRequest, ChatRole};
use crate::{AgentId, MemoryId, now};
use futures_util::StreamExt;
use std::collections::HashSet;

/// The longest memory kept.
pub const MEMORY_MAX_CHARS: usize = 500;
/// Most memories one run adds.
const NEW_PER_RUN: usize = 5;
/// Memories looked at when a run starts (the newest of the agent's for the user).
const RECALL_CANDIDATES: u32 = 200;
/// Tokens the recalled memories may take in the system prompt.
pub const RECALL_TOKEN_BUDGET: usize = 400;
/// Characters of each message shown to the memory model.
const EXCERPT_CHARS: usize = 4_000;

const MEMORY_INSTRUCTION: &str = "You keep an assistant's long-term memory of its user. From the \
exchange below, list the durable facts worth remembering in later conversations: who the user \
is, their preferences, goals and the state of their task. Leave out small talk and what only \
matters to this exchange, and anything already known (listed under Known). Answer with a JSON \
array of short sentences, and [] when there is nothing new.";

/// Whether the agent keeps memories.
pub fn remembers(agent: &Agent) -> bool {
    agent.metadata.as_map().get("memory") == Some(&serde_json::Value::Bool(true))
}

impl Spool {
    /// The memories the caller may see, newest first, of one agent when given.
    pub async fn list_memories(
        &self,
        principal: &Principal,
        scope: &Scope,
        agent: Option<AgentId>,
        page: PageRequest,
    ) -> Result<Page<Memory>, CoreError> {
        if let Some(agent) = agent {
            self.usable_agent(principal, scope, agent).await?;
        }
        let user = (!scope.sees_all()).then(|| principal.user_id());
        Ok(self
            .store()
            .list_memories(scope.id(), agent, user, page)
            .await?)
    }

    pub async fn memory(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MemoryId,
    ) -> Result<Memory, CoreError> {
        self.store()
            .memory(scope.id(), id)
            .await?
            .filter(|m| scope.sees_all() || m.user_id == principal.user_id())
            .ok_or(CoreError::NotFound("Memory"))
    }

    pub async fn update_memory(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MemoryId,
        content: String,
    ) -> Result<Memory, CoreError> {
        let mut memory = self.memory(principal, scope, id).await?;
        let mut errors = ValidationErrors::new();
        memory.content = memory_content("content", &content, &mut errors);
        errors.into_result()?;
        memory.updated_at = now();
        if self.store().update_memory(&memory).await? {
            Ok(memory)
        } else {
            Err(CoreError::NotFound("Memory"))
        }
    }

    pub async fn delete_memory(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MemoryId,
    ) -> Result<(), CoreError> {
        let memory = self.memory(principal, scope, id).await?;
        if self.store().delete_memory(scope.id(), memory.id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound("Memory"))
        }
    }

    /// The lines of the user's memories that fit the budget, best match to
    /// `message` first (see [`rank`]); none for an agent without memory.
    pub(crate) async fn recall(
        &self,
        agent: &Agent,
        run: &Run,
        message: Option<&str>,
    ) -> Vec<String> {
        let Some(user) = run.user_id.filter(|_| remembers(agent)) else {
            return Vec::new();
        };
        let found = match self
            .store()
            .recall_memories(agent.id, user, RECALL_CANDIDATES)
            .await
        {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, "could not read an agent's memories");
                return Vec::new();
            }
        };
        let tokenizer = self.runtime().tokenizer.clone();
        let mut used = 0;
        rank(found, message.unwrap_or_default())
            .into_iter()
            .filter(|memory| {
                let cost = tokenizer.count(&memory.content) + 2;
                let fits = used + cost <= RECALL_TOKEN_BUDGET;
                if fits {
                    used += cost;
                }
                fits
            })
            .map(|memory| memory.content)
            .collect()
    }

    /// After a completed run of an agent with memory: asks the memory model
    /// for new facts in the run's exchange and stores them. Started in the
    /// background; what goes wrong is logged.
    pub(crate) fn remember_after(&self, run: &Run, reply: Option<&Message>) {
        let (Some(agent), Some(user), Some(reply)) = (run.agent_id, run.user_id, reply) else {
            return;
        };
        let spool = self.clone();
        let run = run.clone();
        let reply = reply.clone();
        tokio::spawn(async move {
            if let Err(err) = spool.remember(agent, user, &run, &reply).await {
                tracing::warn!(error = %err, run.id = %run.id, "could not write an agent's memories");
            }
        });
    }

    async fn remember(
        &self,
        agent: AgentId,
        user: crate::UserId,
        run: &Run,
        reply: &Message,
    ) -> Result<(), CoreError> {
        let Some(agent) = self.store().agent(agent).await? else {
            return Ok(());
        };
        if !remembers(&agent) {
            return Ok(());
        }
        // The exchange: the newest user message before the reply, and the reply.
        let paging = crate::listing::Paging::Keyset {
            after: None,
            before: None,
            limit: 20,
        };
        let newest = self
            .store()
            .list_messages(run.thread_id, paging, true, None)
            .await?;
        let question = newest
            .items()
            .iter()
            .filter(|m| m.seq < reply.seq || reply.seq == 0)
            .find(|m| m.role == MessageRole::User)
            .map(|m| m.content.clone());
        let known = self
            .store()
            .recall_memories(agent.id, user, RECALL_CANDIDATES)
            .await?;
        let excerpt = |text: &str| text.chars().take(EXCERPT_CHARS).collect::<String>();
        let mut exchange = String::new();
        if !known.is_empty() {
            exchange.push_str("Known:\n");
            for memory in known.iter().take(30) {
                exchange.push_str(&format!("- {}\n", memory.content));
            }
            exchange.push('\n');
        }
        if let Some(question) = &question {
            exchange.push_str(&format!("User: {}\n", excerpt(question)));
        }
        exchange.push_str(&format!("Assistant: {}\n", excerpt(&reply.content)));

        let catalog = &self.config().catalog;
        let name = catalog
            .memory_model
            .clone()
            .or_else(|| catalog.naming_model.clone())
            .unwrap_or_else(|| run.model.clone());
        let (model, provider) = self
            .model_with_provider(run.workspace_id, &name)
            .await?
            .ok_or_else(|| CoreError::Conflict(format!("The model '{name}' is not configured.")))?;
        let request = ChatRequest {
            model: model.upstream_name.clone(),
            messages: vec![
                ChatMessage::text(ChatRole::System, MEMORY_INSTRUCTION),
                ChatMessage::text(ChatRole::User, exchange),
            ],
            temperature: Some(0.0),
            top_p: None,
            max_tokens: Some(400.min(model.max_output_tokens)),
            tools: Vec::new(),
            tool_choice: Default::default(),
        };
        let failed = |err: crate::provider::ProviderError| {
            CoreError::Conflict(format!("the memory model failed: {err}"))
        };
        let mut events = provider.stream_chat(request).await.map_err(failed)?;
        let mut raw = String::new();
        while let Some(event) = events.next().await {
            if let ChatEvent::Delta(piece) = event.map_err(failed)? {
                raw.push_str(&piece);
            }
        }
        let mut seen: HashSet<String> = known.iter().map(|m| normal(&m.content)).collect();
        let at = now();
        let fresh: Vec<Memory> = facts(&raw)
            .into_iter()
            .filter(|fact| seen.insert(normal(fact)))
            .take(NEW_PER_RUN)
            .map(|content| Memory {
                id: MemoryId::new(),
                workspace_id: run.workspace_id,
                agent_id: agent.id,
                user_id: user,
                content,
                thread_id: Some(run.thread_id),
                message_id: Some(reply.id),
                created_at: at,
                updated_at: at,
            })
            .collect();
        if !fresh.is_empty() {
            self.store().insert_memories(fresh).await?;
        }
        Ok(())
    }
}

/// A memory's text: trimmed, not blank, within the limit.
fn memory_content(field: &str, content: &str, errors: &mut ValidationErrors) -> String {
    let content = content.trim();
    if content.is_empty() {
        errors.add(field, format!("The {field} may not be blank."));
    } else if content.chars().count() > MEMORY_MAX_CHARS {
        errors.add(
            field,
            format!("The {field} may not be greater than {MEMORY_MAX_CHARS} characters."),
        );
    }
    content.to_owned()
}

/// The facts in a memory model's answer: the strings of the first JSON
/// array in it, trimmed to the limit; none when it has no array.
fn facts(raw: &str) -> Vec<String> {
    let (Some(start), Some(end)) = (raw.find('['), raw.rfind(']')) else {
        return Vec::new();
    };
    let Some(Ok(serde_json::Value::Array(items))) = raw
        .get(start..=end)
        .map(serde_json::from_str::<serde_json::Value>)
    else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| item.as_str())
        .map(str::trim)
        .filter(|fact| !fact.is_empty())
        .map(|fact| fact.chars().take(MEMORY_MAX_CHARS).collect())
        .collect()
}

fn normal(text: &str) -> String {
    text.trim().to_lowercase()
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// Full-text ranking of memories against the new message: by the number of
/// the message's words (of three letters or more) each contains, weighted
/// by how rare the word is among the memories; newer first on a tie.
/// `memories` come newest first.
fn rank(memories: Vec<Memory>, message: &str) -> Vec<Memory> {
    let wanted = words(message);
    let sets: Vec<HashSet<String>> = memories.iter().map(|m| words(&m.content)).collect();
    let total = sets.len().max(1) as f64;
    let weight = |word: &String| {
        let holding = sets.iter().filter(|s| s.contains(word)).count() as f64;
        (1.0 + total / (1.0 + holding)).ln()
    };
    let mut scored: Vec<(f64, usize, Memory)> = memories
        .into_iter()
        .zip(&sets)
        .enumerate()
        .map(|(age, (memory, set))| {
            let score: f64 = wanted.iter().filter(|w| set.contains(*w)).map(weight).sum();
            (score, age, memory)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, memory)| memory).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory(content: &str) -> Memory {
        Memory {
            id: MemoryId::new(),
            workspace_id: crate::WorkspaceId::new(),
            agent_id: AgentId::new(),
            user_id: crate::UserId(1),
            content: content.into(),
            thread_id: None,
            message_id: None,
            created_at: now(),
            updated_at: now(),
        }
    }

    #[test]
    fn facts_come_from_the_first_array_and_matching_memories_rank_first() {
        assert_eq!(
            facts("Sure:\n```json\n[\"The user is Ada.\", 3, \"  \", \"Ada likes tea.\"]\n```"),
            ["The user is Ada.", "Ada likes tea."]
        );
        assert!(facts("Nothing new.").is_empty());
        assert!(facts("[not json]").is_empty());
        let ranked = rank(
            vec![
                memory("Prefers window seats."),
                memory("Lives in Oslo."),
                memory("Works on the Oslo office move."),
            ],
            "What is the weather in Oslo for the move?",
        );
        let order: Vec<&str> = ranked.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(
            order,
            [
                "Works on the Oslo office move.",
                "Lives in Oslo.",
                "Prefers window seats."
            ]
        );
    }
}
