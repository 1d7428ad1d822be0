//! The data the scenarios read and write.
//!
//! Small sets go through the HTTP API while spool runs (accounts, keys, an
//! agent, the threads the write scenarios use). The big sets (100,000 threads,
//! a 100,000-message thread, 1,000,000 searchable messages) go straight
//! through `spool_store`'s `Store` trait — `insert_thread` and
//! `append_message`, the same calls the server makes — against the same
//! database while spool is stopped: through HTTP they would take most of the
//! time budget.

use crate::client::{Client, data_str};
use crate::words::Words;
use anyhow::Context;
use hyper::Method;
use serde_json::{Value, json};
use spool_core::model::{Message, MessageRole, RunInfo, Thread, ThreadStatus};
use spool_core::validate::Metadata;
use spool_core::{MessageId, Store, ThreadId, UserId, WorkspaceId};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "bench@example.com";
pub const ADMIN_PASSWORD: &str = "bench-password-0123456789";

/// How much data a run seeds.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Threads S2 appends to, round-robin.
    pub write_threads: usize,
    /// Messages in S4's small thread.
    pub small_thread: usize,
    /// Messages in S4's big thread.
    pub big_thread: usize,
    /// Threads in the workspace S5 lists and S6 searches.
    pub list_threads: usize,
    /// Messages spread over those threads, searched by S6.
    pub search_messages: usize,
    /// Threads for streamed runs (one active run per thread): S8 opens one
    /// stream on each, S7 uses one per concurrent run.
    pub run_threads: usize,
}

impl Sizes {
    pub const FULL: Sizes = Sizes {
        write_threads: 1_000,
        small_thread: 10,
        big_thread: 100_000,
        list_threads: 100_000,
        search_messages: 1_000_000,
        run_threads: 1_000,
    };

    pub fn scaled(self, factor: f64) -> Sizes {
        let scale = |n: usize| ((n as f64 * factor).round() as usize).max(10);
        Sizes {
            write_threads: scale(self.write_threads),
            small_thread: self.small_thread,
            big_thread: scale(self.big_thread),
            list_threads: scale(self.list_threads),
            search_messages: scale(self.search_messages),
            run_threads: self.run_threads,
        }
    }
}

/// Everything the scenarios need to address the seeded data.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Fixture {
    pub user_id: i64,
    /// The admin's primary workspace: read scenarios (S3–S6).
    pub read_workspace: String,
    pub read_key: String,
    /// A second workspace for the writes (S1, S2), so that they do not
    /// change what the reads see.
    pub write_workspace: String,
    pub write_key: String,
    pub agent: String,
    /// S3: a thread with a creator and an agent.
    pub agent_thread: String,
    pub small_thread: String,
    pub big_thread: String,
    pub write_threads: Vec<String>,
    /// S7 and S8 run these.
    #[serde(default)]
    pub run_threads: Vec<String>,
    /// S6 searches these, in turn.
    pub search_words: Vec<String>,
}

/// Seeds the small sets through the API of a running spool.
pub async fn through_http(addr: SocketAddr, sizes: Sizes) -> anyhow::Result<Fixture> {
    let mut client = Client::new(addr);
    let signed_in = client
        .expect(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            Some(&json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD })),
        )
        .await?;
    let token = data_str(&signed_in, "token")?;
    let user = &signed_in["data"]["user"];
    let user_id = user["id"].as_i64().context("no data.user.id")?;
    let read_workspace = user["primary_workspace"]["uuid"]
        .as_str()
        .context("no primary workspace")?
        .to_owned();
    let created = client
        .expect(
            Method::POST,
            "/api/v1/workspaces",
            Some(&token),
            Some(&json!({ "name": "bench writes" })),
        )
        .await?;
    let write_workspace = data_str(&created, "uuid")?;
    let mut key_for = async |workspace: &str| -> anyhow::Result<String> {
        let body = json!({ "name": "bench", "workspace_uuid": workspace });
        let created = client
            .expect(Method::POST, "/api/v1/api-keys", Some(&token), Some(&body))
            .await?;
        data_str(&created, "key")
    };
    let read_key = key_for(&read_workspace).await?;
    let write_key = key_for(&write_workspace).await?;

    let agent = client
        .expect(
            Method::POST,
            "/api/v1/agents",
            Some(&read_key),
            Some(&json!({
                "name": "Support agent",
                "description": "Answers questions about billing and plans.",
                "instruction": "Be brief and friendly.",
                "visibility": "workspace",
                "metadata": { "role": "support", "tone_of_voice": "friendly" }
            })),
        )
        .await?;
    let agent = data_str(&agent, "uuid")?;
    let agent_thread = client
        .expect(
            Method::POST,
            "/api/v1/threads",
            Some(&read_key),
            Some(&thread_body(0, Some(&agent))),
        )
        .await?;
    let agent_thread = data_str(&agent_thread, "uuid")?;
    let small = client
        .expect(
            Method::POST,
            "/api/v1/threads",
            Some(&read_key),
            Some(&thread_body(1, None)),
        )
        .await?;
    let small_thread = data_str(&small, "uuid")?;
    let words = Words::new();
    for i in 0..sizes.small_thread {
        let body = message_body(&small_thread, &words.sentence(i as u64));
        client
            .expect(
                Method::POST,
                "/api/v1/messages",
                Some(&read_key),
                Some(&body),
            )
            .await?;
    }
    let write_threads = create_threads(addr, &write_key, sizes.write_threads).await?;
    let run_threads = create_threads(addr, &write_key, sizes.run_threads).await?;
    Ok(Fixture {
        user_id,
        read_workspace,
        read_key,
        write_workspace,
        write_key,
        agent,
        agent_thread,
        small_thread,
        big_thread: String::new(),
        write_threads,
        run_threads,
        search_words: words.search_words(),
    })
}

/// The S1 request body (and the shape of every seeded thread).
pub fn thread_body(i: u64, agent: Option<&str>) -> Value {
    let mut body = json!({
        "name": format!("Customer support conversation {i}"),
        "with": "Product inquiry about pricing plans",
        "metadata": { "source": "bench", "priority": "normal", "customer_tier": "pro" }
    });
    if let Some(agent) = agent {
        body["agent_uuid"] = json!(agent);
    }
    body
}

/// The S2 request body.
pub fn message_body(thread: &str, content: &str) -> Value {
    json!({
        "thread_uuid": thread,
        "role": "user",
        "content": content,
        "metadata": { "client": "bench" }
    })
}

async fn create_threads(addr: SocketAddr, key: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (next, key) = (next.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut client = Client::new(addr);
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(made);
                }
                let body = thread_body(i as u64, None);
                let created = client
                    .expect(Method::POST, "/api/v1/threads", Some(&key), Some(&body))
                    .await?;
                made.push(data_str(&created, "uuid")?);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for task in tasks {
        all.extend(task.await??);
    }
    Ok(all)
}

/// What the bulk seeding wrote and how long it took.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct BulkReport {
    pub threads: usize,
    pub messages: usize,
    pub took: Duration,
}

/// Seeds the big sets through the `Store` trait: the big thread, and at the
/// same time `list_threads` threads with `search_messages` messages dealt
/// round-robin over them, so that `last_message_at` orders them like real
/// activity. Appends to one thread serialise on it (PostgreSQL: its row
/// lock), so the big thread runs beside the rest rather than before it.
pub async fn through_store(
    store: Arc<dyn Store>,
    fixture: &mut Fixture,
    sizes: Sizes,
) -> anyhow::Result<BulkReport> {
    let began = Instant::now();
    let workspace = WorkspaceId::parse(&fixture.read_workspace).context("read workspace uuid")?;
    let user = UserId(fixture.user_id);
    let big = Arc::new(new_thread(workspace, user, "A very long conversation"));
    store.insert_thread((*big).clone()).await?;
    fixture.big_thread = big.id.0.to_string();
    let words = Arc::new(Words::new());

    let big_thread = parallel(sizes.big_thread, 8, {
        let (store, words) = (store.clone(), words.clone());
        move |i| {
            let (store, words, big) = (store.clone(), words.clone(), big.clone());
            async move { append(&*store, &big, &words, i as u64, user).await }
        }
    });
    let the_rest = async {
        let threads: Arc<Vec<Thread>> = Arc::new(
            (0..sizes.list_threads)
                .map(|i| new_thread(workspace, user, &format!("Conversation {i}")))
                .collect(),
        );
        parallel(threads.len(), 256, {
            let (store, threads) = (store.clone(), threads.clone());
            move |i| {
                let (store, threads) = (store.clone(), threads.clone());
                async move {
                    store.insert_thread(threads[i].clone()).await?;
                    Ok(())
                }
            }
        })
        .await?;
        eprintln!(
            "bench: {} threads after {:.1} s",
            sizes.list_threads,
            began.elapsed().as_secs_f64()
        );
        parallel(sizes.search_messages, 256, {
            let (store, words) = (store.clone(), words.clone());
            move |i| {
                let (store, words, threads) = (store.clone(), words.clone(), threads.clone());
                async move {
                    let thread = &threads[i % threads.len()];
                    append(&*store, thread, &words, (sizes.big_thread + i) as u64, user).await
                }
            }
        })
        .await?;
        eprintln!(
            "bench: {} messages over them after {:.1} s",
            sizes.search_messages,
            began.elapsed().as_secs_f64()
        );
        anyhow::Ok(())
    };
    let big_thread = async {
        big_thread.await?;
        eprintln!(
            "bench: the {}-message thread after {:.1} s",
            sizes.big_thread,
            began.elapsed().as_secs_f64()
        );
        anyhow::Ok(())
    };
    tokio::try_join!(big_thread, the_rest)?;
    Ok(BulkReport {
        threads: sizes.list_threads + 1,
        messages: sizes.big_thread + sizes.search_messages,
        took: began.elapsed(),
    })
}

fn new_thread(workspace: WorkspaceId, user: UserId, title: &str) -> Thread {
    let at = spool_core::now();
    let mut metadata = serde_json::Map::new();
    metadata.insert("source".into(), json!("bench"));
    Thread {
        id: ThreadId::new(),
        workspace_id: workspace,
        creator_id: Some(user),
        anon_user_id: None,
        agent_id: None,
        title: Some(title.to_owned()),
        subject: Some("Product inquiry".to_owned()),
        metadata: Metadata::from_stored(metadata),
        status: ThreadStatus::Idle,
        message_count: 0,
        last_message_at: None,
        last_model_used: None,
        is_pinned: false,
        pinned_at: None,
        visible_in_ui: true,
        input_tokens: 0,
        output_tokens: 0,
        expires_at: None,
        created_at: at,
        updated_at: at,
    }
}

async fn append(
    store: &dyn Store,
    thread: &Thread,
    words: &Words,
    i: u64,
    user: UserId,
) -> anyhow::Result<()> {
    let content = words.sentence(i);
    let at = spool_core::now();
    let (role, user_id) = if i.is_multiple_of(2) {
        (MessageRole::User, Some(user))
    } else {
        (MessageRole::Assistant, None)
    };
    let message = Message {
        id: MessageId::new(),
        thread_id: thread.id,
        workspace_id: thread.workspace_id,
        seq: 0,
        role,
        content_html: spool_core::markdown::render(&content),
        content,
        metadata: Metadata::default(),
        run: RunInfo::default(),
        tool_calls: Vec::new(),
        user_id,
        attachments: Vec::new(),
        token_count: None,
        created_at: at,
        updated_at: at,
    };
    store
        .append_message(message)
        .await?
        .context("the thread vanished while seeding")?;
    Ok(())
}

/// Runs `job(0..n)` with up to `in_flight` writes at once, so that the store
/// can group them into few commits.
async fn parallel<F, Fut>(n: usize, in_flight: usize, job: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..in_flight.min(n.max(1)) {
        let (job, next) = (job.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                job(i).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
