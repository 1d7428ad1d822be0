//! Migrations are SQL files compiled into the binary and applied in order at
//! start, each in its own transaction, recorded in `spool_migrations`.

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sql: include_str!("../migrations/sqlite/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "threads",
        sql: include_str!("../migrations/sqlite/0002_threads.sql"),
    },
    Migration {
        version: 3,
        name: "runs",
        sql: include_str!("../migrations/sqlite/0003_runs.sql"),
    },
    Migration {
        version: 4,
        name: "feedback",
        sql: include_str!("../migrations/sqlite/0004_feedback.sql"),
    },
    Migration {
        version: 5,
        name: "idempotency_leases",
        sql: include_str!("../migrations/sqlite/0005_idempotency_leases.sql"),
    },
    Migration {
        version: 6,
        name: "run_events",
        sql: include_str!("../migrations/sqlite/0006_run_events.sql"),
    },
    Migration {
        version: 7,
        name: "run_leases",
        sql: include_str!("../migrations/sqlite/0007_run_leases.sql"),
    },
    Migration {
        version: 8,
        name: "tools",
        sql: include_str!("../migrations/sqlite/0008_tools.sql"),
    },
    Migration {
        version: 9,
        name: "run_tool_outputs",
        sql: include_str!("../migrations/sqlite/0009_run_tool_outputs.sql"),
    },
    Migration {
        version: 10,
        name: "webhooks",
        sql: include_str!("../migrations/sqlite/0010_webhooks.sql"),
    },
    Migration {
        version: 11,
        name: "retention",
        sql: include_str!("../migrations/sqlite/0011_retention.sql"),
    },
    Migration {
        version: 12,
        name: "run_instructions",
        sql: include_str!("../migrations/sqlite/0012_run_instructions.sql"),
    },
    Migration {
        version: 13,
        name: "run_metadata",
        sql: include_str!("../migrations/sqlite/0013_run_metadata.sql"),
    },
    Migration {
        version: 15,
        name: "files",
        sql: include_str!("../migrations/sqlite/0015_files.sql"),
    },
    Migration {
        version: 16,
        name: "prompts",
        sql: include_str!("../migrations/sqlite/0016_prompts.sql"),
    },
    Migration {
        version: 17,
        name: "run_stats",
        sql: include_str!("../migrations/sqlite/0017_run_stats.sql"),
    },
    Migration {
        version: 18,
        name: "memories",
        sql: include_str!("../migrations/sqlite/0018_memories.sql"),
    },
    Migration {
        version: 19,
        name: "providers",
        sql: include_str!("../migrations/sqlite/0019_providers.sql"),
    },
    Migration {
        version: 20,
        name: "workspace_thread_counts",
        sql: include_str!("../migrations/sqlite/0020_workspace_thread_counts.sql"),
    },
    Migration {
        version: 21,
        name: "message_token_counts",
        sql: include_str!("../migrations/sqlite/0021_message_token_counts.sql"),
    },
    Migration {
        version: 22,
        name: "search_pending",
        sql: include_str!("../migrations/sqlite/0022_search_pending.sql"),
    },
    Migration {
        version: 23,
        name: "agent_share_touch",
        sql: include_str!("../migrations/sqlite/0023_agent_share_touch.sql"),
    },
];

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "accounts",
        sql: include_str!("../migrations/postgres/0001_accounts.sql"),
    },
    Migration {
        version: 2,
        name: "threads",
        sql: include_str!("../migrations/postgres/0002_threads.sql"),
    },
    Migration {
        version: 3,
        name: "runs",
        sql: include_str!("../migrations/postgres/0003_runs.sql"),
    },
    Migration {
        version: 4,
        name: "feedback",
        sql: include_str!("../migrations/postgres/0004_feedback.sql"),
    },
    Migration {
        version: 5,
        name: "idempotency_leases",
        sql: include_str!("../migrations/postgres/0005_idempotency_leases.sql"),
    },
    Migration {
        version: 6,
        name: "run_events",
        sql: include_str!("../migrations/postgres/0006_run_events.sql"),
    },
    Migration {
        version: 7,
        name: "run_leases",
        sql: include_str!("../migrations/postgres/0007_run_leases.sql"),
    },
    Migration {
        version: 8,
        name: "tools",
        sql: include_str!("../migrations/postgres/0008_tools.sql"),
    },
    Migration {
        version: 9,
        name: "run_tool_outputs",
        sql: include_str!("../migrations/postgres/0009_run_tool_outputs.sql"),
    },
    Migration {
        version: 10,
        name: "webhooks",
        sql: include_str!("../migrations/postgres/0010_webhooks.sql"),
    },
    Migration {
        version: 11,
        name: "retention",
        sql: include_str!("../migrations/postgres/0011_retention.sql"),
    },
    Migration {
        version: 12,
        name: "run_instructions",
        sql: include_str!("../migrations/postgres/0012_run_instructions.sql"),
    },
    Migration {
        version: 13,
        name: "run_metadata",
        sql: include_str!("../migrations/postgres/0013_run_metadata.sql"),
    },
    Migration {
        version: 15,
        name: "files",
        sql: include_str!("../migrations/postgres/0015_files.sql"),
    },
    Migration {
        version: 16,
        name: "prompts",
        sql: include_str!("../migrations/postgres/0016_prompts.sql"),
    },
    Migration {
        version: 17,
        name: "run_stats",
        sql: include_str!("../migrations/postgres/0017_run_stats.sql"),
    },
    Migration {
        version: 18,
        name: "memories",
        sql: include_str!("../migrations/postgres/0018_memories.sql"),
    },
    Migration {
        version: 19,
        name: "providers",
        sql: include_str!("../migrations/postgres/0019_providers.sql"),
    },
    Migration {
        version: 20,
        name: "workspace_thread_counts",
        sql: include_str!("../migrations/postgres/0020_workspace_thread_counts.sql"),
    },
    Migration {
        version: 21,
        name: "message_token_counts",
        sql: include_str!("../migrations/postgres/0021_message_token_counts.sql"),
    },
];
