//! `content_html`: a message's markdown rendered with a CommonMark parser and
//! made safe to insert into a page. Raw HTML in the source is shown as text,
//! never interpreted, and links or images with script-capable schemes
//! (`javascript:`, `vbscript:`, `data:` other than images) lose their target.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

fn safe_url(url: &str, image: bool) -> bool {
    let lowered: String = url
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let lowered = lowered.to_ascii_lowercase();
    match lowered.split_once(':') {
        // No scheme (a relative URL), or one that cannot run script.
        None => true,
        Some((scheme, _))
            if scheme.contains('/') || scheme.contains('?') || scheme.contains('#') =>
        {
            true
        }
        Some((scheme, rest)) => match scheme {
            "http" | "https" | "mailto" | "tel" => true,
            "data" => image && rest.starts_with("image/") && !rest.starts_with("image/svg"),
            _ => false,
        },
    }
}

pub fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url, false) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url, true) => Event::Start(Tag::Image {
            link_type,
            dest_url: CowStr::Borrowed(""),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn renders_commonmark() {
        assert_eq!(
            render("**bold** and `code`"),
            "<p><strong>bold</strong> and <code>code</code></p>\n"
        );
        assert!(render("| a |\n|---|\n| 1 |").contains("<table>"));
    }

    #[test]
    fn neutralises_script_injection() {
        let html = render("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        for link in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x]( java\tscript:alert(1))",
            "[x](vbscript:x)",
            "[x](data:text/html,<script>)",
        ] {
            let html = render(link).to_lowercase();
            let targets: Vec<&str> = html
                .split("href=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .collect();
            assert!(
                targets
                    .iter()
                    .all(|t| !t.contains("script:") && !t.starts_with("data:")),
                "{link} → {html}"
            );
        }
        assert!(render("[ok](https://example.com)").contains("href=\"https://example.com\""));
        assert!(render("[rel](/docs#x)").contains("href=\"/docs#x\""));
        assert!(render("![p](data:image/png;base64,AAAA)").contains("src=\"data:image/png"));
    }
}
