//! Threads as the chat-style dialects address them: under an agent, whole
//! (with every message), and paged from a thread or message id as well as
//! from an opaque cursor.

use super::{Principal, Scope, Spool, ThreadListInput};
use crate::error::CoreError;
use crate::listing::{Cursor, Listing, Paging};
use crate::model::{Message, Thread};
use crate::paging::MAX_PER_PAGE;
use crate::query::ThreadSort;
use crate::{AgentId, MessageId, ThreadId};

impl Spool {
    /// A thread the caller may see that belongs to `agent`; a thread of
    /// another agent is as absent as one of another workspace.
    pub async fn agent_thread(
        &self,
        principal: &Principal,
        scope: &Scope,
        agent: AgentId,
        id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<Thread, CoreError> {
        let thread = self.thread(principal, scope, id, anon_user_id).await?;
        if thread.agent_id == Some(agent) {
            Ok(thread)
        } else {
            Err(CoreError::NotFound("Thread"))
        }
    }

    /// The threads of an agent the caller may use; an agent out of reach is
    /// `NotFound` rather than an empty list.
    pub async fn list_agent_threads(
        &self,
        principal: &Principal,
        scope: &Scope,
        agent: AgentId,
        input: ThreadListInput,
    ) -> Result<Listing<Thread>, CoreError> {
        self.usable_agent(principal, scope, agent).await?;
        let input = ThreadListInput {
            agent: Some(agent),
            ..input
        };
        self.list_threads(principal, scope, input).await
    }

    /// A thread the caller may see with its messages in thread order, as
    /// many as fit in one list page's byte bound — every message, for most
    /// threads; with `agent`, only a thread of that agent. The cursor, when
    /// there is one, is where the messages stopped: the rest follow it.
    pub async fn conversation(
        &self,
        principal: &Principal,
        scope: &Scope,
        agent: Option<AgentId>,
        id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<(Thread, Vec<Message>, Option<Cursor>), CoreError> {
        let thread = match agent {
            Some(agent) => {
                self.agent_thread(principal, scope, agent, id, anon_user_id)
                    .await?
            }
            None => self.thread(principal, scope, id, anon_user_id).await?,
        };
        let bound = self.config.list_page_max_bytes;
        let mut messages: Vec<Message> = Vec::new();
        let mut used = 0;
        let mut after = None;
        loop {
            let paging = Paging::keyset(after, None, Some(MAX_PER_PAGE), MAX_PER_PAGE)?;
            let left = u64::try_from(bound.saturating_sub(used).max(1)).unwrap_or(u64::MAX);
            let Listing::Cursor(page) = self
                .store
                .list_messages(thread.id, paging, false, Some(left))
                .await?
            else {
                return Err(CoreError::Internal(
                    "a keyset request answered an offset page".into(),
                ));
            };
            let cut = page.items.len() < MAX_PER_PAGE as usize && page.next.is_some();
            for message in page.items {
                // A later page's first row comes whatever its size.
                let size = message.listed_bytes();
                if !messages.is_empty() && used + size > bound {
                    let stopped = messages.last().map(Message::cursor);
                    return Ok((thread, messages, stopped));
                }
                used += size;
                messages.push(message);
            }
            match page.next {
                Some(next) if cut => return Ok((thread, messages, Some(next))),
                Some(next) => after = Some(next),
                None => return Ok((thread, messages, None)),
            }
        }
    }

    /// Where a thread stands in a list sorted by `sort`, for paging with
    /// `after`/`before` set to a thread id. Positions move when the sort key
    /// does (a new message moves a thread in `last_message_at` order); the
    /// opaque cursors a list answers with do not.
    pub async fn thread_cursor(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: ThreadId,
        sort: Option<&str>,
        anon_user_id: Option<&str>,
    ) -> Result<Cursor, CoreError> {
        let sort = match sort {
            None => ThreadSort::LastMessageAt,
            Some(text) => ThreadSort::parse(text).ok_or_else(|| {
                CoreError::invalid(
                    "sort",
                    "The sort must be last_message_at, created_at or updated_at.",
                )
            })?,
        };
        let thread = self.thread(principal, scope, id, anon_user_id).await?;
        Ok(Cursor {
            key: sort.key(&thread),
            id: thread.id.0,
        })
    }

    /// Where a message stands in its thread, for paging messages from an id.
    pub async fn message_cursor(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: ThreadId,
        id: MessageId,
        anon_user_id: Option<&str>,
    ) -> Result<Cursor, CoreError> {
        let (message, _) = self.message(principal, scope, id, anon_user_id).await?;
        if message.thread_id != thread {
            return Err(CoreError::NotFound("Message"));
        }
        Ok(Cursor {
            key: message.seq,
            id: message.id.0,
        })
    }
}
