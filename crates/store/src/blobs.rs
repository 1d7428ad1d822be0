//! Files' bytes through `object_store`: a directory on the local disk (the
//! default, under the data dir) or an S3-compatible bucket. Both write in
//! parts as the upload arrives, so memory stays bounded by a few parts.

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, WriteMultipart};
use spool_core::files::{BlobError, BlobWriter, Blobs, ByteStream};
use std::ops::Range;
use std::sync::Arc;

/// Where files go, from config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobConfig {
    /// A directory, created when missing.
    Local(std::path::PathBuf),
    S3(S3Config),
}

/// An S3-compatible bucket. Credentials come from the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as
/// the AWS tools read them, or from the instance's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// For stores other than AWS (MinIO, R2, …); `http://` allowed only here.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Paths as `endpoint/bucket/key` rather than `bucket.endpoint/key`.
    pub path_style: bool,
}

/// Parts of this size go up while the next fills: S3's smallest part size.
const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts in flight at once.
const PARTS_IN_FLIGHT: usize = 2;

pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    kind: &'static str,
}

fn backend(err: object_store::Error) -> BlobError {
    match err {
        object_store::Error::NotFound { .. } => BlobError::NotFound,
        other => BlobError::Backend(other.to_string()),
    }
}

fn path(location: &str) -> Result<Path, BlobError> {
    Path::parse(location).map_err(|err| BlobError::Backend(err.to_string()))
}

impl ObjectBlobs {
    pub fn open(config: &BlobConfig) -> Result<Self, BlobError> {
        match config {
            BlobConfig::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|err| {
                    BlobError::Backend(format!("cannot create {}: {err}", dir.display()))
                })?;
                // fsync: an upload answered 2xx survives a crash, as the
                // database's writes do.
                let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(backend)?
                    .with_fsync(true);
                Ok(Self {
                    store: Arc::new(store),
                    kind: "local",
                })
            }
            BlobConfig::S3(s3) => {
                // reqwest is built without a TLS provider of its own: ring,
                // as everywhere else in spool (an error: one is installed).
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder =
                    object_store::aws::AmazonS3Builder::from_env().with_bucket_name(&s3.bucket);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                builder = builder.with_virtual_hosted_style_request(!s3.path_style);
                Ok(Self {
                    store: Arc::new(builder.build().map_err(backend)?),
                    kind: "s3",
                })
            }
        }
    }
}

#[async_trait::async_trait]
impl Blobs for ObjectBlobs {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn writer(&self, location: &str) -> Result<Box<dyn BlobWriter>, BlobError> {
        let upload = self
            .store
            .put_multipart(&path(location)?)
            .await
            .map_err(backend)?;
        Ok(Box::new(PartWriter {
            upload: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
        }))
    }

    async fn read(
        &self,
        location: &str,
        range: Option<Range<u64>>,
    ) -> Result<ByteStream, BlobError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..Default::default()
        };
        let got = self
            .store
            .get_opts(&path(location)?, options)
            .await
            .map_err(backend)?;
        Ok(got.into_stream().map_err(backend).boxed())
    }

    async fn delete(&self, location: &str) -> Result<(), BlobError> {
        match self.store.delete(&path(location)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(backend(err)),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), BlobError> {
        let prefix = path(prefix)?;
        let locations = self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut gone = self.store.delete_stream(locations);
        while let Some(result) = gone.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(err) => return Err(backend(err)),
            }
        }
        Ok(())
    }
}

struct PartWriter {
    upload: WriteMultipart,
}

#[async_trait::async_trait]
impl BlobWriter for PartWriter {
    async fn write(&mut self, chunk: Bytes) -> Result<(), BlobError> {
        self.upload
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(backend)?;
        self.upload.put(chunk);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<(), BlobError> {
        self.upload.finish().await.map(drop).map_err(backend)
    }

    async fn abort(self: Box<Self>) {
        if let Err(err) = self.upload.abort().await {
            tracing::warn!(error = %err, "could not abort an upload");
        }
    }
}
