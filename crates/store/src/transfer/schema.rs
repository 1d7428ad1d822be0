//! What `spool export` writes and `spool import` reads: the tables, in an
//! order where every row's references come before it, and each column's
//! kind, which says how it reads from and writes to each backend and how it
//! looks in JSON. Both backends name their columns alike; SQLite's `rid`
//! and PostgreSQL's generated `search` are derived and left out.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A UUID: 16 bytes on SQLite, `uuid` on PostgreSQL; hyphenated text.
    Uuid,
    /// Microseconds on SQLite, `timestamptz` on PostgreSQL; RFC 3339 text.
    Time,
    Text,
    Int,
    Real,
    /// 0/1 on SQLite, `boolean` on PostgreSQL.
    Bool,
    /// Text on SQLite, `jsonb` on PostgreSQL; JSON with sorted keys.
    Json,
}

pub struct Table {
    /// The `type` of its lines.
    pub name: &'static str,
    pub table: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// Identifies a row: its order in the file, and what a conflict names.
    pub key: &'static [&'static str],
    /// Keeps one workspace's rows; `{w}` is the workspace's id.
    pub scope: &'static str,
}

use Kind::*;

macro_rules! columns {
    ($($name:literal: $kind:ident),* $(,)?) => { &[$(($name, $kind)),*] };
}

pub const TABLES: &[Table] = &[
    Table {
        name: "user",
        table: "users",
        columns: columns!(
            "id": Int, "uuid": Uuid, "name": Text, "first_name": Text, "last_name": Text,
            "email": Text, "password_hash": Text, "profile_photo_url": Text,
            "primary_workspace_id": Uuid, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        // Everyone the workspace's rows name, so that each reference holds.
        scope: "id IN (SELECT user_id FROM workspace_members WHERE workspace_id = {w}) \
                OR id IN (SELECT owner_id FROM workspaces WHERE id = {w}) \
                OR id IN (SELECT user_id FROM agents WHERE workspace_id = {w}) \
                OR id IN (SELECT creator_id FROM threads WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM messages WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM feedback WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM runs WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM prompts WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM memories WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM providers WHERE workspace_id = {w}) \
                OR id IN (SELECT user_id FROM files WHERE workspace_id = {w})",
    },
    Table {
        name: "workspace",
        table: "workspaces",
        columns: columns!(
            "id": Uuid, "slug": Text, "name": Text, "profile_photo_url": Text,
            "is_onboarded": Bool, "metadata": Json, "owner_id": Int,
            "thread_retention_days": Int, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "id = {w}",
    },
    Table {
        name: "member",
        table: "workspace_members",
        columns: columns!("workspace_id": Uuid, "user_id": Int, "role": Text, "created_at": Time),
        key: &["workspace_id", "user_id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "agent",
        table: "agents",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "user_id": Int, "name": Text, "description": Text,
            "instruction": Text, "profile_photo_url": Text, "profile_photo_config": Json,
            "visibility": Text, "metadata": Json, "tools": Json, "threads_count": Int,
            "usage_count": Int, "last_used_at": Time, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "agent_share",
        table: "agent_shares",
        columns: columns!(
            "agent_id": Uuid, "entity_type": Text, "entity_id": Text, "permission": Text,
            "created_at": Time,
        ),
        key: &["agent_id", "entity_type", "entity_id"],
        scope: "agent_id IN (SELECT id FROM agents WHERE workspace_id = {w})",
    },
    // A file's metadata; its bytes stay in the object store (copy the files
    // directory or bucket alongside the export: docs/files.md).
    Table {
        name: "file",
        table: "files",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "user_id": Int, "name": Text, "mime_type": Text,
            "size": Int, "sha256": Text, "created_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "thread",
        table: "threads",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "creator_id": Int, "anon_user_id": Text,
            "agent_id": Uuid, "title": Text, "subject": Text, "metadata": Json, "status": Text,
            "message_count": Int, "last_message_at": Time, "activity_at": Time,
            "last_model_used": Text, "is_pinned": Bool, "pinned_at": Time,
            "visible_in_ui": Bool, "input_tokens": Int, "output_tokens": Int, "last_seq": Int,
            "expires_at": Time, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "message",
        table: "messages",
        columns: columns!(
            "id": Uuid, "thread_id": Uuid, "workspace_id": Uuid, "agent_id": Uuid, "seq": Int,
            "role": Text, "content": Text, "content_html": Text, "metadata": Json,
            "tool_calls": Json, "user_id": Int, "run_id": Uuid, "model": Text,
            "temperature": Real, "input_tokens": Int, "output_tokens": Int,
            "finish_reason": Text, "created_at": Time, "updated_at": Time,
            "attachments": Json, "token_count": Int,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "message_file",
        table: "message_files",
        columns: columns!("message_id": Uuid, "file_id": Uuid),
        key: &["message_id", "file_id"],
        scope: "file_id IN (SELECT id FROM files WHERE workspace_id = {w})",
    },
    Table {
        name: "feedback",
        table: "feedback",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "thread_id": Uuid, "message_id": Uuid,
            "human_message_id": Uuid, "run_id": Uuid, "user_id": Int, "anon_user_id": Text,
            "feedback_type": Text, "issue_type": Text, "comment": Text, "created_at": Time,
            "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "run",
        table: "runs",
        columns: columns!(
            "id": Uuid, "thread_id": Uuid, "workspace_id": Uuid, "agent_id": Uuid,
            "user_id": Int, "model": Text, "status": Text, "temperature": Real,
            "max_tokens": Int, "input_tokens": Int, "output_tokens": Int, "error": Text,
            "message_id": Uuid, "queued_message": Text, "tools": Json, "tool_choice": Json,
            "required_action": Json, "tool_outputs": Json, "lease_holder": Text,
            "lease_until": Time, "cancel_requested_at": Time, "instructions": Text,
            "additional_instructions": Text, "metadata": Json, "top_p": Real, "history_limit": Int,
            "finish_reason": Text, "created_at": Time, "started_at": Time,
            "finished_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "run_event",
        table: "run_events",
        columns: columns!(
            "run_id": Uuid, "seq": Int, "event": Text, "data": Text, "created_at": Time,
        ),
        key: &["run_id", "seq"],
        scope: "run_id IN (SELECT id FROM runs WHERE workspace_id = {w})",
    },
    Table {
        name: "prompt",
        table: "prompts",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "user_id": Int, "name": Text, "description": Text,
            "template": Text, "model": Text, "settings": Json, "visibility": Text,
            "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    Table {
        name: "memory",
        table: "memories",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "agent_id": Uuid, "user_id": Int, "content": Text,
            "thread_id": Uuid, "message_id": Uuid, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
    // Credentials travel sealed: the importing server needs the same keys.
    Table {
        name: "provider",
        table: "providers",
        columns: columns!(
            "id": Uuid, "workspace_id": Uuid, "user_id": Int, "name": Text, "description": Text,
            "kind": Text, "base_url": Text, "authentication": Json, "secret_key_id": Text,
            "secret": Text, "models": Json, "created_at": Time, "updated_at": Time,
        ),
        key: &["id"],
        scope: "workspace_id = {w}",
    },
];

/// The table whose lines have this `type`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_columns() {
        for table in TABLES {
            for key in table.key {
                assert!(
                    table.columns.iter().any(|(c, _)| c == key),
                    "{}: {key}",
                    table.name
                );
            }
        }
    }
}
