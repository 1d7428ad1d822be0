//! What a model is given of a message's files: images as image parts (to a
//! model that takes them), text and PDFs' text inline within a token budget,
//! anything else named only. Read before the prompt is assembled, since the
//! bytes are in the object store; the assembly itself stays synchronous.

use crate::model::{Attachment, Message};
use crate::provider::{ImagePart, Tokenizer};
use base64::Engine;
use std::collections::HashMap;

/// What the model sees of one attachment.
#[derive(Clone, Debug, PartialEq)]
pub enum PromptFile {
    Image(ImagePart),
    /// Text put into the prompt (cut to the budget when assembled).
    Text {
        header: String,
        text: String,
    },
    /// A line naming the file and why its content is not there.
    Note(String),
}

/// The files of a run's history, by attachment.
#[derive(Clone, Debug, Default)]
pub struct PromptFiles {
    pub files: HashMap<crate::AttachmentId, PromptFile>,
    /// Most tokens of text one message's files add.
    pub text_tokens: usize,
}

/// How one attachment is read for a model, before its bytes are fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    Image,
    Text,
    Pdf,
}

/// How to read the attachment, or the note that names it instead (a type
/// the model cannot take, or a file too large).
pub fn reading(attachment: &Attachment, vision: bool, max_bytes: u64) -> Result<Reading, String> {
    let file = &attachment.file;
    let what = format!(
        "Attached file \"{}\" ({}, {} bytes)",
        attachment.name, file.mime_type, file.size
    );
    let readable =
        file.is_image() || super::is_text(&file.mime_type) || file.mime_type == "application/pdf";
    if readable && file.size > max_bytes {
        return Err(format!("[{what}: too large to show to the model.]"));
    }
    if file.is_image() {
        return if vision {
            Ok(Reading::Image)
        } else {
            Err(format!(
                "[{what}: this model does not take images, so the image was not shown to it.]"
            ))
        };
    }
    if super::is_text(&file.mime_type) {
        return Ok(Reading::Text);
    }
    if file.mime_type == "application/pdf" {
        return Ok(Reading::Pdf);
    }
    Err(format!("[{what}: its content is not shown to the model.]"))
}

/// Turns the bytes read for `attachment` into what the model sees.
pub fn prompt_file(attachment: &Attachment, reading: Reading, bytes: &[u8]) -> PromptFile {
    let header = format!(
        "Attached file \"{}\" ({}):",
        attachment.name, attachment.file.mime_type
    );
    match reading {
        Reading::Image => PromptFile::Image(ImagePart {
            mime_type: attachment.file.mime_type.clone(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        }),
        Reading::Text => PromptFile::Text {
            header,
            text: String::from_utf8_lossy(bytes).into_owned(),
        },
        Reading::Pdf => match pdf_text(bytes) {
            Ok(text) if !text.trim().is_empty() => PromptFile::Text { header, text },
            Ok(_) => PromptFile::Note(format!(
                "[Attached PDF \"{}\": it has no extractable text.]",
                attachment.name
            )),
            Err(err) => PromptFile::Note(format!(
                "[Attached PDF \"{}\": its text could not be read ({err}).]",
                attachment.name
            )),
        },
    }
}

/// The text of every page, in order.
pub fn pdf_text(bytes: &[u8]) -> Result<String, String> {
    let document = lopdf::Document::load_mem(bytes).map_err(|err| err.to_string())?;
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    document.extract_text(&pages).map_err(|err| err.to_string())
}

/// The message's text with its files' text and notes after it, and its
/// images; text past the budget is cut with a note.
pub fn message_with_files(
    message: &Message,
    files: &PromptFiles,
    tokenizer: &dyn Tokenizer,
) -> (String, Vec<ImagePart>) {
    let mut content = message.content.clone();
    let mut images = Vec::new();
    let mut budget = files.text_tokens;
    for attachment in &message.attachments {
        let Some(file) = files.files.get(&attachment.id) else {
            continue;
        };
        match file {
            PromptFile::Image(image) => {
                images.push(image.clone());
                content.push_str(&format!("\n\n[Attached image \"{}\".]", attachment.name));
            }
            PromptFile::Note(note) => {
                content.push_str("\n\n");
                content.push_str(note);
            }
            PromptFile::Text { header, text } => {
                let (kept, cut) = within(text, budget, tokenizer);
                budget = budget.saturating_sub(tokenizer.count(kept));
                content.push_str(&format!("\n\n{header}\n```\n{kept}\n```"));
                if cut {
                    content.push_str(
                        "\n[The file was cut here: the rest is past the prompt's budget for attachments.]",
                    );
                }
            }
        }
    }
    (content, images)
}

/// The longest prefix of `text` (at a character boundary) within `budget`
/// tokens, found by halving; and whether anything was cut.
fn within<'t>(text: &'t str, budget: usize, tokenizer: &dyn Tokenizer) -> (&'t str, bool) {
    if tokenizer.count(text) <= budget {
        return (text, false);
    }
    let (mut low, mut high) = (0usize, text.len());
    while high - low > 64 {
        let mid = floor_boundary(text, (low + high) / 2);
        if tokenizer.count(&text[..mid]) <= budget {
            low = mid;
        } else {
            high = mid;
        }
    }
    (&text[..floor_boundary(text, low)], true)
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Roughly what an image costs in a prompt's token budget.
pub const IMAGE_TOKENS: usize = 1_000;

/// The files of `history` the model may be given, in the order to read them.
pub fn wanted<'m>(
    history: impl IntoIterator<Item = &'m Message>,
    limit: usize,
) -> Vec<&'m Attachment> {
    history
        .into_iter()
        .flat_map(|message| message.attachments.iter())
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Chars;
    impl Tokenizer for Chars {
        fn count(&self, text: &str) -> usize {
            text.chars().count()
        }
    }

    #[test]
    fn text_is_cut_at_the_budget() {
        let text = "é".repeat(1000);
        let (kept, cut) = within(&text, 300, &Chars);
        assert!(cut);
        assert!(kept.chars().count() <= 300 && kept.chars().count() > 200);
        assert_eq!(within("short", 300, &Chars), ("short", false));
    }
}
