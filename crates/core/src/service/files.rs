//! Files: uploaded in a stream to the object store, described by a row,
//! attached to messages by key, swept once nothing refers to them.
//!
//! Reach: owners, admins and API keys see every file of the workspace,
//! members the files they uploaded (as with threads). A file out of reach,
//! absent or deleted is not found, on every path.

use super::{Principal, Scope, Spool};
use crate::error::CoreError;
use crate::files::prompt::{self, PromptFile, PromptFiles};
use crate::files::{BlobError, Blobs, FileRef, clean_name, sniff};
use crate::listing::{Cursor, CursorPage, keyset_page};
use crate::model::{Attachment, Message, StoredFile};
use crate::{AttachmentId, FileId, now};
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The bytes of a file (or of the range asked for).
pub struct FileContent {
    pub file: StoredFile,
    pub range: Option<std::ops::Range<u64>>,
    pub body: crate::files::ByteStream,
}

fn blob_error(err: BlobError) -> CoreError {
    match err {
        BlobError::NotFound => CoreError::NotFound("File"),
        BlobError::Backend(message) => CoreError::Internal(message.into()),
    }
}

impl Spool {
    fn blobs(&self) -> Result<&Arc<dyn Blobs>, CoreError> {
        self.blobs
            .as_ref()
            .ok_or_else(|| CoreError::Internal("no file storage is configured".into()))
    }

    fn may_see(&self, principal: &Principal, scope: &Scope, file: &StoredFile) -> bool {
        file.workspace_id == scope.id()
            && (scope.sees_all() || file.user_id == Some(principal.user_id()))
    }

    /// Streams `body` to the object store while hashing, counting and
    /// sniffing it; the row is written only once the bytes are durable. Over
    /// the size limit or the workspace's quota it answers 413 and keeps
    /// nothing.
    pub async fn upload_file<E>(
        &self,
        principal: &Principal,
        scope: &Scope,
        name: &str,
        body: impl Stream<Item = Result<Bytes, E>> + Send,
    ) -> Result<StoredFile, CoreError>
    where
        CoreError: From<E>,
    {
        let blobs = self.blobs()?;
        let settings = &self.config.files;
        let used = self.store.files_usage(scope.id()).await?;
        let room = settings.workspace_quota_bytes.saturating_sub(used);
        let id = FileId::new();
        let path = crate::model::object_path(scope.id(), id);
        let mut writer = blobs.writer(&path).await.map_err(blob_error)?;
        let mut hasher = Sha256::new();
        let mut head = Vec::with_capacity(crate::files::sniff::SNIFF_BYTES);
        let mut size: u64 = 0;
        let mut body = std::pin::pin!(body);
        let outcome = loop {
            let chunk = match body.next().await {
                None => break Ok(()),
                Some(Err(err)) => break Err(CoreError::from(err)),
                Some(Ok(chunk)) => chunk,
            };
            size += chunk.len() as u64;
            if size > settings.max_upload_bytes {
                break Err(CoreError::TooLarge(format!(
                    "The file may not be greater than {} bytes (max_upload_bytes).",
                    settings.max_upload_bytes
                )));
            }
            if size > room {
                break Err(CoreError::TooLarge(format!(
                    "The workspace's files may not take more than {} bytes (workspace_quota_bytes).",
                    settings.workspace_quota_bytes
                )));
            }
            hasher.update(&chunk);
            let wanted = crate::files::sniff::SNIFF_BYTES.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..wanted.min(chunk.len())]);
            if let Err(err) = writer.write(chunk).await {
                break Err(blob_error(err));
            }
        };
        if let Err(err) = outcome {
            writer.abort().await;
            return Err(err);
        }
        writer.finish().await.map_err(blob_error)?;
        let name = clean_name(name);
        let file = StoredFile {
            id,
            workspace_id: scope.id(),
            user_id: Some(principal.user_id()),
            mime_type: sniff(&head, &name),
            name,
            size,
            sha256: hex::encode(hasher.finalize()),
            created_at: now(),
        };
        if let Err(err) = self.store.insert_file(file.clone()).await {
            self.remove_object(&path).await;
            return Err(err.into());
        }
        Ok(file)
    }

    async fn remove_object(&self, path: &str) {
        if let Ok(blobs) = self.blobs()
            && let Err(err) = blobs.delete(path).await
        {
            tracing::warn!(error = %err, path, "could not remove a file's bytes");
        }
    }

    pub async fn file(
        &self,
        principal: &Principal,
        scope: &Scope,
        key: &str,
    ) -> Result<StoredFile, CoreError> {
        let id = FileId::parse(key).ok_or(CoreError::NotFound("File"))?;
        let file = self
            .store
            .file(scope.id(), id)
            .await?
            .filter(|file| self.may_see(principal, scope, file));
        file.ok_or(CoreError::NotFound("File"))
    }

    /// Newest first.
    pub async fn list_files(
        &self,
        principal: &Principal,
        scope: &Scope,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<CursorPage<StoredFile>, CoreError> {
        if !(1..=crate::paging::MAX_PER_PAGE).contains(&limit) {
            return Err(CoreError::invalid(
                "limit",
                format!(
                    "The limit must be between 1 and {}.",
                    crate::paging::MAX_PER_PAGE
                ),
            ));
        }
        let uploader = (!scope.sees_all()).then(|| principal.user_id());
        let (rows, more) = self
            .store
            .list_files(scope.id(), uploader, after, limit)
            .await?;
        Ok(keyset_page(
            rows,
            more,
            limit,
            false,
            after.is_some(),
            file_cursor,
        ))
    }

    /// The file's bytes, or `range` of them (already checked against its size).
    pub async fn file_content(
        &self,
        principal: &Principal,
        scope: &Scope,
        key: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<FileContent, CoreError> {
        let file = self.file(principal, scope, key).await?;
        let body = self
            .blobs()?
            .read(&file.object_path(), range.clone())
            .await
            .map_err(blob_error)?;
        Ok(FileContent { file, range, body })
    }

    /// Removes the file's row, then its bytes. Messages it was attached to
    /// keep naming it; its content is gone for them too.
    pub async fn delete_file(
        &self,
        principal: &Principal,
        scope: &Scope,
        key: &str,
    ) -> Result<(), CoreError> {
        let file = self.file(principal, scope, key).await?;
        if !self.store.delete_file(scope.id(), file.id).await? {
            return Err(CoreError::NotFound("File"));
        }
        self.remove_object(&file.object_path()).await;
        Ok(())
    }

    /// Removes files a failed multi-file upload had already stored.
    pub async fn discard_uploads(&self, scope: &Scope, files: &[StoredFile]) {
        for file in files {
            if let Err(err) = self.store.delete_file(scope.id(), file.id).await {
                tracing::warn!(error = %err, "could not remove a discarded upload");
            }
            self.remove_object(&file.object_path()).await;
        }
    }

    /// The attachments `refs` name, each a file within the caller's reach;
    /// an unknown, foreign or deleted key is a validation problem of
    /// `field` and attaches nothing.
    pub(crate) async fn attachments(
        &self,
        principal: &Principal,
        scope: &Scope,
        refs: Vec<FileRef>,
        field: &str,
        errors: &mut crate::ValidationErrors,
    ) -> Result<Vec<Attachment>, CoreError> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        if refs.len() > crate::files::ATTACHMENTS_MAX {
            errors.add(
                field,
                format!(
                    "A message may not have more than {} files.",
                    crate::files::ATTACHMENTS_MAX
                ),
            );
            return Ok(Vec::new());
        }
        let ids: Vec<Option<FileId>> = refs.iter().map(|r| FileId::parse(&r.key)).collect();
        let known = self
            .store
            .files(scope.id(), ids.iter().flatten().copied().collect())
            .await?;
        let at = now();
        let mut attachments = Vec::new();
        for (i, (file_ref, id)) in refs.into_iter().zip(ids).enumerate() {
            let file = id.and_then(|id| {
                known
                    .iter()
                    .find(|f| f.id == id && self.may_see(principal, scope, f))
            });
            let Some(file) = file else {
                errors.add(
                    format!("{field}.{i}.key"),
                    "The selected file is invalid (no such file in this workspace).",
                );
                continue;
            };
            if attachments
                .iter()
                .any(|a: &Attachment| a.file.id == file.id)
            {
                errors.add(format!("{field}.{i}.key"), "The file is attached twice.");
                continue;
            }
            let name = match file_ref.name.as_deref().map(str::trim) {
                Some(name) if !name.is_empty() => clean_name(name),
                _ => file.name.clone(),
            };
            attachments.push(Attachment {
                id: AttachmentId::new(),
                name,
                file: file.clone(),
                created_at: at,
            });
        }
        Ok(attachments)
    }

    /// What the model is given of the files in `history` (newest first).
    pub(crate) async fn prompt_files(&self, history: &[Message], vision: bool) -> PromptFiles {
        let settings = &self.config.files;
        let mut files = PromptFiles {
            text_tokens: settings.prompt_text_tokens,
            ..Default::default()
        };
        for attachment in prompt::wanted(history, 4 * crate::files::ATTACHMENTS_MAX) {
            let seen = match prompt::reading(attachment, vision, settings.prompt_file_max_bytes) {
                Err(note) => PromptFile::Note(note),
                Ok(reading) => match self.read_whole(&attachment.file).await {
                    Ok(bytes) => {
                        let attachment = attachment.clone();
                        tokio::task::spawn_blocking(move || {
                            prompt::prompt_file(&attachment, reading, &bytes)
                        })
                        .await
                        .unwrap_or_else(|_| {
                            PromptFile::Note("[An attached file could not be read.]".into())
                        })
                    }
                    Err(_) => PromptFile::Note(format!(
                        "[Attached file \"{}\": it is no longer available.]",
                        attachment.name
                    )),
                },
            };
            files.files.insert(attachment.id, seen);
        }
        files
    }

    async fn read_whole(&self, file: &StoredFile) -> Result<Vec<u8>, CoreError> {
        let mut stream = self
            .blobs()?
            .read(&file.object_path(), None)
            .await
            .map_err(blob_error)?;
        let mut bytes = Vec::with_capacity(usize::try_from(file.size).unwrap_or(0));
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.map_err(blob_error)?);
        }
        Ok(bytes)
    }

    /// Removes files no message refers to that are older than the grace
    /// period: their rows first (so nothing can attach them meanwhile),
    /// then their bytes. Answers how many.
    pub async fn sweep_files(&self) -> Result<u64, CoreError> {
        let before = now() - self.config.files.unreferenced_grace;
        let mut removed = 0;
        loop {
            let files = self.store.take_unreferenced_files(before, 100).await?;
            let done = files.len() < 100;
            for file in &files {
                self.remove_object(&file.object_path()).await;
            }
            removed += files.len() as u64;
            if done {
                return Ok(removed);
            }
        }
    }

    /// Sweeps every `sweep_interval`, for as long as the server runs.
    pub async fn serve_file_sweep(self) {
        let mut ticks = tokio::time::interval(self.config.files.sweep_interval);
        loop {
            ticks.tick().await;
            match self.sweep_files().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(files = n, "removed unreferenced files"),
                Err(err) => tracing::warn!(error = %err, "the file sweep failed"),
            }
        }
    }

    /// Removes every object of a deleted workspace.
    pub(crate) async fn remove_workspace_files(&self, workspace: crate::WorkspaceId) {
        if let Some(blobs) = &self.blobs
            && let Err(err) = blobs.delete_prefix(&workspace.to_string()).await
        {
            tracing::warn!(error = %err, "could not remove a deleted workspace's files");
        }
    }
}

pub fn file_cursor(file: &StoredFile) -> Cursor {
    Cursor {
        key: file.created_at.timestamp_micros(),
        id: file.id.0,
    }
}
