//! Files' metadata; their bytes are in the object store.

use super::engine::backend_error;
use super::rows::{Blob, count, instant, int, micros};
use rusqlite::{Connection, OptionalExtension, Row, params};
use spool_core::listing::Cursor;
use spool_core::model::StoredFile;
use spool_core::{FileId, StoreError, Timestamp, UserId, WorkspaceId};

type Result<T> = std::result::Result<T, StoreError>;

const FILE_COLUMNS: &str = "id, workspace_id, user_id, name, mime_type, size, sha256, created_at";

fn file_row(row: &Row<'_>) -> rusqlite::Result<StoredFile> {
    Ok(StoredFile {
        id: FileId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        user_id: row.get::<_, Option<i64>>(2)?.map(UserId),
        name: row.get(3)?,
        mime_type: row.get(4)?,
        size: count(row.get(5)?),
        sha256: row.get(6)?,
        created_at: instant(row.get(7)?)?,
    })
}

pub(super) fn insert(conn: &Connection, file: &StoredFile) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO files (id, workspace_id, user_id, name, mime_type, size, sha256, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            Blob(file.id.0),
            Blob(file.workspace_id.0),
            file.user_id.map(|u| u.0),
            file.name,
            file.mime_type,
            int(file.size),
            file.sha256,
            micros(file.created_at)
        ])
    })
    .map(drop)
    .map_err(backend_error)
}

pub(super) fn get(conn: &Connection, ws: WorkspaceId, id: FileId) -> Result<Option<StoredFile>> {
    conn.prepare_cached(&format!(
        "SELECT {FILE_COLUMNS} FROM files WHERE id = ?1 AND workspace_id = ?2"
    ))
    .and_then(|mut s| {
        s.query_row(params![Blob(id.0), Blob(ws.0)], file_row)
            .optional()
    })
    .map_err(backend_error)
}

pub(super) fn many(conn: &Connection, ws: WorkspaceId, ids: &[FileId]) -> Result<Vec<StoredFile>> {
    let mut found = Vec::new();
    for id in ids {
        found.extend(get(conn, ws, *id)?);
    }
    Ok(found)
}

pub(super) fn list(
    conn: &Connection,
    ws: WorkspaceId,
    uploader: Option<UserId>,
    after: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<StoredFile>, bool)> {
    let (key, id) = after.map_or((i64::MAX, uuid::Uuid::max()), |c| (c.key, c.id));
    let mut rows = conn
        .prepare_cached(&format!(
            "SELECT {FILE_COLUMNS} FROM files
             WHERE workspace_id = ?1 AND (?2 IS NULL OR user_id = ?2)
               AND (created_at < ?3 OR (created_at = ?3 AND id < ?4))
             ORDER BY created_at DESC, id DESC LIMIT ?5"
        ))
        .and_then(|mut s| {
            s.query_map(
                params![Blob(ws.0), uploader.map(|u| u.0), key, Blob(id), limit + 1],
                file_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend_error)?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

pub(super) fn delete(conn: &Connection, ws: WorkspaceId, id: FileId) -> Result<bool> {
    conn.prepare_cached("DELETE FROM files WHERE id = ?1 AND workspace_id = ?2")
        .and_then(|mut s| s.execute(params![Blob(id.0), Blob(ws.0)]))
        .map(|n| n > 0)
        .map_err(backend_error)
}

pub(super) fn usage(conn: &Connection, ws: WorkspaceId) -> Result<u64> {
    conn.prepare_cached("SELECT coalesce(sum(size), 0) FROM files WHERE workspace_id = ?1")
        .and_then(|mut s| s.query_row([Blob(ws.0)], |r| r.get::<_, i64>(0)))
        .map(count)
        .map_err(backend_error)
}

pub(super) fn take_unreferenced(
    conn: &Connection,
    before: Timestamp,
    limit: u32,
) -> Result<Vec<StoredFile>> {
    conn.prepare_cached(&format!(
        "DELETE FROM files WHERE rid IN (
             SELECT f.rid FROM files f
             WHERE f.created_at < ?1
               AND NOT EXISTS (SELECT 1 FROM message_files mf WHERE mf.file_id = f.id)
             ORDER BY f.created_at LIMIT ?2)
         RETURNING {FILE_COLUMNS}"
    ))
    .and_then(|mut s| {
        s.query_map(params![micros(before), limit], file_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(backend_error)
}
