//! Workspace providers: endpoints, sealed credentials and models.

use super::engine::backend_error;
use super::rows::{Blob, instant, micros, parse_text};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::Value;
use spool_core::model::{
    ProviderKind, WorkspaceProvider, authentication_from_json, authentication_json,
    models_from_json, models_json,
};
use spool_core::paging::{Page, PageRequest};
use spool_core::sealing::Sealed;
use spool_core::{ProviderId, StoreError, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const PROVIDER_COLUMNS: &str = "id, workspace_id, user_id, name, description, kind, base_url, \
     authentication, secret_key_id, secret, models, created_at, updated_at";

fn json_column<T>(
    row: &Row<'_>,
    column: usize,
    parse: impl FnOnce(&Value) -> Option<T>,
) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|value| parse(&value))
        .ok_or(rusqlite::Error::InvalidColumnType(
            column,
            "json".into(),
            rusqlite::types::Type::Text,
        ))
}

fn provider_row(row: &Row<'_>) -> rusqlite::Result<WorkspaceProvider> {
    let kind: String = row.get(5)?;
    Ok(WorkspaceProvider {
        id: ProviderId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        user_id: row.get::<_, Option<i64>>(2)?.map(UserId),
        name: row.get(3)?,
        description: row.get(4)?,
        kind: parse_text(5, &kind, ProviderKind::parse)?,
        base_url: row.get(6)?,
        authentication: json_column(row, 7, authentication_from_json)?,
        secret: Sealed::from_columns(row.get(8)?, row.get(9)?),
        models: json_column(row, 10, models_from_json)?,
        created_at: instant(row.get(11)?)?,
        updated_at: instant(row.get(12)?)?,
    })
}

pub(super) fn insert(conn: &Connection, provider: &WorkspaceProvider) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO providers ({PROVIDER_COLUMNS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    ))
    .and_then(|mut s| {
        s.execute(params![
            Blob(provider.id.0),
            Blob(provider.workspace_id.0),
            provider.user_id.map(|u| u.0),
            provider.name,
            provider.description,
            provider.kind.as_str(),
            provider.base_url,
            authentication_json(&provider.authentication).to_string(),
            provider.secret.as_ref().map(|s| s.key_id.as_str()),
            provider.secret.as_ref().map(|s| s.ciphertext.as_str()),
            models_json(&provider.models).to_string(),
            micros(provider.created_at),
            micros(provider.updated_at),
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn get(
    conn: &Connection,
    workspace: WorkspaceId,
    id: ProviderId,
) -> Result<Option<WorkspaceProvider>> {
    conn.prepare_cached(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers WHERE id = ?1 AND workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row([Blob(id.0), Blob(workspace.0)], provider_row)
            .optional()
    })
    .map_err(backend_error)
}

pub(super) fn list(
    conn: &Connection,
    workspace: WorkspaceId,
    page: PageRequest,
) -> Result<Page<WorkspaceProvider>> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM providers WHERE workspace_id = ?1")
        .and_then(|mut s| s.query_row([Blob(workspace.0)], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {PROVIDER_COLUMNS} FROM providers WHERE workspace_id = ?1
             ORDER BY created_at, name LIMIT ?2 OFFSET ?3"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(workspace.0), page.per_page, page.offset()],
                provider_row,
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

pub(super) fn all(conn: &Connection, workspace: WorkspaceId) -> Result<Vec<WorkspaceProvider>> {
    conn.prepare_cached(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers WHERE workspace_id = ?1
         ORDER BY created_at, name"
    ))
    .and_then(|mut s| s.query_map([Blob(workspace.0)], provider_row)?.collect())
    .map_err(backend_error)
}

pub(super) fn update(conn: &Connection, provider: &WorkspaceProvider) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE providers SET name = ?3, description = ?4, kind = ?5, base_url = ?6,
                authentication = ?7, secret_key_id = ?8, secret = ?9, models = ?10,
                updated_at = ?11
         WHERE id = ?1 AND workspace_id = ?2",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(provider.id.0),
            Blob(provider.workspace_id.0),
            provider.name,
            provider.description,
            provider.kind.as_str(),
            provider.base_url,
            authentication_json(&provider.authentication).to_string(),
            provider.secret.as_ref().map(|s| s.key_id.as_str()),
            provider.secret.as_ref().map(|s| s.ciphertext.as_str()),
            models_json(&provider.models).to_string(),
            micros(provider.updated_at),
        ])
    })
    .map(|n| n == 1)
    .map_err(backend_error)
}

pub(super) fn delete(conn: &Connection, workspace: WorkspaceId, id: ProviderId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM providers WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute([Blob(id.0), Blob(workspace.0)]))
        .map(|n| n == 1)
        .map_err(backend_error)
}

pub(super) fn sealed_with_other_keys(
    conn: &Connection,
    key_id: &str,
    after: Option<ProviderId>,
    limit: u32,
) -> Result<Vec<WorkspaceProvider>> {
    conn.prepare_cached(&format!(
        "SELECT {PROVIDER_COLUMNS} FROM providers
         WHERE secret_key_id IS NOT NULL AND secret_key_id <> ?1 AND (?2 IS NULL OR id > ?2)
         ORDER BY id LIMIT ?3"
    ))
    .and_then(|mut s| {
        s.query_map(
            params![key_id, after.map(|id| Blob(id.0)), limit],
            provider_row,
        )?
        .collect()
    })
    .map_err(backend_error)
}

pub(super) fn reseal(
    conn: &Connection,
    id: ProviderId,
    old: &Sealed,
    new: &Sealed,
) -> Result<bool> {
    conn.prepare_cached(
        "UPDATE providers SET secret_key_id = ?4, secret = ?5
         WHERE id = ?1 AND secret_key_id = ?2 AND secret = ?3",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(id.0),
            old.key_id,
            old.ciphertext,
            new.key_id,
            new.ciphertext,
        ])
    })
    .map(|n| n == 1)
    .map_err(backend_error)
}
