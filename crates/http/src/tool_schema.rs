//! The OpenAPI schema of a tool definition, as the core's
//! `spool_core::tools` parses it: `function`, `http` or `mcp`. The athena
//! and freddy dialects take the same definitions, each under its own
//! schema names (`AthenaTool`, `FreddyTool`, …).

use spool_core::tools::{
    TOOL_DESCRIPTION_MAX_CHARS, TOOL_HEADERS_MAX, TOOL_NAME_MAX_CHARS, TOOL_URL_MAX_CHARS,
};
use std::borrow::Cow;
use std::marker::PhantomData;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::{RefOr, schema::AdditionalProperties};
use utoipa::{PartialSchema, ToSchema};

/// The dialect whose names the schemas take.
pub trait Dialect: 'static {
    const PREFIX: &'static str;
}

impl Dialect for crate::athena::Athena {
    const PREFIX: &'static str = "Athena";
}

impl Dialect for crate::freddy::Freddy {
    const PREFIX: &'static str = "Freddy";
}

/// A tool definition: `{"type": "function" | "http" | "mcp", "name", ...}`,
/// one named schema per kind (`…FunctionTool`, `…HttpTool`, `…McpTool`),
/// each closed, with the rules `spool_core::tools` checks.
pub struct Tool<D>(PhantomData<D>);

const FUNCTION: &str = "FunctionTool";
const HTTP: &str = "HttpTool";
const MCP: &str = "McpTool";
const PARAMETERS: &str = "ToolParameters";
const HEADERS: &str = "ToolHeaders";
const HEADER_VALUE: &str = "ToolHeaderValue";
const SECRET: &str = "ToolSecret";

/// `what` under the dialect's name.
fn named<D: Dialect>(what: &str) -> String {
    format!("{}{what}", D::PREFIX)
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn nullable(kind: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(utoipa::openapi::schema::SchemaType::from_iter([
        kind,
        Type::Null,
    ]))
}

fn reference<D: Dialect>(what: &str) -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(named::<D>(what)))
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

fn header_value<D: Dialect>() -> Schema {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(string().pattern(Some("^[^\\r\\n]*$")))
            .item(reference::<D>(SECRET))
            .build(),
    )
}

fn headers<D: Dialect>() -> Schema {
    let mut headers = ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(TOOL_HEADERS_MAX))
        .additional_properties(Some(reference::<D>(HEADER_VALUE)))
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
fn optional<D: Dialect>(what: &str) -> RefOr<Schema> {
    Schema::OneOf(
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(reference::<D>(what))
            .build(),
    )
    .into()
}

impl<D: Dialect> PartialSchema for Tool<D> {
    fn schema() -> RefOr<Schema> {
        Schema::OneOf(
            OneOfBuilder::new()
                .item(reference::<D>(FUNCTION))
                .item(reference::<D>(HTTP))
                .item(reference::<D>(MCP))
                .build(),
        )
        .into()
    }
}

impl<D: Dialect> ToSchema for Tool<D> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(named::<D>("Tool"))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let function = kind(
            "function",
            "Answered by the client (the run waits in `requires_action`).",
        )
        .property("parameters", optional::<D>(PARAMETERS));
        let http = kind(
            "http",
            "spool sends the arguments as the JSON body to `url` and gives the model the answer.",
        )
        .property("parameters", optional::<D>(PARAMETERS))
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
        .property("headers", optional::<D>(HEADERS));
        let mcp = kind("mcp", "A Model Context Protocol server (streamable HTTP).")
            .property("url", url())
            .required("url")
            .property("headers", optional::<D>(HEADERS));
        for (name, schema) in [
            (FUNCTION, function.into()),
            (HTTP, http.into()),
            (MCP, mcp.into()),
            (PARAMETERS, parameters()),
            (HEADERS, headers::<D>()),
            (HEADER_VALUE, header_value::<D>()),
            (SECRET, secret()),
        ] {
            schemas.push((named::<D>(name), RefOr::T(schema)));
        }
    }
}

/// `"auto"` (default), `"none"`, `"required"` or `{"name": "TOOL"}`.
pub struct ToolChoice<D>(PhantomData<D>);

impl<D: Dialect> PartialSchema for ToolChoice<D> {
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

impl<D: Dialect> ToSchema for ToolChoice<D> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(named::<D>("ToolChoice"))
    }
}

impl Dialect for crate::thena::Thena {
    const PREFIX: &'static str = "Thena";
}

/// One tool call as spool stores it on the assistant message that made it
/// (thena's shape, plus `id` and `kind`), and as the `tool_call.*` events
/// carry it.
pub struct ToolCall<D>(PhantomData<D>);

impl<D: Dialect> PartialSchema for ToolCall<D> {
    fn schema() -> RefOr<Schema> {
        let time = || {
            nullable(Type::String).format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "A call the model made: `result` or `error` once it ran (both null while a \
                 client function waits for its output).",
            ))
            .property("id", string())
            .required("id")
            .property(
                "kind",
                nullable(Type::String).enum_values(Some([
                    Some("function"),
                    Some("http"),
                    Some("mcp"),
                    None,
                ])),
            )
            .required("kind")
            .property("tool_name", string())
            .required("tool_name")
            .property(
                "arguments",
                ObjectBuilder::new().description(Some(
                    "The arguments as a JSON object; as the model wrote them (a string) when \
                     they were not one.",
                )),
            )
            .required("arguments")
            .property("result", nullable(Type::String))
            .required("result")
            .property("error", nullable(Type::String))
            .required("error")
            .property("start_time", time())
            .required("start_time")
            .property("end_time", time())
            .required("end_time")
            .into()
    }
}

impl<D: Dialect> ToSchema for ToolCall<D> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(named::<D>("ToolCall"))
    }
}
