//! Prompts: a workspace's reusable templates with `{{variables}}`, a model
//! and its settings, shown to whom their visibility allows.

use super::Visibility;
use crate::Timestamp;
use crate::ids::{PromptId, UserId, WorkspaceId};
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub id: PromptId,
    pub workspace_id: WorkspaceId,
    /// Who made it (a private prompt is theirs alone).
    pub user_id: UserId,
    pub name: String,
    pub description: Option<String>,
    /// The text, with `{{name}}` where a variable's value goes.
    pub template: String,
    /// The catalog model it runs on; the server's default when unset.
    pub model: Option<String>,
    /// `temperature`, `top_p`, `max_tokens` for its runs.
    pub settings: Map<String, Value>,
    pub visibility: Visibility,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The variables a template names, in order of first use: `{{ name }}`
/// with a name of letters, digits and `_` (not starting with a digit).
/// Anything else between braces is text.
pub fn template_variables(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    for_each_variable(template, |name| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    });
    names
}

/// The template with every variable replaced by its value; a variable
/// without one stays as written.
pub fn fill_template(template: &str, values: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, name, after)) = next_variable(rest) {
        out.push_str(before);
        match values.get(name) {
            Some(Value::String(text)) => out.push_str(text),
            Some(other) => out.push_str(&other.to_string()),
            None => {
                out.push_str(&rest[before.len()..rest.len() - after.len()]);
            }
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn for_each_variable(template: &str, mut f: impl FnMut(&str)) {
    let mut rest = template;
    while let Some((_, name, after)) = next_variable(rest) {
        f(name);
        rest = after;
    }
}

/// The first `{{ name }}` of `text`: the text before it, the name, and the
/// text after it.
fn next_variable(text: &str) -> Option<(&str, &str, &str)> {
    let mut from = 0;
    loop {
        let open = from + text[from..].find("{{")?;
        let inner_start = open + 2;
        let close = inner_start + text[inner_start..].find("}}")?;
        let name = text[inner_start..close].trim();
        if is_name(name) {
            return Some((&text[..open], name, &text[close + 2..]));
        }
        from = inner_start;
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn variables_are_named_once_in_order_and_filled() {
        let template = "Dear {{ name }}, about {{topic}}: {{name}}. {{ not a var }} {{}} {{2x}}";
        assert_eq!(template_variables(template), ["name", "topic"]);
        let values = json!({"name": "Ada", "topic": 42});
        let filled = fill_template(template, values.as_object().unwrap());
        assert_eq!(
            filled,
            "Dear Ada, about 42: Ada. {{ not a var }} {{}} {{2x}}"
        );
        let partial = fill_template("{{a}} and {{ b }}", json!({"a": "x"}).as_object().unwrap());
        assert_eq!(partial, "x and {{ b }}");
    }
}
