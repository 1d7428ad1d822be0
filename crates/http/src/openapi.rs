//! The OpenAPI document, generated from the handlers' annotations, and the
//! interactive reference at `/docs` (Swagger UI, served from the binary).

use crate::athena::{self, wire};
use crate::{freddy, thena};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "spool", description = "Threads and runs for AI agents. See docs/api.md for conventions."),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
        thena::threads::create,
        thena::threads::list,
        thena::threads::show,
        thena::threads::delete,
        thena::messages::list,
        thena::messages::send,
        thena::feedback::create,
        thena::feedback::update,
        freddy::threads::create,
        freddy::threads::list,
        freddy::threads::show,
        freddy::threads::update,
        freddy::threads::delete,
        freddy::threads::pin,
        freddy::threads::unpin,
        freddy::messages::list,
        freddy::messages::create,
        freddy::runs::create,
        freddy::runs::generate_name,
        athena::auth::sign_in,
        athena::auth::logout,
        athena::auth::current_user,
        athena::workspaces::list,
        athena::workspaces::create,
        athena::workspaces::show,
        athena::workspaces::update,
        athena::workspaces::delete,
        athena::workspaces::members,
        athena::workspaces::add_member,
        athena::workspaces::remove_member,
        athena::keys::create,
        athena::keys::list,
        athena::keys::revoke,
        athena::agents::list,
        athena::agents::create,
        athena::agents::show,
        athena::agents::update,
        athena::agents::delete,
        athena::agents::share,
        athena::models::list,
        athena::models::show,
        athena::threads::list,
        athena::threads::create,
        athena::threads::show,
        athena::threads::update,
        athena::threads::delete,
        athena::threads::pin,
        athena::threads::unpin,
        athena::messages::list,
        athena::messages::create,
        athena::messages::show,
        athena::messages::update,
        athena::messages::delete,
        athena::metrics::threads,
        athena::metrics::messages,
        athena::metrics::agents,
        athena::runs::run_thread,
        athena::runs::run_agent,
        athena::runs::show,
        athena::runs::list,
        athena::runs::cancel,
        athena::runs::events,
        athena::runs::generate_name,
    ),
    components(schemas(wire::UserBody, wire::WorkspaceBody, wire::MemberBody, wire::ApiKeyBody, wire::PageLinks, wire::PageMeta)),
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

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `/openapi.json` and `/docs`.
pub fn docs<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    SwaggerUi::new("/docs")
        .url("/openapi.json", document())
        .into()
}
