//! Workspaces and their members.

use super::engine::backend_error;
use super::rows::{self, Blob, USER_COLUMNS, WORKSPACE_COLUMNS, micros};
use rusqlite::{Connection, OptionalExtension, params};
use spool_core::model::{Member, Role, Workspace, WorkspacePatch};
use spool_core::paging::{Page, PageRequest};
use spool_core::store::RemoveMember;
use spool_core::{StoreError, Timestamp, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

pub(super) fn insert(conn: &Connection, ws: &Workspace, owner: UserId) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO workspaces (id, slug, name, profile_photo_url, is_onboarded, metadata, owner_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(ws.id.0),
            ws.slug,
            ws.name,
            ws.profile_photo_url,
            ws.is_onboarded,
            ws.metadata.to_json_string(),
            owner.0,
            micros(ws.created_at),
            micros(ws.updated_at)
        ])
    })
    .map_err(backend_error)?;
    put_member(conn, ws.id, owner, Role::Owner, ws.created_at)
}

pub(super) fn get(conn: &Connection, id: WorkspaceId) -> Result<Option<Workspace>> {
    conn.prepare_cached(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = ?1"
    ))
    .and_then(|mut s| s.query_row([Blob(id.0)], rows::workspace).optional())
    .map_err(backend_error)
}

pub(super) fn list_for_user(
    conn: &Connection,
    user: UserId,
    page: PageRequest,
) -> Result<Page<Workspace>> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM workspace_members WHERE user_id = ?1")
        .and_then(|mut s| s.query_row([user.0], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
             WHERE m.user_id = ?1 ORDER BY w.created_at, w.id LIMIT ?2 OFFSET ?3"
        ))
        .and_then(|mut s| {
            s.query_map(params![user.0, page.per_page, page.offset()], rows::workspace)?.collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

pub(super) fn update(
    conn: &Connection,
    id: WorkspaceId,
    patch: WorkspacePatch,
    at: Timestamp,
) -> Result<Option<Workspace>> {
    let Some(current) = get(conn, id)? else {
        return Ok(None);
    };
    let next = Workspace {
        name: patch.name.unwrap_or(current.name),
        slug: patch.slug.unwrap_or(current.slug),
        profile_photo_url: patch.profile_photo_url.unwrap_or(current.profile_photo_url),
        is_onboarded: patch.is_onboarded.unwrap_or(current.is_onboarded),
        metadata: patch.metadata.unwrap_or(current.metadata),
        thread_retention_days: patch
            .thread_retention_days
            .unwrap_or(current.thread_retention_days),
        updated_at: at,
        ..current
    };
    conn.prepare_cached(
        "UPDATE workspaces SET name = ?2, slug = ?3, profile_photo_url = ?4, is_onboarded = ?5, metadata = ?6, updated_at = ?7,
             thread_retention_days = ?8
         WHERE id = ?1",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(id.0),
            next.name,
            next.slug,
            next.profile_photo_url,
            next.is_onboarded,
            next.metadata.to_json_string(),
            micros(at),
            next.thread_retention_days
        ])
    })
    .map_err(backend_error)?;
    Ok(Some(next))
}

pub(super) fn delete(conn: &Connection, id: WorkspaceId) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM workspaces WHERE id = ?1")
        .and_then(|mut s| s.execute([Blob(id.0)]))
        .map_err(backend_error)?;
    Ok(n > 0)
}

pub(super) fn role(conn: &Connection, ws: WorkspaceId, user: UserId) -> Result<Option<Role>> {
    let text: Option<String> = conn
        .prepare_cached(
            "SELECT role FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2",
        )
        .and_then(|mut s| {
            s.query_row(params![Blob(ws.0), user.0], |r| r.get(0))
                .optional()
        })
        .map_err(backend_error)?;
    text.map(rows::role).transpose().map_err(backend_error)
}

pub(super) fn list_members(
    conn: &Connection,
    ws: WorkspaceId,
    page: PageRequest,
) -> Result<Page<Member>> {
    let total: i64 = conn
        .prepare_cached("SELECT count(*) FROM workspace_members WHERE workspace_id = ?1")
        .and_then(|mut s| s.query_row([Blob(ws.0)], |r| r.get(0)))
        .map_err(backend_error)?;
    let items = conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, m.role, m.created_at FROM workspace_members m JOIN users u ON u.id = m.user_id
             WHERE m.workspace_id = ?1 ORDER BY m.created_at, m.user_id LIMIT ?2 OFFSET ?3"
        ))
        .and_then(|mut s| {
            s.query_map(params![Blob(ws.0), page.per_page, page.offset()], |row| {
                Ok(Member {
                    user: rows::user(row)?,
                    role: rows::role(row.get(10)?)?,
                    joined_at: chrono::DateTime::from_timestamp_micros(row.get(11)?).unwrap_or_default(),
                })
            })?
            .collect()
        })
        .map_err(backend_error)?;
    Ok(Page {
        items,
        total: total.unsigned_abs(),
        request: page,
    })
}

pub(super) fn put_member(
    conn: &Connection,
    ws: WorkspaceId,
    user: UserId,
    role: Role,
    at: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO workspace_members (workspace_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (workspace_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .and_then(|mut s| s.execute(params![Blob(ws.0), user.0, role.as_str(), micros(at)]))
    .map_err(backend_error)?;
    conn.prepare_cached(
        "UPDATE users SET primary_workspace_id = ?1 WHERE id = ?2 AND primary_workspace_id IS NULL",
    )
    .and_then(|mut s| s.execute(params![Blob(ws.0), user.0]))
    .map_err(backend_error)?;
    Ok(())
}

pub(super) fn remove_member(
    conn: &Connection,
    ws: WorkspaceId,
    user: UserId,
) -> Result<RemoveMember> {
    let Some(current) = role(conn, ws, user)? else {
        return Ok(RemoveMember::NotMember);
    };
    if current == Role::Owner {
        let owners: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM workspace_members WHERE workspace_id = ?1 AND role = 'owner'",
            )
            .and_then(|mut s| s.query_row([Blob(ws.0)], |r| r.get(0)))
            .map_err(backend_error)?;
        if owners <= 1 {
            return Ok(RemoveMember::LastOwner);
        }
    }
    for sql in [
        "DELETE FROM workspace_members WHERE workspace_id = ?1 AND user_id = ?2",
        "DELETE FROM api_keys WHERE workspace_id = ?1 AND user_id = ?2",
        "UPDATE users SET primary_workspace_id = NULL WHERE primary_workspace_id = ?1 AND id = ?2",
    ] {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute(params![Blob(ws.0), user.0]))
            .map_err(backend_error)?;
    }
    Ok(RemoveMember::Removed)
}
