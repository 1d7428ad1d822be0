//! Resources with what the wire shapes nest in them (creator, agent,
//! workspace), loaded with one query per kind for a whole list: no N+1.

use super::{Principal, Scope, Spool};
use crate::error::CoreError;
use crate::model::{Agent, Message, Thread, User, Workspace};
use crate::store::ThreadNesting;
use crate::{AgentId, ThreadId, UserId, WorkspaceId};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq)]
pub struct UserView {
    pub user: User,
    pub primary_workspace: Option<Workspace>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AgentView {
    pub agent: Agent,
    pub user: Option<UserView>,
    pub workspace: Option<Workspace>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ThreadView {
    pub thread: Thread,
    pub creator: Option<UserView>,
    pub agent: Option<AgentView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    pub message: Message,
    pub thread: Arc<ThreadView>,
}

/// Users and workspaces fetched for one response.
struct Lookup {
    users: HashMap<UserId, User>,
    workspaces: HashMap<WorkspaceId, Workspace>,
}

impl Lookup {
    fn user(&self, id: Option<UserId>) -> Option<UserView> {
        let user = self.users.get(&id?)?.clone();
        let primary_workspace = user
            .primary_workspace_id
            .and_then(|w| self.workspaces.get(&w).cloned());
        Some(UserView {
            user,
            primary_workspace,
        })
    }

    fn agent(&self, agent: Agent) -> AgentView {
        AgentView {
            user: self.user(agent.user_id),
            workspace: self.workspaces.get(&agent.workspace_id).cloned(),
            agent,
        }
    }
}

/// Threads with their nested rows, as the store found them.
pub(super) fn nest(threads: Vec<Thread>, nesting: ThreadNesting) -> Vec<ThreadView> {
    let agents: HashMap<AgentId, Agent> = nesting.agents.into_iter().map(|a| (a.id, a)).collect();
    let lookup = Lookup {
        users: nesting.users.into_iter().map(|u| (u.id, u)).collect(),
        workspaces: nesting.workspaces.into_iter().map(|w| (w.id, w)).collect(),
    };
    threads
        .into_iter()
        .map(|thread| ThreadView {
            creator: lookup.user(thread.creator_id),
            agent: thread
                .agent_id
                .and_then(|id| agents.get(&id).cloned())
                .map(|a| lookup.agent(a)),
            thread,
        })
        .collect()
}

fn dedup<T: Ord + Copy>(mut ids: Vec<T>) -> Vec<T> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

impl Spool {
    async fn lookup(
        &self,
        users: Vec<UserId>,
        workspaces: Vec<WorkspaceId>,
    ) -> Result<Lookup, CoreError> {
        let users: HashMap<_, _> = if users.is_empty() {
            HashMap::new()
        } else {
            self.store
                .users_by_ids(&dedup(users))
                .await?
                .into_iter()
                .map(|u| (u.id, u))
                .collect()
        };
        let workspaces = dedup(
            workspaces
                .into_iter()
                .chain(users.values().filter_map(|u| u.primary_workspace_id))
                .collect(),
        );
        let workspaces = if workspaces.is_empty() {
            HashMap::new()
        } else {
            self.store
                .workspaces_by_ids(&workspaces)
                .await?
                .into_iter()
                .map(|w| (w.id, w))
                .collect()
        };
        Ok(Lookup { users, workspaces })
    }

    pub async fn user_view(&self, user: User) -> Result<UserView, CoreError> {
        let (user, primary_workspace) = self.user_with_workspace(user).await?;
        Ok(UserView {
            user,
            primary_workspace,
        })
    }

    pub async fn agent_views(&self, agents: Vec<Agent>) -> Result<Vec<AgentView>, CoreError> {
        let users = agents.iter().filter_map(|a| a.user_id).collect();
        let workspaces = agents.iter().map(|a| a.workspace_id).collect();
        let lookup = self.lookup(users, workspaces).await?;
        Ok(agents.into_iter().map(|a| lookup.agent(a)).collect())
    }

    pub async fn thread_views(&self, threads: Vec<Thread>) -> Result<Vec<ThreadView>, CoreError> {
        let agents: Vec<AgentId> = dedup(threads.iter().filter_map(|t| t.agent_id).collect());
        let creators: Vec<UserId> = dedup(threads.iter().filter_map(|t| t.creator_id).collect());
        let nesting = self.store.thread_nesting(&agents, &creators).await?;
        Ok(nest(threads, nesting))
    }

    /// A thread the caller may see with what it nests, read in one trip to
    /// the store; `NotFound` as [`Spool::thread`] answers it.
    pub async fn thread_view_of(
        &self,
        principal: &Principal,
        scope: &Scope,
        id: ThreadId,
        anon_user_id: Option<&str>,
    ) -> Result<ThreadView, CoreError> {
        let (thread, nesting) = self
            .store
            .thread_with_nesting(scope.id(), id)
            .await?
            .ok_or(CoreError::NotFound("Thread"))?;
        let thread = self.visible(principal, scope, thread, anon_user_id)?;
        nest(vec![thread], nesting)
            .pop()
            .ok_or(CoreError::NotFound("Thread"))
    }

    /// The view of a thread the caller has just made. When it has no agent
    /// and the caller made it, in the workspace that is the caller's primary
    /// one (or they have none), everything it nests is in hand already — the
    /// principal and the scope, each at most the credential cache's TTL old
    /// — and nothing is read; otherwise as [`Spool::thread_view`].
    pub async fn own_thread_view(
        &self,
        principal: &Principal,
        scope: &Scope,
        thread: Thread,
    ) -> Result<ThreadView, CoreError> {
        let user = principal.user();
        let in_hand = thread.agent_id.is_none()
            && thread.creator_id.is_none_or(|id| id == user.id)
            && user.primary_workspace_id.is_none_or(|id| id == scope.id());
        if !in_hand {
            return self.thread_view(thread).await;
        }
        let creator = thread.creator_id.map(|_| UserView {
            user: user.clone(),
            primary_workspace: user.primary_workspace_id.map(|_| scope.workspace.clone()),
        });
        Ok(ThreadView {
            thread,
            creator,
            agent: None,
        })
    }

    pub async fn thread_view(&self, thread: Thread) -> Result<ThreadView, CoreError> {
        let mut views = self.thread_views(vec![thread]).await?;
        views.pop().ok_or_else(|| CoreError::NotFound("Thread"))
    }
}
