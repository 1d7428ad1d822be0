//! Files, as OpenAI's Files API shows them (`client.files`): upload
//! (`multipart/form-data` with `file` and `purpose`), list, retrieve,
//! content, delete. They are spool's files (docs/files.md), so a message's
//! `attachments` can name them and the model reads them.

use super::{OpenAi, OpenAiError, Result, ids, scope};
use crate::AppState;
use crate::extract::Auth;
use crate::paths::{FromPath, PathId};
use crate::query::QueryPairs;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Serialize;
use spool_core::FileId;
use spool_core::listing::Cursor;
use spool_core::model::StoredFile;

/// `{file_id}` of the path: `file-…` or a raw UUID.
pub struct FilePath(pub FileId);

impl FromPath for FilePath {
    const WHAT: &'static str = "File";
    fn from_path(values: &[&str]) -> Option<Self> {
        super::file_id(values.first()?).map(|id| FilePath(FileId(id)))
    }
}

/// The purposes OpenAI's SDK sends; spool keeps every file alike.
const PURPOSES: [&str; 6] = [
    "assistants",
    "batch",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

#[derive(Serialize)]
pub struct FileObject {
    pub id: String,
    pub object: &'static str,
    pub bytes: u64,
    pub created_at: i64,
    pub filename: String,
    /// spool keeps no purpose: every file shows `assistants`.
    pub purpose: &'static str,
    pub status: &'static str,
    pub status_details: Option<String>,
}

impl FileObject {
    pub fn new(file: StoredFile) -> Self {
        Self {
            id: ids::render(ids::FILE, file.id.0),
            object: "file",
            bytes: file.size,
            created_at: super::wire::time(file.created_at),
            filename: file.name,
            purpose: "assistants",
            status: "processed",
            status_details: None,
        }
    }
}

#[derive(Serialize)]
pub struct FileList {
    pub object: &'static str,
    pub data: Vec<FileObject>,
    pub first_id: Option<String>,
    pub last_id: Option<String>,
    pub has_more: bool,
}

/// Upload one file: the `file` part and a `purpose` field.
pub async fn upload(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    request: Request,
) -> Result<axum::Json<FileObject>> {
    let scope = scope(&state, &principal).await?;
    if !crate::uploads::is_multipart(request.headers()) {
        return Err(OpenAiError::invalid(
            "file",
            "Send the file as multipart/form-data with a file part and a purpose.",
        ));
    }
    let mut fields = Vec::new();
    let mut files = crate::uploads::receive_with_fields(
        &state.spool,
        &principal,
        &scope,
        None,
        request,
        Some(&mut fields),
    )
    .await?;
    let purpose = fields
        .iter()
        .find(|(name, _)| name == "purpose")
        .map(|(_, value)| value.as_str());
    let refused = match purpose {
        None => Some(OpenAiError::invalid(
            "purpose",
            "The purpose field is required.",
        )),
        Some(purpose) if !PURPOSES.contains(&purpose) => Some(OpenAiError::invalid(
            "purpose",
            format!(
                "Invalid value: '{purpose}'. Supported values are: {}.",
                PURPOSES.join(", ")
            ),
        )),
        Some(_) if files.len() != 1 => {
            Some(OpenAiError::invalid("file", "Send exactly one file part."))
        }
        Some(_) => None,
    };
    if let Some(err) = refused {
        state.spool.discard_uploads(&scope, &files).await;
        return Err(err);
    }
    let file = files.pop().expect("exactly one file");
    Ok(axum::Json(FileObject::new(file)))
}

/// Newest first, `limit` 1–100 (default 20) and `after` (a file id); the
/// list is cut at the first 10,000 files.
pub async fn list(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    query: QueryPairs<OpenAi>,
) -> Result<axum::Json<FileList>> {
    let scope = scope(&state, &principal).await?;
    if query.get("order").is_some_and(|o| o != "desc") {
        return Err(OpenAiError::invalid(
            "order",
            "spool lists files newest first only; use order=desc.",
        ));
    }
    let limit = match query.get("limit") {
        None => 20,
        Some(text) => match text.parse::<u32>() {
            Ok(n @ 1..=100) => n,
            _ => {
                return Err(OpenAiError::invalid(
                    "limit",
                    "The limit must be an integer between 1 and 100.",
                ));
            }
        },
    };
    let after = match query.get("after") {
        None => None,
        Some(id) => {
            let id =
                super::file_id(id).ok_or_else(|| OpenAiError::invalid("after", "No such file."))?;
            let file = state
                .spool
                .file(&principal, &scope, &id.to_string())
                .await
                .map_err(|_| OpenAiError::invalid("after", "No such file."))?;
            Some(Cursor {
                key: file.created_at.timestamp_micros(),
                id: file.id.0,
            })
        }
    };
    let page = state
        .spool
        .list_files(&principal, &scope, after, limit)
        .await?;
    let data: Vec<FileObject> = page.items.into_iter().map(FileObject::new).collect();
    Ok(axum::Json(FileList {
        object: "list",
        first_id: data.first().map(|f| f.id.clone()),
        last_id: data.last().map(|f| f.id.clone()),
        has_more: page.next.is_some(),
        data,
    }))
}

pub async fn show(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(FilePath(id), _): PathId<OpenAi, FilePath>,
) -> Result<axum::Json<FileObject>> {
    let scope = scope(&state, &principal).await?;
    let file = state
        .spool
        .file(&principal, &scope, &id.to_string())
        .await?;
    Ok(axum::Json(FileObject::new(file)))
}

/// The bytes (`Range` honoured; always a download).
pub async fn content(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(FilePath(id), _): PathId<OpenAi, FilePath>,
    headers: HeaderMap,
) -> Result<Response> {
    let scope = scope(&state, &principal).await?;
    Ok(
        crate::uploads::download(&state.spool, &principal, &scope, &id.to_string(), &headers)
            .await?,
    )
}

#[derive(Serialize)]
pub struct FileDeleted {
    pub id: String,
    pub object: &'static str,
    pub deleted: bool,
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(principal, _): Auth<OpenAi>,
    PathId(FilePath(id), _): PathId<OpenAi, FilePath>,
) -> Result<axum::Json<FileDeleted>> {
    let scope = scope(&state, &principal).await?;
    state
        .spool
        .delete_file(&principal, &scope, &id.to_string())
        .await?;
    Ok(axum::Json(FileDeleted {
        id: ids::render(ids::FILE, id.0),
        object: "file",
        deleted: true,
    }))
}
