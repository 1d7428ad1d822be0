//! Prompts: a workspace's templates.

use super::engine::backend_error;
use super::rows::{Blob, instant, micros, parse_text};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use spool_core::model::{Prompt, Visibility};
use spool_core::paging::{Page, PageRequest};
use spool_core::{PromptId, StoreError, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const PROMPT_COLUMNS: &str = "id, workspace_id, user_id, name, description, template, model, settings, \
     visibility, created_at, updated_at";

fn prompt_row(row: &Row<'_>) -> rusqlite::Result<Prompt> {
    let settings: String = row.get(7)?;
    let visibility: String = row.get(8)?;
    Ok(Prompt {
        id: PromptId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        user_id: UserId(row.get(2)?),
        name: row.get(3)?,
        description: row.get(4)?,
        template: row.get(5)?,
        model: row.get(6)?,
        settings: match serde_json::from_str(&settings) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(rusqlite::Error::InvalidColumnType(
                    7,
                    settings,
                    rusqlite::types::Type::Text,
                ));
            }
        },
        visibility: parse_text(8, &visibility, Visibility::parse)?,
        created_at: instant(row.get(9)?)?,
        updated_at: instant(row.get(10)?)?,
    })
}

pub(super) fn insert(conn: &Connection, prompt: &Prompt) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO prompts ({PROMPT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            Blob(prompt.id.0),
            Blob(prompt.workspace_id.0),
            prompt.user_id.0,
            prompt.name,
            prompt.description,
            prompt.template,
            prompt.model,
            Value::Object(prompt.settings.clone()).to_string(),
            prompt.visibility.as_str(),
            micros(prompt.created_at),
            micros(prompt.updated_at),
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn get(conn: &Connection, id: PromptId) -> Result<Option<Prompt>> {
    conn.prepare_cached(&format!(
        "SELECT {PROMPT_COLUMNS} FROM prompts WHERE id = ?1"
    ))
    .and_then(|mut s| s.query_row([Blob(id.0)], prompt_row).optional())
    .map_err(backend_error)
}

pub(super) fn list(
    conn: &Connection,
    workspace: WorkspaceId,
    viewer: UserId,
    page: PageRequest,
) -> Result<Page<Prompt>> {
    const VISIBLE: &str = "workspace_id = ?1 AND (visibility <> 'private' OR user_id = ?2)";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT count(*) FROM prompts WHERE {VISIBLE}"))
        .and_then(|mut s| s.query_row(params![Blob(workspace.0), viewer.0], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {PROMPT_COLUMNS} FROM prompts WHERE {VISIBLE}
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(workspace.0), viewer.0, page.per_page, page.offset()],
                prompt_row,
            )?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

pub(super) fn update(conn: &Connection, prompt: &Prompt) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE prompts SET name = ?2, description = ?3, template = ?4, model = ?5, settings = ?6,
                visibility = ?7, updated_at = ?8
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(prompt.id.0),
            prompt.name,
            prompt.description,
            prompt.template,
            prompt.model,
            Value::Object(prompt.settings.clone()).to_string(),
            prompt.visibility.as_str(),
            micros(prompt.updated_at),
        ])
    })
    .map(|n| n == 1)
    .map_err(backend_error)
}

pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: PromptId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM prompts WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute([Blob(id.0), Blob(workspace.0)]))
        .map(|n| n == 1)
        .map_err(backend_error)
}
