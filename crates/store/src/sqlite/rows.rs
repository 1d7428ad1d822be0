//! Conversions between SQLite's column types and the core's.

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Row, ToSql};
use spool_core::model::{ApiKey, Role, Session, User, Workspace};
use spool_core::secret::TokenHash;
use spool_core::validate::Metadata;
use spool_core::{ApiKeyId, SessionId, Timestamp, UserId, WorkspaceId};
use uuid::Uuid;

/// A UUID stored as its 16 bytes.
pub(crate) struct Blob(pub Uuid);

impl ToSql for Blob {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self.0.as_bytes())))
    }
}

impl FromSql for Blob {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        Uuid::from_slice(value.as_blob()?)
            .map(Blob)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// An instant stored as microseconds since the Unix epoch.
pub(crate) fn micros(at: Timestamp) -> i64 {
    at.timestamp_micros()
}

pub(crate) fn instant(value: i64) -> rusqlite::Result<Timestamp> {
    DateTime::<Utc>::from_timestamp_micros(value)
        .ok_or_else(|| rusqlite::Error::IntegralValueOutOfRange(0, value))
}

pub(crate) fn opt_instant(value: Option<i64>) -> rusqlite::Result<Option<Timestamp>> {
    value.map(instant).transpose()
}

pub(crate) fn metadata(text: String) -> rusqlite::Result<Metadata> {
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(Metadata::from_stored(map)),
        _ => Ok(Metadata::default()),
    }
}

/// A stored count (never negative) as the core's unsigned count.
pub(crate) fn count(value: i64) -> u64 {
    value.max(0).unsigned_abs()
}

/// A count for storage; saturates rather than wrapping.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A text column that should hold one of an enum's names.
pub(crate) fn parse_text<T>(
    column: usize,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    parse(text).ok_or_else(|| {
        rusqlite::Error::InvalidColumnType(column, text.into(), rusqlite::types::Type::Text)
    })
}

/// Ids bound as one JSON array, expanded by `json_each` in SQL: one cached
/// statement serves any number of ids (`unhex(value)` turns each back into
/// its 16 bytes).
pub(crate) fn uuid_list(ids: impl IntoIterator<Item = Uuid>) -> String {
    let hex: Vec<String> = ids.into_iter().map(|id| id.simple().to_string()).collect();
    serde_json::Value::from(hex).to_string()
}

fn hash(bytes: Vec<u8>) -> rusqlite::Result<TokenHash> {
    TokenHash::from_slice(&bytes).ok_or(rusqlite::Error::InvalidColumnType(
        0,
        "hash".into(),
        rusqlite::types::Type::Blob,
    ))
}

pub(crate) const USER_COLUMNS: &str = "u.id, u.uuid, u.name, u.first_name, u.last_name, u.email, \
     u.profile_photo_url, u.primary_workspace_id, u.created_at, u.updated_at";

pub(crate) fn user(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(row.get(0)?),
        uuid: row.get::<_, Blob>(1)?.0,
        name: row.get(2)?,
        first_name: row.get(3)?,
        last_name: row.get(4)?,
        email: row.get(5)?,
        profile_photo_url: row.get(6)?,
        primary_workspace_id: row.get::<_, Option<Blob>>(7)?.map(|b| WorkspaceId(b.0)),
        created_at: instant(row.get(8)?)?,
        updated_at: instant(row.get(9)?)?,
    })
}

pub(crate) const WORKSPACE_COLUMNS: &str = "w.id, w.slug, w.name, w.profile_photo_url, w.is_onboarded, w.metadata, w.owner_id, w.created_at, w.updated_at, w.thread_retention_days";

pub(crate) fn workspace(row: &Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(row.get::<_, Blob>(0)?.0),
        slug: row.get(1)?,
        name: row.get(2)?,
        profile_photo_url: row.get(3)?,
        is_onboarded: row.get(4)?,
        metadata: metadata(row.get(5)?)?,
        owner_id: row.get::<_, Option<i64>>(6)?.map(UserId),
        thread_retention_days: row
            .get::<_, Option<i64>>(9)?
            .and_then(|d| u32::try_from(d).ok()),
        created_at: instant(row.get(7)?)?,
        updated_at: instant(row.get(8)?)?,
    })
}

pub(crate) fn role(text: String) -> rusqlite::Result<Role> {
    Role::parse(&text).ok_or(rusqlite::Error::InvalidColumnType(
        0,
        "role".into(),
        rusqlite::types::Type::Text,
    ))
}

pub(crate) const SESSION_COLUMNS: &str =
    "id, user_id, token_hash, created_at, expires_at, revoked_at";

pub(crate) fn session(row: &Row<'_>) -> rusqlite::Result<Session> {
    Ok(Session {
        id: SessionId(row.get::<_, Blob>(0)?.0),
        user_id: UserId(row.get(1)?),
        hash: hash(row.get(2)?)?,
        created_at: instant(row.get(3)?)?,
        expires_at: instant(row.get(4)?)?,
        revoked_at: opt_instant(row.get(5)?)?,
    })
}

pub(crate) const API_KEY_COLUMNS: &str = "id, workspace_id, user_id, name, prefix, key_hash, created_at, last_used_at, expires_at, revoked_at";

pub(crate) fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId(row.get::<_, Blob>(0)?.0),
        workspace_id: WorkspaceId(row.get::<_, Blob>(1)?.0),
        user_id: UserId(row.get(2)?),
        name: row.get(3)?,
        prefix: row.get(4)?,
        hash: hash(row.get(5)?)?,
        created_at: instant(row.get(6)?)?,
        last_used_at: opt_instant(row.get(7)?)?,
        expires_at: opt_instant(row.get(8)?)?,
        revoked_at: opt_instant(row.get(9)?)?,
    })
}
