//! One storage story, told to both backends: every `story_*` function runs
//! once against SQLite (a temp file) and once against PostgreSQL (a fresh
//! database in the cluster `SPOOL_TEST_PG_URL` names; `scripts/test` starts
//! one). A backend that disagrees with the other fails here.

#[path = "conformance/accounts.rs"]
mod accounts;
#[path = "conformance/agents.rs"]
mod agents;
#[path = "conformance/blobs.rs"]
mod blobs;
#[path = "conformance/builders.rs"]
mod builders;
#[path = "conformance/credentials.rs"]
mod credentials;
#[path = "conformance/feedback.rs"]
mod feedback;
#[path = "conformance/files.rs"]
mod files;
#[path = "conformance/fixtures.rs"]
mod fixtures;
#[path = "conformance/idempotency.rs"]
mod idempotency;
#[path = "conformance/members.rs"]
mod members;
#[path = "conformance/messages.rs"]
mod messages;
#[path = "conformance/metrics.rs"]
mod metrics;
#[path = "conformance/nesting.rs"]
mod nesting;
#[path = "conformance/postgres_only.rs"]
mod postgres_only;
#[path = "conformance/providers.rs"]
mod providers;
#[path = "conformance/retention.rs"]
mod retention;
#[path = "conformance/run_log.rs"]
mod run_log;
#[path = "conformance/run_races.rs"]
mod run_races;
#[path = "conformance/runs.rs"]
mod runs;
#[path = "conformance/search.rs"]
mod search;
#[path = "conformance/threads.rs"]
mod threads;
#[path = "conformance/totals.rs"]
mod totals;
#[path = "conformance/webhooks.rs"]
mod webhooks;
#[path = "conformance/workspaces.rs"]
mod workspaces;

use spool_core::Store;
use spool_store::test_db::fresh_postgres;
use spool_store::{PostgresStore, SqliteStore};
use std::any::Any;
use std::sync::Arc;

/// A store and what keeps its database alive (a temp dir, a `TestDb`);
/// fields drop in order, so the store goes first.
struct Backend {
    store: Arc<dyn Store>,
    _database: Box<dyn Any>,
}

async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("spool.db"))
        .await
        .expect("open SQLite");
    Backend {
        store: Arc::new(store),
        _database: Box::new(dir),
    }
}

async fn postgres() -> Backend {
    let database = fresh_postgres().await;
    let store = PostgresStore::connect(&database.url)
        .await
        .expect("connect to PostgreSQL");
    Backend {
        store: Arc::new(store),
        _database: Box::new(database),
    }
}

/// For each story, a `sqlite::story` and a `postgres::story` test.
macro_rules! stories {
    ($($module:ident::$story:ident => $name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = super::sqlite().await;
                    assert_eq!(backend.store.backend(), "sqlite");
                    super::$module::$story(backend.store.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let backend = super::postgres().await;
                    assert_eq!(backend.store.backend(), "postgres");
                    super::$module::$story(backend.store.clone()).await;
                }
            )*
        }
    };
}

stories! {
    accounts::story_users => users,
    accounts::story_concurrent_sign_ups => concurrent_sign_ups,
    accounts::story_timestamps_round_trip => timestamps_round_trip,
    workspaces::story_insert_workspace => insert_workspace,
    workspaces::story_list_workspaces => list_workspaces,
    workspaces::story_update_workspace => update_workspace,
    workspaces::story_delete_workspace => delete_workspace,
    members::story_put_member => put_member,
    members::story_list_members => list_members,
    members::story_remove_member => remove_member,
    credentials::story_sessions => sessions,
    credentials::story_api_keys => api_keys,
    credentials::story_api_key_touch_never_moves_back => api_key_touch_never_moves_back,
    files::story_files => files,
    messages::story_append_messages => append_messages,
    messages::story_concurrent_appends => concurrent_appends,
    messages::story_message_paging => message_paging,
    messages::story_message_token_counts => message_token_counts,
    messages::story_message_pages_bounded_in_bytes => message_pages_bounded_in_bytes,
    search::story_search => search,
    metrics::story_metrics => metrics,
    idempotency::story_idempotency => idempotency,
    idempotency::story_idempotency_leases => idempotency_leases,
    idempotency::story_idempotency_effects => idempotency_effects,
    runs::story_runs => runs,
    runs::story_run_leases => run_leases,
    run_log::story_run_log => run_log,
    run_log::story_queued_messages_wait_for_their_run => queued_messages_wait_for_their_run,
    runs::story_concurrent_admission => concurrent_admission,
    runs::story_run_transitions_are_compare_and_set => run_transitions_are_compare_and_set,
    runs::story_runs_wait_for_tool_outputs => runs_wait_for_tool_outputs,
    run_races::story_cancel_finish_promote_race => cancel_finish_promote_race,
    agents::story_insert_agent => insert_agent,
    agents::story_lookups => lookups,
    agents::story_list_agents => list_agents,
    agents::story_update_agent => update_agent,
    agents::story_put_agent_share => put_agent_share,
    agents::story_delete_agent => delete_agent,
    threads::story_insert_thread => insert_thread,
    threads::story_update_thread => update_thread,
    threads::story_list_thread_filters => list_thread_filters,
    threads::story_list_thread_sorts => list_thread_sorts,
    threads::story_keyset_walk => keyset_walk,
    threads::story_keyset_walk_under_inserts => keyset_walk_under_inserts,
    feedback::story_feedback => feedback,
    webhooks::story_webhook_outbox => webhook_outbox,
    webhooks::story_concurrent_claims => concurrent_webhook_claims,
    providers::story_workspace_providers => workspace_providers,
    retention::story_thread_retention => thread_retention,
    nesting::story_thread_nesting => thread_nesting,
    nesting::story_nested_rows_follow_their_changes => nested_rows_follow_their_changes,
    nesting::story_append_answers_the_thread => append_answers_the_thread,
    totals::story_page_totals => page_totals,
    totals::story_search_totals => search_totals,
    nesting::story_listings_in_one_trip => listings_in_one_trip,
}

/// On tokio's paused clock, which needs the current-thread runtime; SQLite
/// only, as sqlx's pool timeouts fire at once on a paused clock (coalescing
/// is the core's, the same on both backends).
#[tokio::test(start_paused = true)]
async fn sqlite_deltas_are_coalesced() {
    let backend = sqlite().await;
    run_races::story_deltas_are_coalesced(backend.store.clone()).await;
}

/// A delivery owed at a run's end is in the database, not in the process:
/// a store opened again on the same database finds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_webhook_outbox_survives_reopening() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("spool.db");
    let first: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let hook = webhooks::end_a_run_owing_a_delivery(first.clone()).await;
    drop(first);
    let second: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    webhooks::the_delivery_is_still_owed(second, hook).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_webhook_outbox_survives_reopening() {
    let database = fresh_postgres().await;
    let first: Arc<dyn Store> = Arc::new(PostgresStore::connect(&database.url).await.unwrap());
    let hook = webhooks::end_a_run_owing_a_delivery(first.clone()).await;
    drop(first);
    let second: Arc<dyn Store> = Arc::new(PostgresStore::connect(&database.url).await.unwrap());
    webhooks::the_delivery_is_still_owed(second, hook).await;
}

/// Every column of an exported table is in the export's schema (but the
/// derived ones): a migration that adds one must add it there too, or
/// `spool export` would drop it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_schema_has_every_column() {
    use spool_store::transfer::schema::TABLES;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("spool.db");
    drop(SqliteStore::open(&path).await.unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let database = fresh_postgres().await;
    let mut pg = <sqlx::PgConnection as sqlx::Connection>::connect(&database.url)
        .await
        .unwrap();
    drop(PostgresStore::connect(&database.url).await.unwrap());
    for table in TABLES {
        let mut listed: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
        listed.sort_unstable();
        let mut sqlite: Vec<String> = conn
            .prepare(&format!("PRAGMA table_info({})", table.table))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .map(Result::unwrap)
            .filter(|c| c != "rid")
            .collect();
        sqlite.sort();
        assert_eq!(sqlite, listed, "SQLite {}", table.table);
        let mut postgres: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = $1 AND is_generated = 'NEVER'",
        )
        .bind(table.table)
        .fetch_all(&mut pg)
        .await
        .unwrap();
        postgres.sort();
        assert_eq!(postgres, listed, "PostgreSQL {}", table.table);
    }
}
