//! Files: upload (multipart and raw), download with ranges, list, delete;
//! attaching by key on every path; limits; the sweep.

use crate::{Account, TestServer, assert_invalid, send};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use spool_core::SpoolConfig;

pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// A one-page PDF whose text is `text` (Helvetica, no compression).
pub fn pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 20 100 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

const BOUNDARY: &str = "spool-test-boundary";

/// A `multipart/form-data` body of `(filename, content type, bytes)` parts.
pub fn multipart(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, content_type, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Uploads the parts through athena; answers the status and body.
pub async fn upload(
    server: &TestServer,
    token: &str,
    parts: &[(&str, &str, &[u8])],
) -> (StatusCode, Value) {
    send(
        server
            .request(reqwest::Method::POST, "/api/v1/files")
            .bearer_auth(token)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(parts)),
    )
    .await
}

/// The key of one uploaded file.
pub async fn upload_one(server: &TestServer, token: &str, name: &str, bytes: &[u8]) -> String {
    let (status, body) = upload(server, token, &[(name, "application/octet-stream", bytes)]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"][0]["key"].as_str().unwrap().to_owned()
}

pub async fn thread(server: &TestServer, account: &Account) -> String {
    let (status, body) = send(server.post(
        "/api/v1/threads",
        &account.token,
        json!({ "name": "With files" }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["data"]["uuid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn upload_describe_download_list_delete() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let document = pdf("Hello from a PDF");
    // The client's content types are wrong on purpose: the bytes decide.
    let (status, body) = upload(
        &server,
        &ada.token,
        &[
            ("../../pixel.png", "text/html", PNG),
            ("report.pdf", "image/png", &document),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let files = body["data"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["name"], "pixel.png", "the path is dropped");
    assert_eq!(files[0]["mime_type"], "image/png");
    assert_eq!(files[1]["mime_type"], "application/pdf");
    assert_eq!(files[1]["size"], document.len());
    assert_eq!(
        files[1]["sha256"],
        hex::encode(Sha256::digest(&document)),
        "{body}"
    );
    assert!(files[0]["created_at"].as_str().unwrap().ends_with('Z'));
    let key = files[1]["key"].as_str().unwrap();

    let (status, shown) = send(server.get(&format!("/api/v1/files/{key}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["data"], files[1]);

    let response = server
        .get(&format!("/api/v1/files/{key}/content"), &ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"report.pdf\"")
    );
    assert_eq!(response.bytes().await.unwrap(), document);

    let response = server
        .get(&format!("/api/v1/files/{key}/content"), &ada.token)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 0-7/{}", document.len()).as_str()
    );
    assert_eq!(response.bytes().await.unwrap(), &document[..8]);
    let response = server
        .get(&format!("/api/v1/files/{key}/content"), &ada.token)
        .header("range", format!("bytes={}-", document.len()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    let (status, list) = send(server.get("/api/v1/files?per_page=1&cursor=", &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["key"], *key, "newest first");
    let next = list["meta"]["next_cursor"].as_str().unwrap();
    let (_, rest) = send(server.get(
        &format!("/api/v1/files?per_page=1&cursor={next}"),
        &ada.token,
    ))
    .await;
    assert_eq!(rest["data"][0]["key"], files[0]["key"], "{rest}");

    let (status, _) = send(
        server
            .request(reqwest::Method::DELETE, &format!("/api/v1/files/{key}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for path in [
        format!("/api/v1/files/{key}"),
        format!("/api/v1/files/{key}/content"),
    ] {
        let (status, _) = send(server.get(&path, &ada.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_raw_body_is_one_file_named_by_the_query() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let (status, body) = send(
        server
            .request(reqwest::Method::POST, "/api/v1/files?name=notes.md")
            .bearer_auth(&ada.token)
            .header("content-type", "application/octet-stream")
            .body("# Notes\n\n- one\n"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"][0]["name"], "notes.md");
    assert_eq!(body["data"][0]["mime_type"], "text/markdown");
    // Without a name it is called `file`; a part without a filename is
    // named by its field.
    let (status, body) = send(
        server
            .request(reqwest::Method::POST, "/api/v1/files")
            .bearer_auth(&ada.token)
            .body("x"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"][0]["name"], "file");
    let (status, body) = send(
        server
            .request(reqwest::Method::POST, "/api/v1/files")
            .bearer_auth(&ada.token)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--{BOUNDARY}--\r\n")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"][0]["name"], "a");
    // No part at all, or a body that is not multipart as it claims: 422.
    for body in [format!("--{BOUNDARY}--\r\n"), "garbage".to_owned()] {
        let (status, answer) = send(
            server
                .request(reqwest::Method::POST, "/api/v1/files")
                .bearer_auth(&ada.token)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={BOUNDARY}"),
                )
                .body(body),
        )
        .await;
        assert_invalid(status, &answer, "file");
    }
    let (_, list) = send(server.get("/api/v1/files", &ada.token)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 3, "{list}");
}

#[tokio::test]
async fn credentials_and_workspaces_are_checked() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let key = upload_one(&server, &ada.token, "a.txt", b"secret").await;
    let (status, _) = upload(&server, "spk_wrong", &[("a.txt", "text/plain", b"x")]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for path in [
        format!("/api/v1/files/{key}"),
        format!("/api/v1/files/{key}/content"),
        "/api/v1/files/not-a-uuid".to_owned(),
    ] {
        let (status, body) = send(server.get(&path, &eve.token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = send(
        server
            .request(reqwest::Method::DELETE, &format!("/api/v1/files/{key}"))
            .bearer_auth(&eve.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = send(server.get("/api/v1/files", &eve.token)).await;
    assert_eq!(list["data"], json!([]));
    // Ada's workspace named by Eve: not found either.
    let (status, _) = send(server.get(
        &format!("/api/v1/files?workspace_uuid={}", ada.workspace),
        &eve.token,
    ))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&format!("/api/v1/files/{key}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "still there for Ada");
}

#[tokio::test]
async fn over_the_limits_is_413_and_nothing_is_kept() {
    let mut core = SpoolConfig::default();
    core.files.max_upload_bytes = 1000;
    core.files.workspace_quota_bytes = 1500;
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let big = vec![b'a'; 1001];
    let (status, body) = upload(&server, &ada.token, &[("big.txt", "text/plain", &big)]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1000"), "{body}");
    // A second part over the limit takes the first one with it.
    let (status, _) = upload(
        &server,
        &ada.token,
        &[
            ("ok.txt", "text/plain", b"fine"),
            ("big.txt", "text/plain", &big),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let (_, list) = send(server.get("/api/v1/files", &ada.token)).await;
    assert_eq!(list["data"], json!([]));
    upload_one(&server, &ada.token, "a.txt", &[b'a'; 900]).await;
    let (status, body) = upload(
        &server,
        &ada.token,
        &[("b.txt", "text/plain", &[b'b'; 900])],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().unwrap().contains("1500"), "{body}");
    let (_, list) = send(server.get("/api/v1/files", &ada.token)).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    // Nothing is left in storage either: one object, the kept file.
    let objects = walk(&server.files_dir());
    assert_eq!(objects.len(), 1, "{objects:?}");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn foreign_unknown_and_deleted_keys_attach_nothing_on_every_path() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let ada_thread = thread(&server, &ada).await;
    let eves = upload_one(&server, &eve.token, "eve.txt", b"eve's").await;
    let gone = upload_one(&server, &ada.token, "gone.txt", b"gone").await;
    let (status, _) = send(
        server
            .request(reqwest::Method::DELETE, &format!("/api/v1/files/{gone}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let unknown = uuid::Uuid::now_v7().to_string();
    let key_for_ada = server.api_key(&ada).await;
    let agent = crate::fixtures::uuid(
        &crate::fixtures::agent(&server, &ada, json!({ "name": "Helper" })).await,
    );
    let (status, body) = send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/chat/{agent}/threads"),
            )
            .header("x-api-key", &key_for_ada)
            .json(&json!({ "agent_id": agent })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let chat_thread = body["id"].as_str().unwrap().to_owned();
    for bad in [eves.as_str(), gone.as_str(), unknown.as_str(), "not-a-key"] {
        // athena: create message, run.
        let (status, body) = send(server.post(
            "/api/v1/messages",
            &ada.token,
            json!({ "thread_uuid": ada_thread, "content": "see file", "files": [{ "key": bad, "name": "x" }] }),
        ))
        .await;
        assert_invalid(status, &body, "files.0.key");
        let (status, body) = send(server.post(
            &format!("/api/v1/threads/{ada_thread}/run"),
            &ada.token,
            json!({ "content": "see file", "files": [{ "key": bad }] }),
        ))
        .await;
        assert_invalid(status, &body, "files.0.key");
        // thena: send a message.
        let (status, body) = send(
            server
                .request(
                    reqwest::Method::POST,
                    &format!("/api/v1/chat/{agent}/threads/{chat_thread}/messages"),
                )
                .header("x-api-key", &key_for_ada)
                .json(&json!({ "content": "see file", "attachments": [{ "key": bad }] })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["detail"].to_string().contains("attachments"), "{body}");
        // freddy: create message, run.
        let (status, body) = send(server.post(
            &format!("/v1/threads/{ada_thread}/messages"),
            &ada.token,
            json!({ "content": "see file", "attachments": [{ "file_id": bad }] }),
        ))
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(
            body["error"]["param"]
                .as_str()
                .unwrap()
                .starts_with("attachments"),
            "{body}"
        );
        let (status, body) = send(server.post(
            &format!("/v1/threads/{ada_thread}/runs"),
            &ada.token,
            json!({ "content": "see file", "attachments": [{ "file_id": bad }] }),
        ))
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    // Nothing was written anywhere.
    let (_, messages) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={ada_thread}"),
        &ada.token,
    ))
    .await;
    assert_eq!(messages["data"], json!([]), "{messages}");
    let (_, thread) = send(server.get(&format!("/api/v1/threads/{chat_thread}"), &ada.token)).await;
    assert_eq!(thread["data"]["message_count"], 0, "{thread}");
}

#[tokio::test]
async fn attachments_render_in_every_dialect() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada).await;
    let key = upload_one(&server, &ada.token, "pixel.png", PNG).await;
    let (status, body) = send(server.post(
        "/api/v1/messages",
        &ada.token,
        json!({ "thread_uuid": thread, "content": "A picture", "files": [{ "key": key, "name": "My pixel.png" }] }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // athena (seed 001): uuid, type media, timestamps, attachable.
    let attachment = &body["data"]["attachments"][0];
    assert!(uuid::Uuid::parse_str(attachment["uuid"].as_str().unwrap()).is_ok());
    assert_eq!(attachment["type"], "media");
    for field in ["created_at", "updated_at"] {
        let at = attachment[field].as_str().unwrap();
        assert!(at.ends_with('Z') && at.contains('.'), "{field}: {at}");
    }
    let attachable = &attachment["attachable"];
    assert_eq!(attachable["key"], *key);
    assert_eq!(attachable["name"], "My pixel.png");
    assert_eq!(attachable["mime_type"], "image/png");
    assert_eq!(attachable["url"], format!("/api/v1/files/{key}/content"));
    let message = body["data"]["uuid"].as_str().unwrap().to_owned();
    let (_, shown) = send(server.get(&format!("/api/v1/messages/{message}"), &ada.token)).await;
    assert_eq!(shown["data"]["attachments"], body["data"]["attachments"]);
    let (_, list) = send(server.get(
        &format!("/api/v1/messages?thread_uuid={thread}"),
        &ada.token,
    ))
    .await;
    assert_eq!(list["data"][0]["attachments"], body["data"]["attachments"]);
    let response = server
        .get(attachable["url"].as_str().unwrap(), &ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.bytes().await.unwrap(), PNG);

    // freddy: its own shape, with a `file_…` id.
    let (status, freddy) =
        send(server.get(&format!("/v1/threads/{thread}/messages"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK, "{freddy}");
    let attachment = &freddy["data"][0]["attachments"][0];
    assert_eq!(
        attachment["file_id"],
        format!("file_{}", key.replace('-', ""))
    );
    assert_eq!(attachment["name"], "My pixel.png");
    assert!(
        attachment["created_at"].as_str().unwrap().ends_with(":00Z")
            || !attachment["created_at"].as_str().unwrap().contains('.')
    );

    // thena (seed 003): `attachments` on every message.
    let key_for_ada = server.api_key(&ada).await;
    let agent = crate::fixtures::uuid(
        &crate::fixtures::agent(&server, &ada, json!({ "name": "Helper" })).await,
    );
    let (_, chat) = send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/chat/{agent}/threads"),
            )
            .header("x-api-key", &key_for_ada)
            .json(&json!({ "agent_id": agent })),
    )
    .await;
    let chat_thread = chat["id"].as_str().unwrap();
    let (status, sent) = send(
        server
            .request(
                reqwest::Method::POST,
                &format!("/api/v1/chat/{agent}/threads/{chat_thread}/messages"),
            )
            .header("x-api-key", &key_for_ada)
            .json(&json!({ "content": "Look", "attachments": [{ "key": key }] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, listed) = send(
        server
            .request(
                reqwest::Method::GET,
                &format!("/api/v1/chat/{agent}/threads/{chat_thread}/messages"),
            )
            .header("x-api-key", &key_for_ada),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let items = listed["data"]
        .as_array()
        .or(listed.as_array())
        .unwrap()
        .clone();
    let user = items.iter().find(|m| m["role"] == "user").unwrap();
    assert_eq!(user["attachments"][0]["key"], *key, "{user}");
    assert_eq!(user["attachments"][0]["name"], "pixel.png");
    assert_eq!(user["attachments"][0]["type"], "media");
    let reply = items.iter().find(|m| m["role"] == "assistant").unwrap();
    assert_eq!(reply["attachments"], json!([]));
}

#[tokio::test]
async fn the_sweep_removes_unreferenced_files_after_the_grace_period() {
    let mut core = SpoolConfig::default();
    core.files.unreferenced_grace = chrono::Duration::zero();
    let server = TestServer::start_with(Default::default(), core).await;
    let ada = server.account("ada@example.com").await;
    let thread = thread(&server, &ada).await;
    let loose = upload_one(&server, &ada.token, "loose.txt", b"loose").await;
    let kept = upload_one(&server, &ada.token, "kept.txt", b"kept").await;
    let (status, body) = send(server.post(
        "/api/v1/messages",
        &ada.token,
        json!({ "thread_uuid": thread, "content": "keep it", "files": [{ "key": kept }] }),
    ))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(server.spool.sweep_files().await.unwrap(), 1);
    let (status, _) = send(server.get(&format!("/api/v1/files/{loose}"), &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.get(&format!("/api/v1/files/{kept}/content"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    // Deleting the thread drops the reference; the next sweep takes the file.
    let (status, _) = send(
        server
            .request(
                reqwest::Method::DELETE,
                &format!("/api/v1/threads/{thread}"),
            )
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(server.spool.sweep_files().await.unwrap(), 1);
    let (status, _) = send(server.get(&format!("/api/v1/files/{kept}"), &ada.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(walk(&server.files_dir()).is_empty());
}

#[tokio::test]
async fn deleting_a_workspace_removes_its_files() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    upload_one(&server, &ada.token, "a.txt", b"a").await;
    assert_eq!(walk(&server.files_dir()).len(), 1);
    let (status, body) = send(
        server
            .request(
                reqwest::Method::DELETE,
                &format!("/api/v1/workspaces/{}", ada.workspace),
            )
            .bearer_auth(&ada.token),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    assert!(walk(&server.files_dir()).is_empty());
}

#[tokio::test]
async fn freddy_files_are_the_same_files() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    let eve = server.account("eve@example.com").await;
    let (status, body) = send(
        server
            .request(reqwest::Method::POST, "/v1/files?name=notes.txt")
            .bearer_auth(&ada.token)
            .body("hello"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = &body["data"][0];
    let id = file["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("file_"), "{file}");
    assert_eq!(file["object"], "file");
    assert_eq!(file["bytes"], 5);
    let key = uuid::Uuid::parse_str(&id["file_".len()..])
        .unwrap()
        .to_string();
    let (status, athena) = send(server.get(&format!("/api/v1/files/{key}"), &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(athena["data"]["name"], "notes.txt");
    let response = server
        .get(&format!("/v1/files/{id}/content"), &ada.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.text().await.unwrap(), "hello");
    let (status, list) = send(server.get("/v1/files?limit=10", &ada.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"][0]["id"], *id);
    assert_eq!(list["has_more"], false);
    let (status, body) = send(server.get(&format!("/v1/files/{id}"), &eve.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"]["message"].is_string());
    let (status, _) = send(
        server
            .request(reqwest::Method::DELETE, &format!("/v1/files/{id}"))
            .bearer_auth(&eve.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, gone) = send(
        server
            .request(reqwest::Method::DELETE, &format!("/v1/files/{id}"))
            .bearer_auth(&ada.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(gone["deleted"], true);
}

#[tokio::test]
async fn uploads_pass_the_body_limit_and_are_not_replayed() {
    let server = TestServer::start().await;
    let ada = server.account("ada@example.com").await;
    // Over the 2 MiB request body limit: an upload has its own limit.
    let big = vec![b'x'; 3 * 1024 * 1024];
    let key = upload_one(&server, &ada.token, "big.txt", &big).await;
    let (_, shown) = send(server.get(&format!("/api/v1/files/{key}"), &ada.token)).await;
    assert_eq!(shown["data"]["size"], big.len());
    // The body is streamed, never kept: the same Idempotency-Key makes a
    // second file rather than replaying the first answer.
    let mut keys = Vec::new();
    for _ in 0..2 {
        let (status, body) = send(
            server
                .request(reqwest::Method::POST, "/api/v1/files?name=a.txt")
                .bearer_auth(&ada.token)
                .header("Idempotency-Key", "same-key")
                .body("a"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        keys.push(body["data"][0]["key"].clone());
    }
    assert_ne!(keys[0], keys[1]);
}
