//! Messages of a thread: appended in order, edited in place, listed in
//! thread order. A message is visible exactly when its thread is.

use super::{MessageView, Principal, Scope, Spool, ThreadView};
use crate::error::{CoreError, ValidationErrors};
use crate::listing::{Listing, Paging};
use crate::markdown;
use crate::model::{Message, MessageRole, RunInfo, Thread};
use crate::runs::prompt::counted;
use crate::validate::Metadata;
use crate::{MessageId, ThreadId, now};
use serde_json::{Map, Value};
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct NewMessageInput {
    pub content: Option<String>,
    /// `user` (default), `assistant`, `system` or `tool`.
    pub role: Option<String>,
    pub metadata: Option<Map<String, Value>>,
    /// Files to attach, by key.
    pub files: Vec<crate::files::FileRef>,
}

#[derive(Debug, Default)]
pub struct MessageUpdateInput {
    pub content: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

#[derive(Debug)]
pub struct MessageListInput {
    /// `asc` (default: thread order) or `desc`.
    pub order: Option<String>,
    pub paging: Paging,
    /// Only the messages this run of the thread wrote (a run of another
    /// thread is not found).
    pub run: Option<crate::RunId>,
    /// Only the conversation: user and assistant messages, without the
    /// steps that only called tools and the tool results (what OpenAI's
    /// Assistants API lists). Keyset paging only.
    pub conversation_only: bool,
}

impl Spool {
    fn content(&self, value: Option<String>, errors: &mut ValidationErrors) -> String {
        let Some(content) = value else {
            errors.add("content", "The content field is required.");
            return String::new();
        };
        if content.trim().is_empty() {
            errors.add("content", "The content field is required.");
        } else if content.len() > self.config.content_max_bytes {
            errors.add(
                "content",
                format!(
                    "The content may not be greater than {} bytes.",
                    self.config.content_max_bytes
                ),
            );
        }
        content
    }

    /// A keyset page of the thread's conversation ([`in_conversation`]):
    /// the store's pages are read on from the bound until `limit` messages
    /// that count are found, so paging stays keyset (stable under inserts).
    async fn conversation_page(
        &self,
        thread: ThreadId,
        descending: bool,
        after: Option<crate::listing::Cursor>,
        before: Option<crate::listing::Cursor>,
        limit: u32,
    ) -> Result<Listing<Message>, CoreError> {
        use crate::listing::CursorPage;
        let backwards = before.is_some();
        let (mut after_bound, mut before_bound) = (after, before);
        let mut kept: std::collections::VecDeque<Message> = Default::default();
        let mut more = false;
        while kept.len() <= limit as usize {
            let paging = Paging::Keyset {
                after: after_bound,
                before: before_bound,
                limit: crate::paging::MAX_PER_PAGE,
            };
            let listing = self
                .store
                .list_messages(thread, paging, descending, self.list_page_max_bytes())
                .await?;
            let Listing::Cursor(page) = listing else {
                return Err(CoreError::Internal(
                    "a keyset request answered an offset page".into(),
                ));
            };
            if backwards {
                more = page.prev.is_some();
                before_bound = page.items.first().map(Message::cursor);
                for message in page.items.into_iter().rev().filter(in_conversation) {
                    kept.push_front(message);
                }
            } else {
                more = page.next.is_some();
                after_bound = page.items.last().map(Message::cursor);
                kept.extend(page.items.into_iter().filter(in_conversation));
            }
            if !more {
                break;
            }
        }
        let limit_usize = limit as usize;
        let more = more || kept.len() > limit_usize;
        let mut items: Vec<Message> = kept.into();
        if backwards {
            let skip = items.len().saturating_sub(limit_usize);
            items.drain(..skip);
        } else {
            items.truncate(limit_usize);
        }
        let (next, prev) = if backwards {
            (
                items.last().map(Message::cursor),
                more.then(|| items.first().map(Message::cursor)).flatten(),
            )
        } else {
            (
                more.then(|| items.last().map(Message::cursor)).flatten(),
                after.and(items.first().map(Message::cursor)),
            )
        };
        Ok(Listing::Cursor(CursorPage {
            items,
            next,
            prev,
            limit,
        }))
    }

    /// A message of `thread`: one of another thread is not found.
    pub async fn message_in_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: MessageId,
    ) -> Result<Message, CoreError> {
        let (message, _) = self.message(principal, scope, id, None).await?;
        if message.thread_id != thread {
            return Err(CoreError::NotFound("Message"));
        }
        Ok(message)
    }

    /// Appends a message written by the caller (or, for `assistant`/`tool`
    /// roles, one the client recorded itself).
    pub async fn create_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        input: NewMessageInput,
        anon_user_id: Option<&str>,
    ) -> Result<Message, CoreError> {
        let thread = self.thread(principal, scope, thread, anon_user_id).await?;
        let message = self
            .new_message(principal, scope, &thread, input, anon_user_id)
            .await?;
        self.store
            .append_message(message)
            .await?
            .ok_or(CoreError::NotFound("Thread"))
    }

    /// [`Spool::create_message`], answering the message with its thread as
    /// the append left it: one read (the thread and what it nests) and one
    /// write, which reads the thread back in its own transaction.
    pub async fn create_message_view(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        input: NewMessageInput,
        anon_user_id: Option<&str>,
    ) -> Result<MessageView, CoreError> {
        let view = self
            .thread_view_of(principal, scope, thread, anon_user_id)
            .await?;
        let message = self
            .new_message(principal, scope, &view.thread, input, anon_user_id)
            .await?;
        let (message, thread) = self
            .store
            .append_message_with_thread(message)
            .await?
            .ok_or(CoreError::NotFound("Thread"))?;
        Ok(MessageView {
            message,
            thread: Arc::new(ThreadView { thread, ..view }),
        })
    }

    /// The caller's message for `thread`, validated, not yet stored.
    async fn new_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: &Thread,
        input: NewMessageInput,
        anon_user_id: Option<&str>,
    ) -> Result<Message, CoreError> {
        let mut errors = ValidationErrors::new();
        let content = self.content(input.content, &mut errors);
        let role = match input.role.as_deref() {
            None => MessageRole::User,
            Some(text) => MessageRole::parse(text).unwrap_or_else(|| {
                errors.add(
                    "role",
                    "The selected role is invalid (user, assistant, system or tool).",
                );
                MessageRole::User
            }),
        };
        let metadata = Metadata::client(
            crate::validate::MetadataOf::Message,
            input.metadata.unwrap_or_default(),
            &mut errors,
        );
        let attachments = self
            .attachments(principal, scope, input.files, "files", &mut errors)
            .await?;
        errors.into_result()?;
        let user =
            (role == MessageRole::User && anon_user_id.is_none()).then(|| principal.user_id());
        let message = message_for(
            thread,
            role,
            content,
            metadata,
            RunInfo::default(),
            user,
            attachments,
        );
        Ok(counted(message, self.runtime().tokenizer.as_ref()))
    }

    /// A message the caller may see, with its thread.
    pub async fn message(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MessageId,
        anon_user_id: Option<&str>,
    ) -> Result<(Message, Thread), CoreError> {
        let message = self
            .store
            .message(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Message"))?;
        let thread = self
            .thread(principal, scope, message.thread_id, anon_user_id)
            .await
            .map_err(|_| CoreError::NotFound("Message"))?;
        Ok((message, thread))
    }

    pub async fn update_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MessageId,
        input: MessageUpdateInput,
    ) -> Result<(Message, Thread), CoreError> {
        let (mut message, thread) = self.message(principal, scope, id, None).await?;
        let mut errors = ValidationErrors::new();
        if input.content.is_some() {
            message.content = self.content(input.content, &mut errors);
            message.content_html = markdown::render(&message.content);
        }
        if let Some(metadata) = input.metadata {
            message.metadata =
                Metadata::client(crate::validate::MetadataOf::Message, metadata, &mut errors);
        }
        errors.into_result()?;
        message.updated_at = now();
        let message = counted(message, self.runtime().tokenizer.as_ref());
        if self.store.update_message(&message).await? {
            Ok((message, thread))
        } else {
            Err(CoreError::NotFound("Message"))
        }
    }

    pub async fn delete_message(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: MessageId,
    ) -> Result<(), CoreError> {
        self.message(principal, scope, id, None).await?;
        if self.store.delete_message(scope.id(), id).await? {
            Ok(())
        } else {
            Err(CoreError::NotFound("Message"))
        }
    }

    pub async fn list_messages(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        input: MessageListInput,
        anon_user_id: Option<&str>,
    ) -> Result<(Listing<Message>, Thread), CoreError> {
        let thread = self.thread(principal, scope, thread, anon_user_id).await?;
        let descending = descending(input.order.as_deref())?;
        if let Some(run) = input.run {
            let (_, mut written) = self.run_messages(principal, scope, thread.id, run).await?;
            if input.conversation_only {
                written.retain(in_conversation);
            }
            return Ok((page_of(written, descending, input.paging), thread));
        }
        if input.conversation_only
            && let Paging::Keyset {
                after,
                before,
                limit,
            } = input.paging
        {
            let listing = self
                .conversation_page(thread.id, descending, after, before, limit)
                .await?;
            return Ok((listing, thread));
        }
        let listing = self
            .store
            .list_messages(
                thread.id,
                input.paging,
                descending,
                self.list_page_max_bytes(),
            )
            .await?;
        Ok((listing, thread))
    }

    /// [`Spool::list_messages`] of a page of the thread's messages (no run,
    /// every role): the thread and the page in one trip to the store.
    pub async fn list_thread_messages(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        order: Option<&str>,
        paging: Paging,
    ) -> Result<(Listing<Message>, Thread), CoreError> {
        let descending = match descending(order) {
            Ok(descending) => descending,
            Err(err) => {
                // An unseen thread answers 404 before a bad order is named.
                self.thread(principal, scope, thread, None).await?;
                return Err(err);
            }
        };
        let (found, listing) = self
            .store
            .thread_with_messages(
                scope.id(),
                thread,
                paging,
                descending,
                self.list_page_max_bytes(),
            )
            .await?
            .ok_or(CoreError::NotFound("Thread"))?;
        // The page was read with the thread; it is only answered if the
        // caller may see the thread.
        let thread = self.visible(principal, scope, found, None)?;
        Ok((listing, thread))
    }
}

/// Whether a message is part of the conversation as OpenAI's Assistants
/// API shows it: user and assistant messages, but not an assistant step
/// that only called tools.
pub fn in_conversation(message: &Message) -> bool {
    match message.role {
        MessageRole::User => true,
        MessageRole::Assistant => message.tool_calls.is_empty() || !message.content.is_empty(),
        MessageRole::System | MessageRole::Tool => false,
    }
}

/// A keyset page cut from messages already in hand (thread order), read
/// like the store reads a thread's: after or before a cursor, in `descending`
/// order or not.
fn page_of(mut messages: Vec<Message>, descending: bool, paging: Paging) -> Listing<Message> {
    use crate::listing::{Cursor, CursorPage};
    let (after, before, limit) = match paging {
        Paging::Keyset {
            after,
            before,
            limit,
        } => (after, before, limit),
        Paging::Offset(page) => (None, None, page.per_page),
    };
    if descending {
        messages.reverse();
    }
    let key = |c: &Cursor| (c.key, c.id);
    // Whether `m` comes after `c` in the order read.
    let follows = |m: &Message, c: &Cursor| {
        let (m, c) = (key(&m.cursor()), key(c));
        if descending { m < c } else { m > c }
    };
    let limit_usize = limit as usize;
    let (items, next, prev) = match (after, before) {
        (_, Some(before)) => {
            let earlier: Vec<Message> = messages
                .into_iter()
                .filter(|m| !follows(m, &before) && m.cursor() != before)
                .collect();
            let skip = earlier.len().saturating_sub(limit_usize);
            let items: Vec<Message> = earlier.into_iter().skip(skip).collect();
            let prev = (skip > 0)
                .then(|| items.first().map(Message::cursor))
                .flatten();
            let next = items.last().map(Message::cursor);
            (items, next, prev)
        }
        (after, None) => {
            let later: Vec<Message> = messages
                .into_iter()
                .filter(|m| after.as_ref().is_none_or(|c| follows(m, c)))
                .collect();
            let more = later.len() > limit_usize;
            let items: Vec<Message> = later.into_iter().take(limit_usize).collect();
            let next = more.then(|| items.last().map(Message::cursor)).flatten();
            let prev = after.and(items.first().map(Message::cursor));
            (items, next, prev)
        }
    };
    Listing::Cursor(CursorPage {
        items,
        next,
        prev,
        limit,
    })
}

/// `order` of a message listing: ascending unless `desc`.
fn descending(order: Option<&str>) -> Result<bool, CoreError> {
    match order {
        None | Some("asc") => Ok(false),
        Some("desc") => Ok(true),
        Some(_) => Err(CoreError::invalid(
            "order",
            "The order must be asc or desc.",
        )),
    }
}

/// A new message at the end of `thread` (its `seq` is the store's to assign).
fn message_for(
    thread: &Thread,
    role: MessageRole,
    content: String,
    metadata: Metadata,
    run: RunInfo,
    user_id: Option<crate::UserId>,
    attachments: Vec<crate::model::Attachment>,
) -> Message {
    let at = now();
    Message {
        id: MessageId::new(),
        thread_id: thread.id,
        workspace_id: thread.workspace_id,
        seq: 0,
        role,
        content_html: markdown::render(&content),
        content,
        metadata,
        run,
        tool_calls: Vec::new(),
        user_id,
        attachments,
        token_count: None,
        created_at: at,
        updated_at: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ThreadId, WorkspaceId};

    fn messages(count: i64) -> Vec<Message> {
        let (thread, workspace) = (ThreadId::new(), WorkspaceId::new());
        (1..=count)
            .map(|seq| Message {
                id: MessageId::new(),
                thread_id: thread,
                workspace_id: workspace,
                seq,
                role: MessageRole::Assistant,
                content: format!("{seq}"),
                content_html: String::new(),
                metadata: Metadata::default(),
                run: RunInfo::default(),
                tool_calls: Vec::new(),
                user_id: None,
                attachments: Vec::new(),
                token_count: None,
                created_at: now(),
                updated_at: now(),
            })
            .collect()
    }

    fn seqs(listing: &Listing<Message>) -> Vec<i64> {
        listing.items().iter().map(|m| m.seq).collect()
    }

    #[test]
    fn a_page_in_hand_reads_like_a_stored_one() {
        let all = messages(5);
        let keyset = |after, before| Paging::keyset(after, before, Some(2), 20).unwrap();
        let first = page_of(all.clone(), false, keyset(None, None));
        assert_eq!(seqs(&first), [1, 2]);
        let Listing::Cursor(page) = &first else {
            panic!("keyset")
        };
        let second = page_of(all.clone(), false, keyset(page.next, None));
        assert_eq!(seqs(&second), [3, 4]);
        let newest = page_of(all.clone(), true, keyset(None, None));
        assert_eq!(seqs(&newest), [5, 4]);
        let before = page_of(all.clone(), false, keyset(None, Some(all[4].cursor())));
        assert_eq!(seqs(&before), [3, 4]);
        let Listing::Cursor(page) = &before else {
            panic!("keyset")
        };
        assert!(page.prev.is_some(), "1 and 2 come before");
        let last = page_of(all.clone(), false, keyset(Some(all[3].cursor()), None));
        let Listing::Cursor(page) = &last else {
            panic!("keyset")
        };
        assert_eq!(seqs(&last), [5]);
        assert!(page.next.is_none());
    }
}
