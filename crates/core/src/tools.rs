//! Tool definitions: what an agent (or a run) lets its model call. Three
//! kinds: `function` (answered by the client), `http` (spool calls a URL)
//! and `mcp` (spool calls a Model Context Protocol server). Parsed and
//! validated here, stored as the JSON [`ToolDefinition::to_stored`] writes.

use crate::error::ValidationErrors;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;

/// What runs the tools spool calls itself, `http` tools and `mcp` servers,
/// under the server's outbound address rules (it lives where the HTTP
/// clients do, outside the core).
#[async_trait::async_trait]
pub trait ToolCaller: Send + Sync + 'static {
    /// Why spool may not reach `url` (an `http` tool's or an MCP server's),
    /// checked when a tool is saved: an address that is not public, or a
    /// name that resolves only to such addresses. `None` when it may (a
    /// name that does not resolve yet is checked again at every call).
    async fn refuse_url(&self, url: &str) -> Option<String>;

    /// Calls `tool` (an `http` tool) with the model's `arguments` (a JSON
    /// object): the response body as the result, or the error the model is
    /// shown (a refused address, a timeout, a non-2xx answer).
    async fn call_http(&self, tool: &ToolDefinition, arguments: &Value) -> Result<String, String>;

    /// The tools the MCP server of `server` (an `mcp` tool) offers.
    async fn list_mcp(&self, server: &ToolDefinition) -> Result<Vec<McpTool>, String>;

    /// Calls the server's tool `name` with `arguments`: its text as the
    /// result, or the error the model is shown.
    async fn call_mcp(
        &self,
        server: &ToolDefinition,
        name: &str,
        arguments: &Value,
    ) -> Result<String, String>;
}

/// One tool an MCP server offers.
#[derive(Clone, Debug, PartialEq)]
pub struct McpTool {
    pub name: String,
    pub description: Option<String>,
    /// Its JSON Schema `inputSchema`.
    pub parameters: Map<String, Value>,
}

/// Checks the URL of every `http` and `mcp` tool in `tools` (the list a
/// client sent as `field`) against the server's address rules.
pub async fn check_urls(
    caller: Option<&dyn ToolCaller>,
    field: &str,
    tools: &[ToolDefinition],
    errors: &mut ValidationErrors,
) {
    let Some(caller) = caller else { return };
    for (i, tool) in tools.iter().enumerate() {
        let (ToolKind::Http { url, .. } | ToolKind::Mcp { url, .. }) = &tool.kind else {
            continue;
        };
        if let Some(why) = caller.refuse_url(url).await {
            errors.add(format!("{field}[{i}].url"), why);
        }
    }
}

/// Most tools an agent or a run may carry.
pub const TOOLS_MAX: usize = 64;
pub const TOOL_NAME_MAX_CHARS: usize = 64;
pub const TOOL_DESCRIPTION_MAX_CHARS: usize = 2_000;
/// Most bytes of a tool's `parameters` schema, as compact JSON.
pub const TOOL_PARAMETERS_MAX_BYTES: usize = 16 * 1024;
pub const TOOL_URL_MAX_CHARS: usize = 2_048;
pub const TOOL_HEADERS_MAX: usize = 32;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A JSON Schema of the arguments (an object schema).
    #[serde(default = "empty_object_schema")]
    pub parameters: Map<String, Value>,
    #[serde(flatten)]
    pub kind: ToolKind,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToolKind {
    /// Executed by the client: the run waits in `requires_action`.
    Function,
    /// spool sends the arguments as a JSON body to `url`.
    Http {
        url: String,
        method: HttpMethod,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, HeaderValue>,
    },
    /// A Model Context Protocol server (streamable HTTP); `name` labels it.
    Mcp {
        url: String,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, HeaderValue>,
    },
}

impl ToolKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ToolKind::Function => "function",
            ToolKind::Http { .. } => "http",
            ToolKind::Mcp { .. } => "mcp",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            "PUT" => Some(HttpMethod::Put),
            "PATCH" => Some(HttpMethod::Patch),
            "DELETE" => Some(HttpMethod::Delete),
            _ => None,
        }
    }
}

/// A header's value: written in the definition, or read from the server's
/// environment when the tool is called (`{"env": "VAR"}`), so that a secret
/// need not be stored. Neither is ever rendered back to a client.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HeaderValue {
    Env { env: String },
    Literal(String),
}

impl fmt::Debug for HeaderValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderValue::Env { env } => write!(f, "Env({env})"),
            HeaderValue::Literal(_) => f.write_str("Literal(<redacted>)"),
        }
    }
}

/// Which tools the model may or must call.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum ToolChoice {
    /// The model decides (the default).
    #[default]
    Auto,
    /// No tool calls.
    None,
    /// At least one tool call.
    Required,
    /// This tool.
    Named(String),
}

impl ToolChoice {
    /// `"auto"`, `"none"`, `"required"` or `{"name": "..."}`.
    pub fn to_stored(&self) -> Value {
        match self {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Named(name) => json!({ "name": name }),
        }
    }

    /// Reads what [`ToolChoice::to_stored`] wrote; anything else is `auto`.
    pub fn from_stored(value: &Value) -> Self {
        let mut errors = ValidationErrors::new();
        parse_tool_choice(value, &mut errors)
    }
}

fn empty_object_schema() -> Map<String, Value> {
    match json!({ "type": "object", "properties": {} }) {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

impl ToolDefinition {
    /// The stored form, secrets included.
    pub fn to_stored(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// What a client is shown: the definition with every header value
    /// replaced by whether it comes from the environment.
    pub fn to_public(&self) -> Value {
        let mut value = self.to_stored();
        // An MCP server describes its own tools: a client never sends
        // `parameters` for one, and is not shown the stored default.
        if let (ToolKind::Mcp { .. }, Value::Object(fields)) = (&self.kind, &mut value) {
            fields.remove("parameters");
        }
        if let Some(Value::Object(headers)) = value.get_mut("headers") {
            for (_, header) in headers.iter_mut() {
                *header = match header {
                    Value::Object(env) => Value::Object(env.clone()),
                    _ => json!("[redacted]"),
                };
            }
        }
        value
    }
}

/// Reads the stored list (written by [`tools_to_stored`]); an entry that
/// no longer reads is left out.
pub fn tools_from_stored(value: Value) -> Vec<ToolDefinition> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    }
}

pub fn tools_to_stored(tools: &[ToolDefinition]) -> Value {
    Value::Array(tools.iter().map(ToolDefinition::to_stored).collect())
}

/// Checks a client's list of tool definitions, naming each wrong field
/// (`tools[2].url`).
pub fn parse_tools(
    field: &str,
    value: &Value,
    errors: &mut ValidationErrors,
) -> Vec<ToolDefinition> {
    let Some(items) = value.as_array() else {
        errors.add(
            field,
            format!("The {field} must be a list of tool definitions."),
        );
        return Vec::new();
    };
    if items.len() > TOOLS_MAX {
        errors.add(
            field,
            format!("The {field} may not have more than {TOOLS_MAX} items."),
        );
    }
    let mut tools = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if let Some(tool) = parse_tool(&at, item, errors) {
            if tools.iter().any(|t: &ToolDefinition| t.name == tool.name) {
                errors.add(
                    format!("{at}.name"),
                    format!("The tool name '{}' is used twice.", tool.name),
                );
            }
            tools.push(tool);
        }
    }
    tools
}

fn parse_tool(at: &str, item: &Value, errors: &mut ValidationErrors) -> Option<ToolDefinition> {
    let Some(object) = item.as_object() else {
        errors.add(at, format!("The {at} must be an object."));
        return None;
    };
    let before = errors.0.len();
    let allowed: &[&str] = match object.get("type").and_then(Value::as_str) {
        Some("function") => &["type", "name", "description", "parameters"],
        Some("http") => &[
            "type",
            "name",
            "description",
            "parameters",
            "url",
            "method",
            "headers",
        ],
        Some("mcp") => &["type", "name", "description", "url", "headers"],
        _ => {
            errors.add(
                format!("{at}.type"),
                format!("The {at}.type must be function, http or mcp."),
            );
            return None;
        }
    };
    for key in object.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.add(
                format!("{at}.{key}"),
                format!("The {at}.{key} field is not allowed for this tool type."),
            );
        }
    }
    let name = tool_name(at, object.get("name"), errors);
    let description = match object.get("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            if text.chars().count() > TOOL_DESCRIPTION_MAX_CHARS {
                errors.add(
                    format!("{at}.description"),
                    format!(
                        "The {at}.description may not be greater than {TOOL_DESCRIPTION_MAX_CHARS} characters."
                    ),
                );
            }
            Some(text.clone())
        }
        Some(_) => {
            errors.add(
                format!("{at}.description"),
                format!("The {at}.description must be a string."),
            );
            None
        }
    };
    let parameters = match object.get("parameters") {
        None | Some(Value::Null) => empty_object_schema(),
        Some(Value::Object(schema)) => {
            if schema.get("type").and_then(Value::as_str) != Some("object") {
                errors.add(
                    format!("{at}.parameters"),
                    format!("The {at}.parameters must be a JSON Schema with \"type\": \"object\"."),
                );
            }
            if Value::Object(schema.clone()).to_string().len() > TOOL_PARAMETERS_MAX_BYTES {
                errors.add(
                    format!("{at}.parameters"),
                    format!(
                        "The {at}.parameters may not be greater than {TOOL_PARAMETERS_MAX_BYTES} bytes."
                    ),
                );
            }
            schema.clone()
        }
        Some(_) => {
            errors.add(
                format!("{at}.parameters"),
                format!("The {at}.parameters must be a JSON Schema object."),
            );
            empty_object_schema()
        }
    };
    let kind = match object.get("type").and_then(Value::as_str) {
        Some("http") => ToolKind::Http {
            url: tool_url(at, object.get("url"), errors),
            method: match object.get("method") {
                None | Some(Value::Null) => HttpMethod::Post,
                Some(Value::String(m)) => HttpMethod::parse(m).unwrap_or_else(|| {
                    errors.add(
                        format!("{at}.method"),
                        format!("The {at}.method must be GET, POST, PUT, PATCH or DELETE."),
                    );
                    HttpMethod::Post
                }),
                Some(_) => {
                    errors.add(
                        format!("{at}.method"),
                        format!("The {at}.method must be a string."),
                    );
                    HttpMethod::Post
                }
            },
            headers: tool_headers(at, object.get("headers"), errors),
        },
        Some("mcp") => ToolKind::Mcp {
            url: tool_url(at, object.get("url"), errors),
            headers: tool_headers(at, object.get("headers"), errors),
        },
        _ => ToolKind::Function,
    };
    (errors.0.len() == before).then_some(ToolDefinition {
        name,
        description,
        parameters,
        kind,
    })
}

/// Letters, digits, `_` and `-`, 1 to 64 of them: what both OpenAI's and
/// Anthropic's APIs accept as a tool name.
fn tool_name(at: &str, value: Option<&Value>, errors: &mut ValidationErrors) -> String {
    let field = format!("{at}.name");
    let Some(name) = value.and_then(Value::as_str) else {
        errors.add(&field, format!("The {field} field is required."));
        return String::new();
    };
    let valid = !name.is_empty()
        && name.chars().count() <= TOOL_NAME_MAX_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        errors.add(
            &field,
            format!(
                "The {field} must be 1 to {TOOL_NAME_MAX_CHARS} letters, digits, underscores or hyphens."
            ),
        );
    }
    name.to_owned()
}

fn tool_url(at: &str, value: Option<&Value>, errors: &mut ValidationErrors) -> String {
    let field = format!("{at}.url");
    let Some(url) = value.and_then(Value::as_str) else {
        errors.add(&field, format!("The {field} field is required."));
        return String::new();
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host_present = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    if !host_present || url.chars().any(char::is_whitespace) {
        errors.add(&field, format!("The {field} must be an http or https URL."));
    } else if url.chars().count() > TOOL_URL_MAX_CHARS {
        errors.add(
            &field,
            format!("The {field} may not be greater than {TOOL_URL_MAX_CHARS} characters."),
        );
    }
    url.to_owned()
}

fn tool_headers(
    at: &str,
    value: Option<&Value>,
    errors: &mut ValidationErrors,
) -> BTreeMap<String, HeaderValue> {
    let field = format!("{at}.headers");
    let mut headers = BTreeMap::new();
    let map = match value {
        None | Some(Value::Null) => return headers,
        Some(Value::Object(map)) => map,
        Some(_) => {
            errors.add(&field, format!("The {field} must be an object."));
            return headers;
        }
    };
    if map.len() > TOOL_HEADERS_MAX {
        errors.add(
            &field,
            format!("The {field} may not have more than {TOOL_HEADERS_MAX} entries."),
        );
    }
    for (name, value) in map {
        let key = format!("{field}.{name}");
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            errors.add(&key, format!("The header name '{name}' is not valid."));
            continue;
        }
        let parsed = match value {
            Value::String(text) if !text.contains(['\r', '\n']) => {
                Some(HeaderValue::Literal(text.clone()))
            }
            Value::Object(env) if env.len() == 1 => env
                .get("env")
                .and_then(Value::as_str)
                .filter(|var| {
                    !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
                .map(|var| HeaderValue::Env {
                    env: var.to_owned(),
                }),
            _ => None,
        };
        match parsed {
            Some(header) => {
                headers.insert(name.clone(), header);
            }
            None => errors.add(
                &key,
                format!(
                    "The {key} must be a string or {{\"env\": \"VARIABLE\"}} naming an environment variable."
                ),
            ),
        }
    }
    headers
}

/// `"auto"`, `"none"`, `"required"` or `{"name": "..."}` (also OpenAI's
/// `{"type": "function", "function": {"name": "..."}}`).
pub fn parse_tool_choice(value: &Value, errors: &mut ValidationErrors) -> ToolChoice {
    let named = |name: Option<&str>| name.map(|n| ToolChoice::Named(n.to_owned()));
    let choice = match value {
        Value::String(s) if s == "auto" => Some(ToolChoice::Auto),
        Value::String(s) if s == "none" => Some(ToolChoice::None),
        Value::String(s) if s == "required" => Some(ToolChoice::Required),
        Value::Object(map) => named(map.get("name").and_then(Value::as_str)).or_else(|| {
            named(
                map.get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str),
            )
        }),
        _ => None,
    };
    choice.unwrap_or_else(|| {
        errors.add(
            "tool_choice",
            "The tool_choice must be auto, none, required or {\"name\": \"TOOL\"}.",
        );
        ToolChoice::Auto
    })
}

/// `required` needs a tool, and a named choice one of that name.
pub fn check_tool_choice(
    choice: &ToolChoice,
    tools: &[ToolDefinition],
    errors: &mut ValidationErrors,
) {
    match choice {
        ToolChoice::Required if tools.is_empty() => errors.add(
            "tool_choice",
            "The tool_choice required needs at least one tool.",
        ),
        ToolChoice::Named(name) if !tools.iter().any(|t| &t.name == name) => errors.add(
            "tool_choice",
            format!("The tool_choice names '{name}', which is not one of the run's tools."),
        ),
        _ => {}
    }
}

/// A run's tools: the agent's, with the request's added; a request tool
/// named like one of the agent's replaces it.
pub fn merge_tools(agent: &[ToolDefinition], request: Vec<ToolDefinition>) -> Vec<ToolDefinition> {
    let mut tools: Vec<ToolDefinition> = agent
        .iter()
        .filter(|t| !request.iter().any(|r| r.name == t.name))
        .cloned()
        .collect();
    tools.extend(request);
    tools
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: Value) -> Result<Vec<ToolDefinition>, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let tools = parse_tools("tools", &value, &mut errors);
        if errors.is_empty() {
            Ok(tools)
        } else {
            Err(errors)
        }
    }

    #[test]
    fn all_three_kinds_parse_and_store_round_trip() {
        let tools = parse(json!([
            { "type": "function", "name": "get_weather", "description": "Weather",
              "parameters": { "type": "object", "properties": { "city": { "type": "string" } } } },
            { "type": "http", "name": "lookup", "url": "https://example.com/lookup",
              "method": "get", "headers": { "Authorization": { "env": "LOOKUP_TOKEN" }, "X-Plain": "abc" } },
            { "type": "mcp", "name": "docs", "url": "http://127.0.0.1:9000/mcp" },
        ]))
        .unwrap();
        assert_eq!(tools.len(), 3);
        assert_eq!(tools[1].kind.as_str(), "http");
        let stored = tools_to_stored(&tools);
        assert_eq!(tools_from_stored(stored), tools);
        assert_eq!(
            tools[0].parameters["properties"]["city"]["type"],
            json!("string")
        );
        assert_eq!(tools[2].parameters, empty_object_schema());
    }

    #[test]
    fn public_form_hides_literal_header_values() {
        let tools = parse(
            json!([{ "type": "http", "name": "t", "url": "https://x.test",
            "headers": { "A": "secret-value", "B": { "env": "B_TOKEN" } } }]),
        )
        .unwrap();
        let public = tools[0].to_public();
        assert_eq!(public["headers"]["A"], json!("[redacted]"));
        assert_eq!(public["headers"]["B"], json!({ "env": "B_TOKEN" }));
        assert!(!format!("{tools:?}").contains("secret-value"));
        assert!(!public.to_string().contains("secret-value"));
    }

    #[test]
    fn wrong_fields_are_named() {
        let err = parse(json!([
            { "type": "function", "name": "bad name" },
            { "type": "http", "name": "h", "url": "ftp://x", "method": "TRACE" },
            { "type": "telepathy", "name": "x" },
            { "type": "function", "name": "dup" },
            { "type": "function", "name": "dup", "url": "https://x.test" },
            { "type": "http", "name": "e", "url": "https://x.test", "headers": { "A": { "env": "no spaces" } } },
            { "type": "function", "name": "p", "parameters": { "type": "string" } },
        ]))
        .unwrap_err();
        for field in [
            "tools[0].name",
            "tools[1].url",
            "tools[1].method",
            "tools[2].type",
            "tools[4].url",
            "tools[5].headers.A",
            "tools[6].parameters",
        ] {
            assert!(err.0.contains_key(field), "{field} in {err:?}");
        }
        let err = parse(json!([
            { "type": "function", "name": "dup" },
            { "type": "function", "name": "dup" },
        ]))
        .unwrap_err();
        assert!(err.0.contains_key("tools[1].name"), "{err:?}");
        assert!(parse(json!({})).unwrap_err().0.contains_key("tools"));
    }

    #[test]
    fn tool_choice_forms() {
        let mut errors = ValidationErrors::new();
        assert_eq!(
            parse_tool_choice(&json!("required"), &mut errors),
            ToolChoice::Required
        );
        assert_eq!(
            parse_tool_choice(&json!({ "name": "x" }), &mut errors),
            ToolChoice::Named("x".into())
        );
        assert_eq!(
            parse_tool_choice(
                &json!({ "type": "function", "function": { "name": "y" } }),
                &mut errors
            ),
            ToolChoice::Named("y".into())
        );
        assert!(errors.is_empty());
        parse_tool_choice(&json!("sometimes"), &mut errors);
        assert!(errors.0.contains_key("tool_choice"));
        let named = ToolChoice::Named("z".into());
        assert_eq!(ToolChoice::from_stored(&named.to_stored()), named);
    }

    #[test]
    fn request_tools_replace_agent_tools_by_name() {
        let agent = parse(json!([
            { "type": "function", "name": "a", "description": "old" },
            { "type": "function", "name": "b" },
        ]))
        .unwrap();
        let request = parse(json!([
            { "type": "function", "name": "a", "description": "new" },
            { "type": "function", "name": "c" },
        ]))
        .unwrap();
        let merged = merge_tools(&agent, request);
        let names: Vec<_> = merged.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["b", "a", "c"]);
        assert_eq!(merged[1].description.as_deref(), Some("new"));
    }
}
