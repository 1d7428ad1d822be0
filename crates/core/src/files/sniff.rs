//! What a file is, from its first bytes: the client's `Content-Type` is
//! never trusted. Text is told by its bytes (UTF-8, no NUL) and then named
//! by the file's extension; spool never calls anything `text/html`, so a
//! download cannot become a page of the server's origin.

/// Bytes enough to decide.
pub const SNIFF_BYTES: usize = 8 * 1024;

const MAGIC: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
];

/// The MIME type of a file whose first bytes are `head` (up to
/// [`SNIFF_BYTES`]; fewer when the file is shorter).
pub fn sniff(head: &[u8], name: &str) -> String {
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return "image/webp".into();
    }
    if let Some((_, mime)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return (*mime).into();
    }
    if looks_like_text(head) {
        return text_type(name).into();
    }
    "application/octet-stream".into()
}

fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut inside a character at the end of the sniffed bytes: still text.
        Err(err) => err.error_len().is_none() && head.len() - err.valid_up_to() < 4,
    }
}

fn text_type(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "md" | "markdown" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => "text/plain",
    }
}

/// Images both providers take inline.
pub fn is_inline_image(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp"
    )
}

/// Text a model can read as it is.
pub fn is_text(mime: &str) -> bool {
    mime.starts_with("text/") || mime == "application/json"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest", "x.txt"), "image/png");
        assert_eq!(sniff(b"%PDF-1.7\n", "x.png"), "application/pdf");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ", "x"), "image/webp");
        assert_eq!(sniff(b"# Title\n", "notes.md"), "text/markdown");
        assert_eq!(sniff(b"a,b\n1,2\n", "t.CSV"), "text/csv");
        assert_eq!(sniff(b"{\"a\":1}", "d.json"), "application/json");
        assert_eq!(sniff(b"<html><script>", "x.html"), "text/plain");
        assert_eq!(sniff(b"fn main() {}", "main.rs"), "text/plain");
        assert_eq!(sniff(b"\x00\x01\x02", "x.txt"), "application/octet-stream");
        // A multi-byte character cut by the sniffing window is still text.
        assert_eq!(
            sniff("ab\u{e9}".as_bytes().split_last().unwrap().1, "a.txt"),
            "text/plain"
        );
        assert_eq!(sniff(b"", "empty.txt"), "text/plain");
    }
}
