//! The OpenAPI schema of a tool definition (`AthenaTool`), as the core's
//! `spool_core::tools` parses it: `function`, `http` or `mcp`.

use spool_core::tools::{
    TOOL_DESCRIPTION_MAX_CHARS, TOOL_HEADERS_MAX, TOOL_NAME_MAX_CHARS, TOOL_URL_MAX_CHARS,
};
use std::borrow::Cow;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::AdditionalProperties};
use utoipa::{PartialSchema, ToSchema};

/// A tool definition: `{"type": "function" | "http" | "mcp", "name", ...}`,
/// one named schema per kind (`AthenaFunctionTool`, `AthenaHttpTool`,
/// `AthenaMcpTool`), each closed, with the rules `spool_core::tools` checks.
pub struct Tool;

const FUNCTION: &str = "AthenaFunctionTool";
const HTTP: &str = "AthenaHttpTool";
const MCP: &str = "AthenaMcpTool";
const PARAMETERS: &str = "AthenaToolParameters";
const HEADERS: &str = "AthenaToolHeaders";
const HEADER_VALUE: &str = "AthenaToolHeaderValue";
const SECRET: &str = "AthenaToolSecret";

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(kind: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
        kind,
        Type::Null,
    ]))
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))
}

/// `{"env": "VARIABLE"}`: the value is read from the server's environment.
fn secret() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The header's value is read from this environment variable of the server at each call.",
        ))
        .property("env", string().pattern(Some("^[A-Za-z0-9_]+$")))
        .required("env")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

fn header_value() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(string().pattern(Some("^[^\\r\\n]*$")))
            .item(reference(SECRET))
            .build(),
    )
}

fn headers() -> Schema {
    let mut headers = ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(TOOL_HEADERS_MAX))
        .additional_properties(Some(reference(HEADER_VALUE)))
        .description(Some(
            "Header name → a value, or `{\"env\": \"VARIABLE\"}` read from the server's \
             environment at each call. Answers show `\"[redacted]\"` for written values.",
        ))
        .build();
    headers.property_names = Some(Box::new(
        string()
            .pattern(Some("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"))
            .build()
            .into(),
    ));
    headers.into()
}

/// A JSON Schema of `"type": "object"` (at most 16 KiB as JSON).
fn parameters() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("type", string().enum_values(Some(["object"])))
        .required("type")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .description(Some(
            "A JSON Schema with `\"type\": \"object\"` for the arguments, at most 16 KiB \
             as JSON (default: no properties).",
        ))
        .into()
}

fn kind(name: &str, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
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
            nullable(Type::String).max_length(Some(TOOL_DESCRIPTION_MAX_CHARS)),
        )
}

/// An http(s) URL with a host and no whitespace.
fn url() -> ObjectBuilder {
    string()
        .pattern(Some("^https?://[^/\\s][^\\s]*$"))
        .max_length(Some(TOOL_URL_MAX_CHARS))
}

/// `"parameters"`, `"headers"`: the named schema, or null (the default).
fn optional(name: &str) -> RefOr<Schema> {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(reference(name))
            .build(),
    )
    .into()
}

impl PartialSchema for Tool {
    fn schema() -> RefOr<Schema> {
        Schema::OneOf(
            OneOfBuilder::new()
                .item(reference(FUNCTION))
                .item(reference(HTTP))
                .item(reference(MCP))
                .build(),
        )
        .into()
    }
}

impl ToSchema for Tool {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("AthenaTool")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let function = kind(
            "function",
            "Answered by the client (the run waits in `requires_action`).",
        )
        .property("parameters", optional(PARAMETERS));
        let http = kind(
            "http",
            "spool sends the arguments as the JSON body to `url` and gives the model the answer.",
        )
        .property("parameters", optional(PARAMETERS))
        .property("url", url())
        .required("url")
        .property(
            "method",
            nullable(Type::String).enum_values(Some([
                Some("GET"),
                Some("POST"),
                Some("PUT"),
                Some("PATCH"),
                Some("DELETE"),
                None,
            ])),
        )
        .property("headers", optional(HEADERS));
        let mcp = kind("mcp", "A Model Context Protocol server (streamable HTTP).")
            .property("url", url())
            .required("url")
            .property("headers", optional(HEADERS));
        for (name, schema) in [
            (FUNCTION, function.into()),
            (HTTP, http.into()),
            (MCP, mcp.into()),
            (PARAMETERS, parameters()),
            (HEADERS, headers()),
            (HEADER_VALUE, header_value()),
            (SECRET, secret()),
        ] {
            schemas.push((name.to_owned(), RefOr::T(schema)));
        }
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
