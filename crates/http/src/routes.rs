//! Every endpoint spool serves, in one table. Handlers live in their
//! dialect's module; cross-cutting layers are added at the bottom.

use crate::{AppState, athena, freddy, middleware, openai, ops, thena};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    let athena = Router::new()
        .route("/auth/sign-in", post(athena::auth::sign_in))
        .route("/auth/logout", post(athena::auth::logout))
        .route("/user", get(athena::auth::current_user))
        .route(
            "/workspaces",
            get(athena::workspaces::list).post(athena::workspaces::create),
        )
        .route(
            "/workspaces/{uuid}",
            get(athena::workspaces::show)
                .put(athena::workspaces::update)
                .delete(athena::workspaces::delete),
        )
        .route(
            "/workspaces/{uuid}/members",
            get(athena::workspaces::members).post(athena::workspaces::add_member),
        )
        .route(
            "/workspaces/{uuid}/members/{user_id}",
            delete(athena::workspaces::remove_member),
        )
        .route(
            "/api-keys",
            get(athena::keys::list).post(athena::keys::create),
        )
        .route("/api-keys/{uuid}", delete(athena::keys::revoke))
        .route(
            "/webhooks",
            get(athena::webhooks::list).post(athena::webhooks::create),
        )
        .route(
            "/webhooks/{uuid}",
            get(athena::webhooks::show).delete(athena::webhooks::delete),
        )
        .route(
            "/webhooks/{uuid}/deliveries",
            get(athena::webhooks::deliveries),
        )
        .route(
            "/agents",
            get(athena::agents::list).post(athena::agents::create),
        )
        .route(
            "/agents/{uuid}",
            get(athena::agents::show)
                .put(athena::agents::update)
                .delete(athena::agents::delete),
        )
        .route("/agents/{uuid}/share", post(athena::agents::share))
        .route("/large-language-models", get(athena::models::list))
        .route("/large-language-models/{uuid}", get(athena::models::show))
        .route(
            "/threads",
            get(athena::threads::list).post(athena::threads::create),
        )
        .route(
            "/threads/{uuid}",
            get(athena::threads::show)
                .put(athena::threads::update)
                .delete(athena::threads::delete),
        )
        .route("/threads/{uuid}/pin", post(athena::threads::pin))
        .route("/threads/{uuid}/run", post(athena::runs::run_thread))
        .route("/threads/{uuid}/runs", get(athena::runs::list))
        .route(
            "/threads/{uuid}/generate-name",
            post(athena::runs::generate_name),
        )
        .route("/agents/{uuid}/run", post(athena::runs::run_agent))
        .route("/runs/{uuid}", get(athena::runs::show))
        .route("/runs/{uuid}/cancel", post(athena::runs::cancel))
        .route(
            "/runs/{uuid}/tool-outputs",
            post(athena::tool_outputs::submit),
        )
        .route("/runs/{uuid}/events", get(athena::runs::events))
        .route("/threads/{uuid}/unpin", post(athena::threads::unpin))
        .route(
            "/messages",
            get(athena::messages::list).post(athena::messages::create),
        )
        .route(
            "/messages/{uuid}",
            get(athena::messages::show)
                .put(athena::messages::update)
                .delete(athena::messages::delete),
        )
        .route(
            "/files",
            get(athena::files::list)
                .post(athena::files::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/files/{key}",
            get(athena::files::show).delete(athena::files::delete),
        )
        .route("/files/{key}/content", get(athena::files::content))
        .route(
            "/prompts",
            get(athena::prompts::list).post(athena::prompts::create),
        )
        .route(
            "/prompts/{uuid}",
            get(athena::prompts::show)
                .put(athena::prompts::update)
                .delete(athena::prompts::delete),
        )
        .route("/prompts/{uuid}/run", post(athena::prompts::run))
        .route(
            "/providers",
            get(athena::providers::list).post(athena::providers::create),
        )
        .route(
            "/providers/{uuid}",
            get(athena::providers::show)
                .put(athena::providers::update)
                .delete(athena::providers::delete),
        )
        .route("/memories", get(athena::memories::list))
        .route(
            "/memories/{uuid}",
            get(athena::memories::show)
                .put(athena::memories::update)
                .delete(athena::memories::delete),
        )
        .route("/agents/leaderboard", get(athena::metrics::leaderboard))
        .route("/agents/generate", post(athena::agents::generate))
        .route("/workspaces/metrics", get(athena::metrics::workspaces))
        .route("/metrics/threads", get(athena::metrics::threads))
        .route("/metrics/messages", get(athena::metrics::messages))
        .route("/metrics/agents", get(athena::metrics::agents));

    let app = Router::new()
        .nest("/api/v1", athena)
        .merge(thena::routes())
        .merge(freddy::routes())
        .merge(openai::routes())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(crate::telemetry::scrape))
        .merge(crate::openapi::docs())
        .merge(crate::console::routes())
        .fallback(middleware::route_not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::idempotency::layer,
        ))
        .layer(axum::middleware::map_response(
            middleware::method_not_allowed_body,
        ))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(crate::telemetry::record));
    middleware::with_observability(app).with_state(state)
}
