//! Files: uploaded (multipart parts, or a raw body named by `?name=`),
//! described, downloaded, listed, deleted; and how a message shows the
//! files attached to it (`type: "media"`, seed 001).

use super::wire::{Data, ListBody, data, time};
use super::{Athena, Result, WorkspaceParam, scope};
use crate::AppState;
use crate::extract::{Auth, Query};
use crate::paths::PathId;
use crate::query::QueryPairs;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use spool_core::files::FileRef;
use spool_core::listing::{Cursor, Listing};
use spool_core::model::{Attachment, StoredFile};
use spool_core::{FileId, Principal};
use utoipa::ToSchema;

/// A file to attach: the `key` an upload answered, and the name to show.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaFileRef)]
pub struct FileRefBody {
    /// The file's key, as `POST /api/v1/files` answered it.
    #[schema(format = Uuid)]
    pub key: String,
    /// Shown instead of the file's own name.
    #[schema(max_length = 255)]
    pub name: Option<String>,
}

pub fn refs(files: Vec<FileRefBody>) -> Vec<FileRef> {
    files
        .into_iter()
        .map(|f| FileRef {
            key: f.key,
            name: f.name,
        })
        .collect()
}

/// An uploaded file.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaFile)]
pub struct FileBody {
    /// The key that names it: for downloads and `files: [{key, name}]`.
    #[schema(format = Uuid)]
    pub key: String,
    #[schema(format = Uuid)]
    pub uuid: String,
    pub name: String,
    /// Sniffed from the bytes, never taken from the upload's `Content-Type`.
    #[schema(example = "application/pdf")]
    pub mime_type: String,
    /// Bytes.
    pub size: u64,
    /// Lowercase hex of the bytes' SHA-256.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub sha256: String,
    /// Where its bytes are downloaded (with the same credential).
    #[schema(example = "/api/v1/files/0192c1f0-a1b2-7c3d-8e9f-0a1b2c3d4e5f/content")]
    pub url: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl FileBody {
    pub fn new(file: &StoredFile, name: &str) -> Self {
        let key = file.id.to_string();
        Self {
            url: format!("/api/v1/files/{key}/content"),
            uuid: key.clone(),
            key,
            name: name.to_owned(),
            mime_type: file.mime_type.clone(),
            size: file.size,
            sha256: file.sha256.clone(),
            created_at: time(file.created_at),
            updated_at: time(file.created_at),
        }
    }
}

/// One file attached to a message.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaAttachment)]
pub struct AttachmentBody {
    #[schema(format = Uuid)]
    pub uuid: String,
    /// Always `media`: an uploaded file.
    #[schema(example = "media")]
    pub r#type: &'static str,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The file, under the name the message gave it.
    pub attachable: FileBody,
}

impl AttachmentBody {
    pub fn new(attachment: &Attachment) -> Self {
        Self {
            uuid: attachment.id.to_string(),
            r#type: "media",
            created_at: time(attachment.created_at),
            updated_at: time(attachment.created_at),
            attachable: FileBody::new(&attachment.file, &attachment.name),
        }
    }
}

pub fn attachments(list: &[Attachment]) -> Vec<AttachmentBody> {
    list.iter().map(AttachmentBody::new).collect()
}

fn body(file: StoredFile) -> FileBody {
    FileBody::new(&file, &file.name)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The workspace to act in (see other endpoints).
    #[param(format = Uuid)]
    pub workspace_uuid: Option<String>,
    /// The file's name, for a raw (not multipart) body.
    pub name: Option<String>,
}

/// Upload files
///
/// `multipart/form-data` with one or more file parts (each with a
/// filename), or any other body as one file named by `name`. The body is
/// streamed to storage. Over `max_upload_bytes` or the workspace's quota:
/// 413, nothing kept. Files nothing refers to are removed after a grace
/// period (docs/files.md). Not replayed by `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/files", tag = "athena: files", operation_id = "athena_upload_files",
    params(UploadParams),
    request_body(content(
        (super::openapi::UploadForm = "multipart/form-data"),
        (super::openapi::RawUpload = "application/octet-stream"),
    )),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 201, description = "The stored files, in the order sent", body = super::openapi::AthenaFileListResponse),
        (status = 400, description = "A query string that does not read", body = super::openapi::ErrorBody),
        (status = 413, description = "Over the upload size limit or the workspace's quota (named)", body = super::openapi::ErrorBody),
        (status = 415, description = "Not sent (any body is a file); listed as for every body", body = super::openapi::ErrorBody),
        (status = 422, description = "No file in the body, or no name for a raw one", body = super::openapi::ValidationErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    Query(query, _): Query<Athena, UploadParams>,
    request: Request,
) -> Result<(StatusCode, axum::Json<Data<Vec<FileBody>>>)> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    let files =
        crate::uploads::receive(&state.spool, &principal, &scope, query.name, request).await?;
    Ok((
        StatusCode::CREATED,
        data(files.into_iter().map(body).collect()),
    ))
}

/// List files
///
/// The workspace's files, newest first, in cursor pages (`cursor`,
/// `per_page` 1–100, default 15). Members see the files they uploaded.
#[utoipa::path(get, path = "/api/v1/files", tag = "athena: files", operation_id = "athena_list_files",
    params(WorkspaceParam, super::openapi::FileListParams),
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "A page of files", body = super::openapi::AthenaFileList)))]
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    query: QueryPairs<Athena>,
) -> Result<axum::Json<ListBody<FileBody>>> {
    let scope = scope(&state, &principal, query.get("workspace_uuid")).await?;
    // An empty cursor asks for the first page.
    let after = query
        .get("cursor")
        .filter(|c| !c.is_empty())
        .map(|c| Cursor::decode("cursor", c))
        .transpose()?;
    let limit = match query.get("per_page") {
        None => 15,
        Some(text) => text.parse().map_err(|_| {
            crate::error::ApiError::invalid("per_page", "The per page must be an integer.")
        })?,
    };
    let page = state
        .spool
        .list_files(&principal, &scope, after, limit)
        .await?;
    let listing = Listing::Cursor(page);
    Ok(axum::Json(
        ListBody::new(listing, "/api/v1/files", body).keeping(&query.0),
    ))
}

async fn file(
    state: &AppState,
    principal: &Principal,
    workspace: Option<&str>,
    id: FileId,
) -> Result<StoredFile> {
    let scope = scope(state, principal, workspace).await?;
    Ok(state.spool.file(principal, &scope, &id.to_string()).await?)
}

/// Get a file's metadata
#[utoipa::path(get, path = "/api/v1/files/{key}", tag = "athena: files", operation_id = "athena_get_file",
    params(("key" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The file", body = super::openapi::AthenaFileResponse),
        (status = 404, description = "No such file within reach", body = super::openapi::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, FileId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<axum::Json<Data<FileBody>>> {
    let file = file(&state, &principal, query.workspace_uuid.as_deref(), id).await?;
    Ok(data(body(file)))
}

/// Download a file
///
/// The bytes, as stored; a single `Range: bytes=…` answers 206. Always a
/// download (`Content-Disposition: attachment`, `nosniff`).
#[utoipa::path(get, path = "/api/v1/files/{key}/content", tag = "athena: files", operation_id = "athena_download_file",
    params(("key" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses(crate::uploads::DownloadResponses,
        (status = 404, description = "No such file within reach", body = super::openapi::ErrorBody)))]
pub async fn content(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, FileId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
    headers: HeaderMap,
) -> Result<Response> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    Ok(
        crate::uploads::download(&state.spool, &principal, &scope, &id.to_string(), &headers)
            .await?,
    )
}

/// Delete a file
///
/// Its row and its bytes. Messages it was attached to still name it.
#[utoipa::path(delete, path = "/api/v1/files/{key}", tag = "athena: files", operation_id = "athena_delete_file",
    params(("key" = String, Path, format = Uuid), WorkspaceParam), security(("bearer" = []), ("api_key" = [])),
    responses((status = 204, description = "Deleted"),
        (status = 404, description = "No such file within reach", body = super::openapi::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
    PathId(id, _): PathId<Athena, FileId>,
    Query(query, _): Query<Athena, WorkspaceParam>,
) -> Result<StatusCode> {
    let scope = scope(&state, &principal, query.workspace_uuid.as_deref()).await?;
    state
        .spool
        .delete_file(&principal, &scope, &id.to_string())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
