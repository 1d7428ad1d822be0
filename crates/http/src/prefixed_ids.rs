//! Ids written as a type prefix and the 32 hex digits of the UUID
//! (`thrd_0192…`, `thread_0192…`), as freddy and the openai dialect show
//! them. Input takes the prefixed form or a raw UUID; a prefix of another
//! type is no id of this one.

use uuid::Uuid;

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
        let shown = render("thrd_", id);
        assert_eq!(shown.len(), "thrd_".len() + 32);
        assert_eq!(parse("thrd_", &shown), Some(id));
        assert_eq!(parse("thrd_", &id.to_string()), Some(id));
        assert_eq!(parse("thrd_", &id.simple().to_string()), Some(id));
    }

    #[test]
    fn other_prefixes_and_garbage_are_no_ids() {
        let id = Uuid::now_v7();
        assert_eq!(parse("thrd_", &render("msg_", id)), None);
        assert_eq!(parse("thrd_", "thrd_abc123"), None);
        assert_eq!(parse("run_", "run_abc"), None);
        assert_eq!(parse("asst_", ""), None);
    }
}
