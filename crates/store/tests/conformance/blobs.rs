//! File storage: one story, told to a local directory and to an S3-compatible
//! server (`SPOOL_TEST_S3_ENDPOINT` and `SPOOL_TEST_S3_BUCKET`;
//! `scripts/test` starts moto for it).

use bytes::Bytes;
use futures_util::StreamExt;
use spool_core::files::{BlobError, Blobs};
use spool_store::blobs::{BlobConfig, ObjectBlobs, S3Config};

async fn read_all(
    blobs: &dyn Blobs,
    path: &str,
    range: Option<std::ops::Range<u64>>,
) -> Result<Vec<u8>, BlobError> {
    let mut stream = blobs.read(path, range).await?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

async fn write(blobs: &dyn Blobs, path: &str, bytes: &[u8]) {
    let mut writer = blobs.writer(path).await.expect("writer");
    for chunk in bytes.chunks(64 * 1024) {
        writer
            .write(Bytes::copy_from_slice(chunk))
            .await
            .expect("write");
    }
    writer.finish().await.expect("finish");
}

/// Paths under `root`, so that stories sharing a bucket stay apart.
async fn story(blobs: &dyn Blobs, root: &str) {
    // More than one 5 MiB part, so that S3 sees a real multipart upload.
    let big: Vec<u8> = (0..6 * 1024 * 1024 + 123)
        .map(|i| (i % 251) as u8)
        .collect();
    let path = format!("{root}/w/big");
    write(blobs, &path, &big).await;
    assert_eq!(read_all(blobs, &path, None).await.unwrap(), big);
    let at = 5 * 1024 * 1024 - 10;
    assert_eq!(
        read_all(blobs, &path, Some(at..at + 20)).await.unwrap(),
        &big[at as usize..at as usize + 20]
    );

    // An aborted upload leaves nothing; an empty file is a file.
    let mut writer = blobs.writer(&format!("{root}/w/aborted")).await.unwrap();
    writer.write(Bytes::from_static(b"half")).await.unwrap();
    writer.abort().await;
    assert!(matches!(
        read_all(blobs, &format!("{root}/w/aborted"), None).await,
        Err(BlobError::NotFound)
    ));
    write(blobs, &format!("{root}/w/empty"), b"").await;
    assert_eq!(
        read_all(blobs, &format!("{root}/w/empty"), None)
            .await
            .unwrap(),
        b""
    );

    blobs.delete(&path).await.unwrap();
    assert!(matches!(
        read_all(blobs, &path, None).await,
        Err(BlobError::NotFound)
    ));
    blobs
        .delete(&path)
        .await
        .expect("deleting what is gone is no error");

    write(blobs, &format!("{root}/w/a"), b"a").await;
    write(blobs, &format!("{root}/other/c"), b"c").await;
    blobs.delete_prefix(&format!("{root}/w")).await.unwrap();
    assert!(matches!(
        read_all(blobs, &format!("{root}/w/a"), None).await,
        Err(BlobError::NotFound)
    ));
    assert_eq!(
        read_all(blobs, &format!("{root}/other/c"), None)
            .await
            .unwrap(),
        b"c"
    );
}

#[tokio::test]
async fn story_blobs_on_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = ObjectBlobs::open(&BlobConfig::Local(dir.path().join("files"))).unwrap();
    assert_eq!(blobs.kind(), "local");
    story(&blobs, "root").await;
}

#[tokio::test]
async fn story_blobs_on_s3() {
    let var = |name: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| {
                panic!("{name} is not set: run scripts/test, which starts an S3-compatible server")
            })
    };
    let blobs = ObjectBlobs::open(&BlobConfig::S3(S3Config {
        bucket: var("SPOOL_TEST_S3_BUCKET"),
        endpoint: Some(var("SPOOL_TEST_S3_ENDPOINT")),
        region: Some("us-east-1".into()),
        path_style: true,
    }))
    .unwrap();
    assert_eq!(blobs.kind(), "s3");
    story(&blobs, &uuid::Uuid::new_v4().simple().to_string()).await;
}
