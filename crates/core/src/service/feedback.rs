//! Feedback on assistant messages: who may rate (whoever may see the
//! thread, or the API key's anonymous end user), what a rating holds, and
//! which question the rated reply answered.

use super::{Principal, Scope, Spool};
use crate::error::{CoreError, ValidationErrors};
use crate::listing::{Cursor, Listing, Paging};
use crate::model::{Feedback, FeedbackType, Message, MessageRole, User};
use crate::paging::MAX_PER_PAGE;
use crate::{FeedbackId, MessageId, ThreadId, now};
use std::collections::HashMap;

pub const ISSUE_TYPE_MAX_CHARS: usize = 100;
pub const COMMENT_MAX_CHARS: usize = 4_000;

/// A rating as a client sends it; on update, `None` keeps the current value.
#[derive(Debug, Default)]
pub struct FeedbackInput {
    /// `positive` or `negative`; required for a new rating.
    pub feedback_type: Option<String>,
    pub issue_type: Option<String>,
    pub comment: Option<String>,
}

/// A rating with the user who gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedbackView {
    pub feedback: Feedback,
    pub user: Option<User>,
}

fn text(
    field: &str,
    value: Option<String>,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let value = value?.trim().to_owned();
    if value.chars().count() > max {
        errors.add(
            field,
            format!("The {field} may not be greater than {max} characters."),
        );
    }
    (!value.is_empty()).then_some(value)
}

fn kind(value: Option<&str>, errors: &mut ValidationErrors) -> Option<FeedbackType> {
    let parsed = FeedbackType::parse(value?);
    if parsed.is_none() {
        errors.add(
            "feedback_type",
            "The feedback_type must be positive or negative.",
        );
    }
    parsed
}

impl Spool {
    /// Rates an assistant message of `thread`, replacing any rating it has.
    pub async fn rate_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        message: MessageId,
        input: FeedbackInput,
        anon_user_id: Option<&str>,
    ) -> Result<FeedbackView, CoreError> {
        let rated = self
            .rated_message(principal, scope, thread, message, anon_user_id)
            .await?;
        let mut errors = ValidationErrors::new();
        if input.feedback_type.is_none() {
            errors.add("feedback_type", "The feedback_type field is required.");
        }
        let feedback_type = kind(input.feedback_type.as_deref(), &mut errors);
        let issue_type = text(
            "issue_type",
            input.issue_type,
            ISSUE_TYPE_MAX_CHARS,
            &mut errors,
        );
        let comment = text("comment", input.comment, COMMENT_MAX_CHARS, &mut errors);
        errors.into_result()?;
        let at = now();
        let feedback = Feedback {
            id: FeedbackId::new(),
            workspace_id: rated.workspace_id,
            thread_id: rated.thread_id,
            message_id: rated.id,
            human_message_id: self.question_of(&rated).await?,
            run_id: rated.run.run_id,
            user_id: anon_user_id.is_none().then(|| principal.user_id()),
            anon_user_id: anon_user_id.map(str::to_owned),
            feedback_type: feedback_type.expect("validated"),
            issue_type,
            comment,
            created_at: at,
            updated_at: at,
        };
        self.store_feedback(feedback).await
    }

    /// Changes a message's rating; absent fields keep their values.
    /// `NotFound("Feedback")` when the message has none yet.
    pub async fn update_rating(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        message: MessageId,
        input: FeedbackInput,
        anon_user_id: Option<&str>,
    ) -> Result<FeedbackView, CoreError> {
        let rated = self
            .rated_message(principal, scope, thread, message, anon_user_id)
            .await?;
        let mut feedback = self
            .store
            .feedback_for_messages(&[rated.id])
            .await?
            .pop()
            .ok_or(CoreError::NotFound("Feedback"))?;
        let mut errors = ValidationErrors::new();
        if let Some(kind) = kind(input.feedback_type.as_deref(), &mut errors) {
            feedback.feedback_type = kind;
        }
        if input.issue_type.is_some() {
            feedback.issue_type = text(
                "issue_type",
                input.issue_type,
                ISSUE_TYPE_MAX_CHARS,
                &mut errors,
            );
        }
        if input.comment.is_some() {
            feedback.comment = text("comment", input.comment, COMMENT_MAX_CHARS, &mut errors);
        }
        errors.into_result()?;
        feedback.user_id = anon_user_id.is_none().then(|| principal.user_id());
        feedback.anon_user_id = anon_user_id.map(str::to_owned);
        feedback.updated_at = now();
        self.store_feedback(feedback).await
    }

    /// The ratings of those of `messages` that have one, with their users.
    pub async fn feedback_views(
        &self,
        messages: &[Message],
    ) -> Result<HashMap<MessageId, FeedbackView>, CoreError> {
        let rated: Vec<MessageId> = messages
            .iter()
            .filter(|m| m.role == MessageRole::Assistant)
            .map(|m| m.id)
            .collect();
        if rated.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self.store.feedback_for_messages(&rated).await?;
        let mut users: Vec<_> = found.iter().filter_map(|f| f.user_id).collect();
        users.sort_unstable();
        users.dedup();
        let users: HashMap<_, _> = if users.is_empty() {
            HashMap::new()
        } else {
            self.store
                .users_by_ids(&users)
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect()
        };
        Ok(found
            .into_iter()
            .map(|feedback| {
                let user = feedback.user_id.and_then(|id| users.get(&id).cloned());
                (feedback.message_id, FeedbackView { feedback, user })
            })
            .collect())
    }

    /// An assistant message of `thread` the caller may see.
    async fn rated_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: MessageId,
        anon_user_id: Option<&str>,
    ) -> Result<Message, CoreError> {
        let (message, _) = self.message(principal, scope, id, anon_user_id).await?;
        if message.thread_id != thread {
            return Err(CoreError::NotFound("Message"));
        }
        if message.role != MessageRole::Assistant {
            return Err(CoreError::invalid(
                "message_id",
                "Feedback is given on assistant messages only.",
            ));
        }
        Ok(message)
    }

    /// The nearest user message before `reply` in its thread.
    async fn question_of(&self, reply: &Message) -> Result<Option<MessageId>, CoreError> {
        let mut after = Some(Cursor {
            key: reply.seq,
            id: reply.id.0,
        });
        while let Some(cursor) = after {
            let paging = Paging::keyset(Some(cursor), None, Some(MAX_PER_PAGE), MAX_PER_PAGE)?;
            let Listing::Cursor(page) = self
                .store
                .list_messages(reply.thread_id, paging, true, self.list_page_max_bytes())
                .await?
            else {
                return Ok(None);
            };
            if let Some(question) = page.items.iter().find(|m| m.role == MessageRole::User) {
                return Ok(Some(question.id));
            }
            after = page.next;
        }
        Ok(None)
    }

    async fn store_feedback(&self, feedback: Feedback) -> Result<FeedbackView, CoreError> {
        let feedback = self
            .store
            .put_feedback(feedback)
            .await?
            .ok_or(CoreError::NotFound("Message"))?;
        let user = match feedback.user_id {
            Some(id) => self.store.user(id).await?,
            None => None,
        };
        Ok(FeedbackView { feedback, user })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_trimmed_and_bounded_in_characters() {
        let mut errors = ValidationErrors::new();
        assert_eq!(text("comment", Some("  ".into()), 5, &mut errors), None);
        assert_eq!(
            text("comment", Some(" ünï ".into()), 3, &mut errors).as_deref(),
            Some("ünï")
        );
        assert!(errors.is_empty());
        text("comment", Some("four".into()), 3, &mut errors);
        kind(Some("meh"), &mut errors);
        assert_eq!(errors.0.len(), 2);
    }
}
