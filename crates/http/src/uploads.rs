//! Files over HTTP for every dialect: an upload's body (multipart parts, or
//! one raw body named by `?name=`) streamed into the core part by part, and
//! a file's bytes streamed back with `Range`, a download-only
//! `Content-Disposition` and `nosniff`.

use crate::error::ApiError;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use spool_core::model::StoredFile;
use spool_core::service::{FileContent, Scope};
use spool_core::{CoreError, Principal, Spool};

fn interrupted() -> CoreError {
    CoreError::invalid("file", "The upload was interrupted or is not well-formed.")
}

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Stores every file of the request: each part of a `multipart/form-data`
/// body (named by its filename, else its field name), or the whole body
/// under `name` (default `file`). A failure part-way keeps none of them.
pub async fn receive(
    spool: &Spool,
    principal: &Principal,
    scope: &Scope,
    name: Option<String>,
    request: Request,
) -> Result<Vec<StoredFile>, ApiError> {
    receive_with_fields(spool, principal, scope, name, request, None).await
}

/// Longest text field read from a multipart form (OpenAI's `purpose`).
const FORM_FIELD_MAX_BYTES: usize = 1_024;

/// [`receive`], where with `fields` the multipart parts that carry no
/// filename are form fields (`purpose=assistants`), read into it as text,
/// not files.
pub async fn receive_with_fields(
    spool: &Spool,
    principal: &Principal,
    scope: &Scope,
    name: Option<String>,
    request: Request,
    mut fields: Option<&mut Vec<(String, String)>>,
) -> Result<Vec<StoredFile>, ApiError> {
    if !is_multipart(request.headers()) {
        let name = name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| "file".to_owned());
        let body = request
            .into_body()
            .into_data_stream()
            .map(|chunk| chunk.map_err(|_| interrupted()));
        return Ok(vec![
            spool.upload_file(principal, scope, &name, body).await?,
        ]);
    }
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|err| ApiError::invalid("file", err.body_text()))?;
    let mut stored = Vec::new();
    let outcome = async {
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => return Ok(()),
                Err(_) => return Err(ApiError::Core(interrupted())),
            };
            if let Some(fields) = fields.as_deref_mut()
                && field.file_name().is_none()
            {
                let key = field.name().unwrap_or_default().to_owned();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| ApiError::Core(interrupted()))?;
                if bytes.len() > FORM_FIELD_MAX_BYTES {
                    return Err(ApiError::invalid(
                        &key,
                        format!(
                            "The {key} field may not be greater than {FORM_FIELD_MAX_BYTES} bytes."
                        ),
                    ));
                }
                fields.push((key, String::from_utf8_lossy(&bytes).into_owned()));
                continue;
            }
            let file_name = field
                .file_name()
                .or(field.name())
                .unwrap_or("file")
                .to_owned();
            let body = field.map(|chunk| chunk.map_err(|_| interrupted()));
            stored.push(
                spool
                    .upload_file(principal, scope, &file_name, body)
                    .await?,
            );
        }
    }
    .await;
    match outcome {
        Err(err) => {
            spool.discard_uploads(scope, &stored).await;
            Err(err)
        }
        Ok(()) if stored.is_empty() => Err(ApiError::invalid(
            "file",
            "The body has no file: send one or more parts.",
        )),
        Ok(()) => Ok(stored),
    }
}

/// A single `bytes=` range of a file of `size` bytes: `Ok(None)` for the
/// whole file (no header, or one spool does not serve: several ranges,
/// another unit), `Err` when it lies outside the file (416).
pub fn range(
    headers: &HeaderMap,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.parse::<u64>().ok(), end.parse::<u64>().ok()) {
        // The last `n` bytes.
        (None, Some(n)) if start.is_empty() && n > 0 => size.saturating_sub(n)..size,
        (Some(from), None) if end.is_empty() => from..size,
        (Some(from), Some(to)) if to >= from => from..(to + 1).min(size),
        _ => return Ok(None),
    };
    if parsed.start >= size {
        return Err(Unsatisfiable);
    }
    Ok(Some(parsed))
}

/// A range that lies outside the file (416).
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// `attachment`, with an ASCII fallback name and the exact one in RFC 5987 form.
fn disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or(HeaderValue::from_static("attachment"))
}

/// The 416 answer for a range outside the file.
pub fn unsatisfiable(file: &StoredFile) -> Response {
    let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", file.size)) {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// The bytes, streamed from the object store.
pub fn content_response(content: FileContent) -> Response {
    let FileContent { file, range, body } = content;
    let (status, length) = match &range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.end - r.start),
        None => (StatusCode::OK, file.size),
    };
    let body = Body::from_stream(body.map(|chunk| chunk.map_err(std::io::Error::other)));
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let content_type = HeaderValue::from_str(&file.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(header::CONTENT_DISPOSITION, disposition(&file.name));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    if let Some(r) = range
        && let Ok(value) =
            HeaderValue::from_str(&format!("bytes {}-{}/{}", r.start, r.end - 1, file.size))
    {
        headers.insert(header::CONTENT_RANGE, value);
    }
    response
}

/// Reads the file's bytes for a request: the range it asks for, checked
/// against the stored size.
pub async fn download(
    spool: &Spool,
    principal: &Principal,
    scope: &Scope,
    key: &str,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let file = spool.file(principal, scope, key).await?;
    let Ok(range) = range(headers, file.size) else {
        return Ok(unsatisfiable(&file));
    };
    let content = spool.file_content(principal, scope, key, range).await?;
    Ok(content_response(content))
}

/// Every type sniffing can give a file (`spool_core::files::sniff`): what a
/// download may be sent as.
pub const DOWNLOAD_TYPES: &[&str] = &[
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/json",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "text/markdown",
    "text/csv",
];

/// The 200 and 206 of a download, under each type it may be sent as.
pub struct DownloadResponses;

impl utoipa::IntoResponses for DownloadResponses {
    fn responses()
    -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::Response>> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        use utoipa::openapi::{ContentBuilder, HeaderBuilder, ResponseBuilder};
        let bytes = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
                .build()
        };
        let response = |description: &str, ranged: bool| {
            let mut builder = ResponseBuilder::new().description(description);
            for mime in DOWNLOAD_TYPES {
                builder =
                    builder.content(*mime, ContentBuilder::new().schema(Some(bytes())).build());
            }
            if ranged {
                builder = builder.header(
                    "Content-Range",
                    HeaderBuilder::new()
                        .schema(ObjectBuilder::new().schema_type(Type::String))
                        .description(Some("`bytes START-END/SIZE`"))
                        .build(),
                );
            }
            utoipa::openapi::RefOr::T(builder.build())
        };
        [
            (
                "200".to_owned(),
                response("The bytes, as the type sniffed at upload", false),
            ),
            // A range outside the file answers 416 without a body; a
            // `Range` header is not a documented parameter, so it is not
            // listed here.
            ("206".to_owned(), response("The range asked for", true)),
        ]
        .into_iter()
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(value: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        range(&headers, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(asked("bytes=0-9", 100), Ok(Some(0..10)));
        assert_eq!(asked("bytes=90-", 100), Ok(Some(90..100)));
        assert_eq!(asked("bytes=-10", 100), Ok(Some(90..100)));
        assert_eq!(asked("bytes=50-500", 100), Ok(Some(50..100)));
        assert_eq!(asked("bytes=100-", 100), Err(Unsatisfiable));
        assert_eq!(asked("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(asked("items=0-1", 100), Ok(None));
        assert_eq!(asked("bytes=9-1", 100), Ok(None));
    }

    #[test]
    fn dispositions_are_quoted_safely() {
        let value = disposition("a\"b\\c ü.pdf");
        let text = value.to_str().unwrap();
        assert!(
            text.starts_with("attachment; filename=\"a_b_c _.pdf\""),
            "{text}"
        );
        assert!(
            text.ends_with("filename*=UTF-8''a%22b%5Cc%20%C3%BC.pdf"),
            "{text}"
        );
    }
}
