//! The OpenAPI schema of a tool definition (`AthenaTool`), as the core's
//! `spool_core::tools` parses it: `function`, `http` or `mcp`.

use spool_core::tools::{
    TOOL_DESCRIPTION_MAX_CHARS, TOOL_HEADERS_MAX, TOOL_NAME_MAX_CHARS, TOOL_URL_MAX_CHARS,
};
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::AdditionalProperties};
use utoipa::{PartialSchema, ToSchema};

/// A tool definition: `{"type": "function" | "http" | "mcp", "name", ...}`.
pub struct Tool;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn headers() -> ObjectBuilder {
    let env = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("env", string().pattern(Some("^[A-Za-z0-9_]+$")))
        .required("env")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    let value = Schema::OneOf(OneOfBuilder::new().item(string()).item(env).build());
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(TOOL_HEADERS_MAX))
        .additional_properties(Some(value))
        .description(Some(
            "Header name → a value, or `{\"env\": \"VARIABLE\"}` read from the server's \
             environment at each call. Answers show `\"[redacted]\"` for written values.",
        ))
}

fn kind(name: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .property("type", string().enum_values(Some([name])))
        .required("type")
        .property(
            "name",
            string()
                .pattern(Some("^[A-Za-z0-9_-]+$"))
                .min_length(Some(1))
                .max_length(Some(TOOL_NAME_MAX_CHARS)),
        )
        .required("name")
        .property(
            "description",
            string().max_length(Some(TOOL_DESCRIPTION_MAX_CHARS)),
        )
}

fn parameters() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .description(Some(
            "A JSON Schema with `\"type\": \"object\"` for the arguments (default: no properties).",
        ))
}

fn url() -> ObjectBuilder {
    string()
        .pattern(Some("^https?://"))
        .max_length(Some(TOOL_URL_MAX_CHARS))
}

impl PartialSchema for Tool {
    fn schema() -> RefOr<Schema> {
        let function = kind(
            "function",
            "Answered by the client (the run waits in `requires_action`).",
        )
        .property("parameters", parameters());
        let http = kind(
            "http",
            "spool sends the arguments as the JSON body to `url` and gives the model the answer.",
        )
        .property("parameters", parameters())
        .property("url", url())
        .required("url")
        .property(
            "method",
            string().enum_values(Some(["GET", "POST", "PUT", "PATCH", "DELETE"])),
        )
        .property("headers", headers());
        let mcp = kind("mcp", "A Model Context Protocol server (streamable HTTP).")
            .property("url", url())
            .required("url")
            .property("headers", headers());
        Schema::OneOf(
            OneOfBuilder::new()
                .item(function)
                .item(http)
                .item(mcp)
                .build(),
        )
        .into()
    }
}

impl ToSchema for Tool {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AthenaTool")
    }
}

/// `"auto"` (default), `"none"`, `"required"` or `{"name": "TOOL"}`.
pub struct ToolChoice;

impl PartialSchema for ToolChoice {
    fn schema() -> RefOr<Schema> {
        let named = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("name", string())
            .required("name");
        Schema::OneOf(
            OneOfBuilder::new()
                .item(string().enum_values(Some(["auto", "none", "required"])))
                .item(named)
                .build(),
        )
        .into()
    }
}

impl ToSchema for ToolChoice {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AthenaToolChoice")
    }
}
