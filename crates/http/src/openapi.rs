//! The OpenAPI document, generated from the handlers' annotations, and the
//! interactive reference at `/docs` (Swagger UI, served from the binary).
//!
//! Each dialect documents itself under its own names (`Athena…`, `Thena…`,
//! `Freddy…`); [`document`] merges them and adds, in one place, what every
//! dialect shares: the `Idempotency-Key` header of every POST and the
//! answers of the layers in front of the handlers (credentials, rate limit,
//! the idempotency layer), each in its dialect's error body.

use crate::{freddy, thena};
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, Ref, RefOr, Required, ResponseBuilder, path::PathItem,
};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "spool", description = "Threads and runs for AI agents, in three wire dialects: athena (`/api/v1/...`), thena (`/api/v1/chat/{agent_id}/threads...`) and freddy (`/v1/threads...`). See docs/api.md for conventions and docs/idempotency.md for `Idempotency-Key`."),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
    ),
    tags((name = "ops", description = "Liveness and readiness.")),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// The whole document: every dialect's part, and what they share.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::athena::openapi::AthenaDoc::openapi());
    doc.merge(thena::openapi::ThenaDoc::openapi());
    doc.merge(freddy::openapi::FreddyDoc::openapi());
    Shared.modify(&mut doc);
    doc
}

/// The error bodies of the dialect a path belongs to, as
/// `crate::middleware::error_for_path` chooses it: (other errors, 422).
fn error_schemas(path: &str) -> (&'static str, &'static str) {
    if path == "/v1" || path.starts_with("/v1/") {
        ("FreddyError", "FreddyError")
    } else if path.starts_with("/api/v1/chat/") {
        ("ThenaError", "ThenaValidationError")
    } else {
        ("AthenaError", "AthenaValidationError")
    }
}

/// `Idempotency-Key` on every POST (docs/idempotency.md), and the answers
/// of the layers every request of a dialect passes:
/// - credentials (401) and the per-credential rate limit (429 with
///   `Retry-After`) on every authenticated operation;
/// - on an authenticated POST with `Idempotency-Key`: 409 while the first
///   request with the key is in progress, 422 for a malformed key or one
///   used with another request;
/// - on every POST, 413 for a body over the limit.
///
/// An operation that declares one of these statuses itself keeps its own.
/// A dialect whose error schemas are not in the document yet gets none.
struct Shared;

const ANSWERS: [(&str, &str, bool); 5] = [
    (
        "401",
        "No credential, or an unknown, expired or revoked one.",
        false,
    ),
    (
        "429",
        "Over the credential's rate limit; `Retry-After` says when to try again.",
        false,
    ),
    (
        "409",
        "A request with this Idempotency-Key is still in progress.",
        false,
    ),
    ("413", "The body is larger than `body_limit_bytes`.", false),
    (
        "422",
        "A malformed Idempotency-Key, or one used with a different request.",
        true,
    ),
];

fn idempotency_key() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same request within 24 hours replays \
             the first answer (`Idempotent-Replayed: true`) instead of doing the work again; \
             with a different request it answers 422, while the first is still in progress \
             409. A streamed run is re-attached to, not replayed. See docs/idempotency.md.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                // Visible ASCII, spaces only inside (header values are trimmed).
                .pattern(Some("^[!-~]([ -~]*[!-~])?$")),
        ))
        .build()
}

fn answer(status: &str, description: &str, schema: &str) -> utoipa::openapi::Response {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build(),
    );
    if status == "429" {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(0)),
                )
                .description(Some("Seconds to wait."))
                .build(),
        );
    }
    response.build()
}

fn add_shared(path: &str, operation: &mut Operation, is_post: bool, known: &[&str]) {
    let (error, invalid) = error_schemas(path);
    if !known.contains(&error) || !known.contains(&invalid) {
        return;
    }
    let authenticated = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    // The key belongs to a credential: an operation without one (sign-in)
    // does not keep it; nor does an upload, whose body is never held
    // (crate::idempotency).
    let keyed = is_post && authenticated && !path.ends_with("/files");
    if keyed {
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        if !parameters.iter().any(|p| p.name == "Idempotency-Key") {
            parameters.push(idempotency_key());
        }
    }
    for (status, description, validation) in ANSWERS {
        let wanted = match status {
            "401" | "429" => authenticated,
            "413" => is_post,
            _ => keyed,
        };
        if wanted {
            let schema = if validation { invalid } else { error };
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| answer(status, description, schema).into());
        }
    }
}

impl Modify for Shared {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let known: Vec<String> = openapi
            .components
            .iter()
            .flat_map(|c| c.schemas.keys().cloned())
            .collect();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        for (path, operation, is_post) in operations_mut(openapi) {
            add_shared(path, operation, is_post, &known);
        }
    }
}

/// Every operation of the document, and whether it is a POST.
pub fn operations_mut(
    doc: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&str, &mut Operation, bool)> {
    doc.paths.paths.iter_mut().flat_map(|(path, item)| {
        let PathItem {
            get,
            put,
            post,
            delete,
            patch,
            ..
        } = item;
        [
            (get, false),
            (put, false),
            (delete, false),
            (patch, false),
            (post, true),
        ]
        .into_iter()
        .filter_map(move |(op, is_post)| op.as_mut().map(|op| (path.as_str(), op, is_post)))
    })
}

/// Answers list every key the server writes: each component schema named
/// `prefix…` (but those in `open`) that has properties and says nothing of
/// others admits no others. (Request bodies already do not, from
/// `deny_unknown_fields`.)
pub fn close_objects(doc: &mut utoipa::openapi::OpenApi, prefix: &str, open: &[&str]) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if let RefOr::T(Schema::Object(object)) = schema
            && name.starts_with(prefix)
            && !open.contains(&name.as_str())
            && !object.properties.is_empty()
            && object.additional_properties.is_none()
        {
            object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// The `metadata` a client writes, within the limits of `validate`;
/// `description` says what the dialect adds.
pub fn metadata_input(description: &str) -> Schema {
    use spool_core::validate;
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder, SchemaType};
    // One type a branch: client generators read `type: [..]` lists poorly.
    let value = Schema::OneOf(
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .max_length(Some(validate::METADATA_MAX_VALUE_CHARS)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Boolean))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(SchemaType::AnyValue)))
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    );
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .description(Some(description))
        .max_properties(Some(validate::METADATA_MAX_KEYS))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(validate::METADATA_MAX_KEY_CHARS)),
        ))
        .additional_properties(Some(value))
        .into()
}

/// `/openapi.json` and `/docs`.
pub fn docs<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new("/docs")
        .url("/openapi.json", document())
        .into()
}
