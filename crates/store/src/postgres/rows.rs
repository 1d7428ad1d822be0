//! Column lists and row decoding shared by the PostgreSQL queries.

use super::error::corrupt;
use spool_core::model::{ApiKey, Member, Role, Session, User, Workspace};
use spool_core::secret::TokenHash;
use spool_core::validate::Metadata;
use spool_core::{ApiKeyId, SessionId, UserId, WorkspaceId};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::types::Json;

/// Column lists as macros, so that `concat!` builds `&'static str` queries.
macro_rules! user_columns {
    () => {
        "u.id, u.uuid, u.name, u.first_name, u.last_name, u.email, u.profile_photo_url, \
         u.primary_workspace_id, u.created_at, u.updated_at"
    };
}
macro_rules! workspace_columns {
    () => {
        "w.id, w.slug, w.name, w.profile_photo_url, w.is_onboarded, w.metadata, w.owner_id, \
         w.created_at, w.updated_at, w.thread_retention_days"
    };
}
macro_rules! api_key_columns {
    () => {
        "k.id, k.workspace_id, k.user_id, k.name, k.prefix, k.key_hash, k.created_at, \
         k.last_used_at, k.expires_at, k.revoked_at"
    };
}
macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.token_hash, s.created_at, s.expires_at, s.revoked_at"
    };
}
pub(super) use {api_key_columns, session_columns, user_columns, workspace_columns};

fn token_hash(row: &PgRow, column: &str) -> sqlx::Result<TokenHash> {
    let bytes: Vec<u8> = row.try_get(column)?;
    TokenHash::from_slice(&bytes).ok_or_else(|| corrupt(column))
}

pub(super) fn user(row: &PgRow) -> sqlx::Result<User> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        uuid: row.try_get("uuid")?,
        name: row.try_get("name")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        email: row.try_get("email")?,
        profile_photo_url: row.try_get("profile_photo_url")?,
        primary_workspace_id: row
            .try_get::<Option<uuid::Uuid>, _>("primary_workspace_id")?
            .map(WorkspaceId),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn workspace(row: &PgRow) -> sqlx::Result<Workspace> {
    let Json(metadata) = row.try_get("metadata")?;
    Ok(Workspace {
        id: WorkspaceId(row.try_get("id")?),
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        profile_photo_url: row.try_get("profile_photo_url")?,
        is_onboarded: row.try_get("is_onboarded")?,
        metadata: Metadata::from_stored(metadata),
        owner_id: row.try_get::<Option<i64>, _>("owner_id")?.map(UserId),
        thread_retention_days: row
            .try_get::<Option<i32>, _>("thread_retention_days")?
            .and_then(|d| u32::try_from(d).ok()),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn member(row: &PgRow) -> sqlx::Result<Member> {
    let role: String = row.try_get("role")?;
    Ok(Member {
        user: user(row)?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        joined_at: row.try_get("joined_at")?,
    })
}

pub(super) fn session(row: &PgRow) -> sqlx::Result<Session> {
    Ok(Session {
        id: SessionId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        hash: token_hash(row, "token_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

pub(super) fn api_key(row: &PgRow) -> sqlx::Result<ApiKey> {
    Ok(ApiKey {
        id: ApiKeyId(row.try_get("id")?),
        workspace_id: WorkspaceId(row.try_get("workspace_id")?),
        user_id: UserId(row.try_get("user_id")?),
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        hash: token_hash(row, "key_hash")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// LIMIT and OFFSET of an offset page.
pub(super) fn limit_offset(page: spool_core::paging::PageRequest) -> (i64, i64) {
    (
        i64::from(page.per_page),
        i64::try_from(page.offset()).unwrap_or(i64::MAX),
    )
}

pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
