//! Liveness and readiness for orchestrators and load balancers.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(schema_with = health_status)]
    pub status: &'static str,
}

/// Whether the database answers, and which one it is.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` (with 503).
    #[schema(schema_with = readiness_status)]
    pub status: &'static str,
    /// The storage backend: `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
}

fn text_enum(values: &[&str]) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

fn health_status() -> utoipa::openapi::schema::Object {
    text_enum(&["ok"])
}

fn readiness_status() -> utoipa::openapi::schema::Object {
    text_enum(&["ready", "unavailable"])
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", operation_id = "ops_health",
    responses((status = 200, description = "Up", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// The database answers.
#[utoipa::path(get, path = "/readyz", tag = "ops", operation_id = "ops_readiness",
    responses((status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "The database does not answer", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = state.spool.store().backend();
    match state.spool.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Readiness {
                status: "ready",
                database,
            }),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Readiness {
                    status: "unavailable",
                    database,
                }),
            )
        }
    }
}
