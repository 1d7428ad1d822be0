//! Files, OpenAI-style: `POST /v1/files` (multipart parts, or a raw body
//! named by `?name=`), `GET /v1/files[/{file_id}[/content]]`,
//! `DELETE /v1/files/{file_id}`; ids are `file_…`.

use super::wire::time;
use super::{Freddy, OrganizationParam, Result, ids, scope};
use crate::AppState;
use crate::extract::{Auth, Query};
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use spool_core::FileId;
use spool_core::listing::Cursor;
use spool_core::model::StoredFile;
use utoipa::ToSchema;

/// A `multipart/form-data` upload: one or more parts, each a file (named
/// by its filename, else by its field name).
#[derive(ToSchema)]
#[schema(as = FreddyUploadForm)]
#[expect(dead_code, reason = "documents the multipart body")]
pub struct UploadForm {
    #[schema(value_type = String, format = Binary, required = true)]
    file: Vec<u8>,
}

/// A raw upload: the body is the file.
#[derive(ToSchema)]
#[schema(as = FreddyRawUpload, value_type = String, format = Binary)]
#[expect(dead_code, reason = "documents the raw body")]
pub struct RawUpload(Vec<u8>);

/// `{file_id}` of the path: `file_…` or a raw UUID.
pub struct FilePath(pub FileId);

impl FromPath for FilePath {
    const WHAT: &'static str = "File";
    fn from_path(values: &[&str]) -> Option<Self> {
        ids::parse(ids::FILE, values.first()?).map(|id| FilePath(FileId(id)))
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyFileDeleted)]
pub struct FileDeleted {
    #[schema(pattern = "^file_[0-9a-f]{32}$")]
    pub id: String,
    /// Always `file.deleted`.
    #[schema(example = "file.deleted")]
    pub object: &'static str,
    pub deleted: bool,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FreddyFile)]
pub struct FileObject {
    #[schema(pattern = "^file_[0-9a-f]{32}$")]
    pub id: String,
    /// Always `file`.
    #[schema(example = "file")]
    pub object: &'static str,
    pub filename: String,
    /// Sniffed from the bytes.
    #[schema(example = "application/pdf")]
    pub mime_type: String,
    pub bytes: u64,
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    #[schema(example = "/v1/files/file_0192c1f0a1b27c3d8e9f0a1b2c3d4e5f/content")]
    pub url: String,
    #[schema(format = DateTime, example = "2025-11-17T10:00:00Z")]
    pub created_at: String,
}

impl FileObject {
    pub fn new(file: StoredFile) -> Self {
        let id = ids::render(ids::FILE, file.id.0);
        Self {
            url: format!("/v1/files/{id}/content"),
            id,
            object: "file",
            filename: file.name,
            mime_type: file.mime_type,
            bytes: file.size,
            sha256: file.sha256,
            created_at: time(file.created_at),
        }
    }
}

/// A list of files, newest first.
#[derive(Serialize, ToSchema)]
#[schema(as = FreddyFileList)]
pub struct FileList {
    /// Always `list`.
    #[schema(example = "list")]
    pub object: &'static str,
    pub data: Vec<FileObject>,
    pub has_more: bool,
    /// For `after`; null on the last page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    #[param(
        pattern = "^(org_[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$"
    )]
    pub organization_id: Option<String>,
    /// The file's name, for a raw (not multipart) body.
    pub name: Option<String>,
}

/// Upload files: `multipart/form-data` file parts, or one raw body named by
/// `name`. Over `max_upload_bytes` or the quota: 413, nothing kept.
#[utoipa::path(post, path = "/v1/files", tag = "freddy", operation_id = "freddy_upload_files",
    params(UploadParams),
    request_body(content(
        (UploadForm = "multipart/form-data"),
        (RawUpload = "application/octet-stream"),
    )),
    security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The stored files, in the order sent.", body = FileList)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    Query(query, _): Query<Freddy, UploadParams>,
    request: Request,
) -> Result<axum::Json<FileList>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let files =
        crate::uploads::receive(&state.spool, &principal, &scope, query.name, request).await?;
    Ok(axum::Json(FileList {
        object: "list",
        data: files.into_iter().map(FileObject::new).collect(),
        has_more: false,
        next_cursor: None,
    }))
}

/// The organization's files, newest first: `limit` (1–100, default 20), `after`.
#[utoipa::path(get, path = "/v1/files", tag = "freddy", operation_id = "freddy_list_files",
    params(OrganizationParam, super::openapi::FileListParams), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "A list of files.", body = FileList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    query: QueryPairs<Freddy>,
) -> Result<axum::Json<FileList>> {
    let scope = scope(&state, &principal, query.get("organization_id")).await?;
    let after = query
        .get("after")
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode("after", c))
        .transpose()?;
    let limit = match query.get("limit") {
        None => 20,
        Some(text) => text.parse().map_err(|_| {
            crate::error::ApiError::invalid("limit", "The limit must be an integer.")
        })?,
    };
    let page = state
        .spool
        .list_files(&principal, &scope, after, limit)
        .await?;
    Ok(axum::Json(FileList {
        object: "list",
        has_more: page.next.is_some(),
        next_cursor: page.next.map(|c| c.encode()),
        data: page.items.into_iter().map(FileObject::new).collect(),
    }))
}

/// A file's metadata.
#[utoipa::path(get, path = "/v1/files/{file_id}", tag = "freddy", operation_id = "freddy_get_file",
    params(super::openapi::FileIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The file.", body = FileObject)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(FilePath(id), _): PathId<Freddy, FilePath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<FileObject>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    let file = state
        .spool
        .file(&principal, &scope, &id.to_string())
        .await?;
    Ok(axum::Json(FileObject::new(file)))
}

/// A file's bytes (`Range` honoured; always a download).
#[utoipa::path(get, path = "/v1/files/{file_id}/content", tag = "freddy", operation_id = "freddy_download_file",
    params(super::openapi::FileIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses(crate::uploads::DownloadResponses))]
pub async fn content(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(FilePath(id), _): PathId<Freddy, FilePath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
    headers: HeaderMap,
) -> Result<Response> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    Ok(
        crate::uploads::download(&state.spool, &principal, &scope, &id.to_string(), &headers)
            .await?,
    )
}

/// Delete a file (its bytes too).
#[utoipa::path(delete, path = "/v1/files/{file_id}", tag = "freddy", operation_id = "freddy_delete_file",
    params(super::openapi::FileIdParam, OrganizationParam), security(("api_key" = []), ("bearer" = [])),
    responses((status = 200, description = "The file is gone.", body = FileDeleted)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Freddy>,
    PathId(FilePath(id), _): PathId<Freddy, FilePath>,
    Query(query, _): Query<Freddy, OrganizationParam>,
) -> Result<axum::Json<FileDeleted>> {
    let scope = scope(&state, &principal, query.organization_id.as_deref()).await?;
    state
        .spool
        .delete_file(&principal, &scope, &id.to_string())
        .await?;
    Ok(axum::Json(FileDeleted {
        id: ids::render(ids::FILE, id.0),
        object: "file.deleted",
        deleted: true,
    }))
}
