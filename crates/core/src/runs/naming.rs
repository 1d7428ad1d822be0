//! Thread titles written by a model from the first messages.

use crate::error::CoreError;
use crate::listing::{Listing, Paging};
use crate::model::Thread;
use crate::provider::{ChatEvent, ChatMessage, ChatRequest, ChatRole};
use crate::service::{Principal, Scope};
use crate::validate::NAME_MAX_CHARS;
use crate::{Spool, ThreadId, now};
use std::future::poll_fn;

const NAMING_INSTRUCTION: &str = "Write a short, specific title (at most eight words) for the conversation below. \
Answer with the title only: no quotes, no trailing punctuation.";
/// Messages the title is written from.
const FIRST_MESSAGES: u32 = 6;
/// Characters of each message shown to the naming model.
const EXCERPT_CHARS: usize = 2_000;

/// Trims what models like to add around a title and keeps it within limits.
pub fn clean_title(raw: &str) -> Option<String> {
    let line = raw.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line
        .strip_prefix("Title:")
        .or_else(|| line.strip_prefix("title:"))
        .unwrap_or(line)
        .trim();
    let quotes: &[char] = &['"', '\'', '“', '”', '‘', '’', '`', '*', '#'];
    let title = line.trim_matches(|c: char| quotes.contains(&c) || c.is_whitespace());
    let title = title.trim_end_matches(['.', '!', ' ']).trim();
    (!title.is_empty()).then(|| title.chars().take(NAME_MAX_CHARS).collect())
}

impl Spool {
    /// Asks the naming model (configured, else the thread's own model) for a
    /// title from the first messages and stores it.
    pub async fn generate_name(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread_id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<Thread, CoreError> {
        let mut thread = self
            .thread(principal, scope, thread_id, anon_user_id)
            .await?;
        let agent = match thread.agent_id {
            Some(id) => self.store().agent(id).await?,
            None => None,
        };
        let naming = self.config().catalog.naming_model.clone();
        let model = self
            .resolve_model(naming.as_deref(), &thread, agent.as_ref())
            .await?;
        let paging = Paging::Keyset {
            after: None,
            before: None,
            limit: FIRST_MESSAGES,
        };
        let Listing::Cursor(first) = self
            .store()
            .list_messages(thread.id, paging, false, self.list_page_max_bytes())
            .await?
        else {
            return Err(CoreError::Conflict(
                "The thread's messages could not be read.".into(),
            ));
        };
        if first.items.is_empty() {
            return Err(CoreError::invalid(
                "thread",
                "The thread has no messages to name it from.",
            ));
        }
        let transcript: String = first
            .items
            .iter()
            .map(|m| {
                format!(
                    "{}: {}\n",
                    m.role.as_str(),
                    m.content.chars().take(EXCERPT_CHARS).collect::<String>()
                )
            })
            .collect();
        let request = ChatRequest {
            model: model.upstream_name.clone(),
            messages: vec![
                ChatMessage::text(ChatRole::System, NAMING_INSTRUCTION),
                ChatMessage::text(ChatRole::User, transcript),
            ],
            temperature: Some(0.2),
            top_p: None,
            max_tokens: Some(32.min(model.max_output_tokens)),
            tools: Vec::new(),
            tool_choice: Default::default(),
        };
        let provider = self.provider_for(&model).await?;
        let unavailable = |err: crate::provider::ProviderError| {
            tracing::warn!(error = %err, "naming model failed");
            CoreError::Conflict(format!("The naming model could not write a title: {err}"))
        };
        let mut events = provider.stream_chat(request).await.map_err(unavailable)?;
        let mut raw = String::new();
        while let Some(event) = poll_fn(|cx| events.as_mut().poll_next(cx)).await {
            match event.map_err(unavailable)? {
                ChatEvent::Delta(piece) => raw.push_str(&piece),
                ChatEvent::Usage(_) | ChatEvent::Finished(_) | ChatEvent::ToolCall(_) => {}
            }
        }
        let title = clean_title(&raw).ok_or_else(|| {
            CoreError::Conflict("The naming model answered with an empty title.".into())
        })?;
        thread.title = Some(title);
        thread.updated_at = now();
        if self.store().update_thread(&thread).await? {
            Ok(thread)
        } else {
            Err(CoreError::NotFound("Thread"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clean_title;

    #[test]
    fn titles_lose_quotes_prefixes_and_length() {
        assert_eq!(
            clean_title("\"Pricing plans for teams\"").as_deref(),
            Some("Pricing plans for teams")
        );
        assert_eq!(
            clean_title("Title: Refund request.\nmore").as_deref(),
            Some("Refund request")
        );
        assert_eq!(clean_title("  \n\n").as_deref(), None);
        assert_eq!(
            clean_title(&"x".repeat(300)).map(|t| t.chars().count()),
            Some(200)
        );
    }
}
