//! The openai dialect's ids: a type prefix and the 32 hex digits of the UUID
//! (`thread_0192…`), as OpenAI's own ids look. Input also takes a raw UUID;
//! a prefix of another type is no id of this one.

use uuid::Uuid;

pub const ASSISTANT: &str = "asst_";
pub const THREAD: &str = "thread_";
pub const MESSAGE: &str = "msg_";
pub const RUN: &str = "run_";
/// A run step is one assistant message of the run: its id is the message's.
pub const STEP: &str = "step_";

pub fn render(prefix: &str, id: Uuid) -> String {
    format!("{prefix}{}", id.simple())
}

pub fn parse(prefix: &str, text: &str) -> Option<Uuid> {
    match text.strip_prefix(prefix) {
        Some(hex) if hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Uuid::try_parse(hex).ok()
        }
        Some(_) => None,
        None if text.contains('_') => None,
        None => Uuid::try_parse(text).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_and_raw_forms_name_the_same_id() {
        let id = Uuid::now_v7();
        let shown = render(THREAD, id);
        assert_eq!(shown.len(), THREAD.len() + 32);
        assert_eq!(parse(THREAD, &shown), Some(id));
        assert_eq!(parse(THREAD, &id.to_string()), Some(id));
    }

    #[test]
    fn other_prefixes_and_garbage_are_no_ids() {
        let id = Uuid::now_v7();
        assert_eq!(parse(THREAD, &render(MESSAGE, id)), None);
        assert_eq!(parse(RUN, "run_abc"), None);
        assert_eq!(parse(ASSISTANT, ""), None);
    }
}
