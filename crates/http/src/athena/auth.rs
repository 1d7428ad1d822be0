//! Sign-in, logout and the current user.

use super::wire::{Data, UserBody, data};
use super::{Athena, Result};
use crate::AppState;
use crate::extract::{Auth, Json};
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use serde::{Deserialize, Serialize};
use spool_core::secret::Password;
use std::net::SocketAddr;
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AthenaSignIn)]
pub struct SignInBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = AthenaSession)]
pub struct SignInResponse {
    /// Shown once (`sps_` + 64 hex); send it as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(schema_with = token_type)]
    pub token_type: &'static str,
    #[schema(format = DateTime)]
    pub expires_at: String,
    pub user: UserBody,
}

fn token_type() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["Bearer"]))
        .build()
}

/// A notice: `{"message": "..."}`.
#[derive(Serialize, ToSchema)]
#[schema(as = AthenaNotice)]
pub struct MessageBody {
    #[schema(example = "Successfully logged out.")]
    pub message: String,
}

/// Sign in with email and password
///
/// Answers a session token. Failed attempts are throttled per email and per
/// client address: past the budget, 429 with `Retry-After`, for unknown
/// emails alike.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "athena: auth", operation_id = "athena_sign_in",
    request_body = SignInBody,
    responses((status = 200, description = "Signed in", body = super::openapi::AthenaSessionResponse),
        (status = 422, description = "Wrong credentials (the same answer for an unknown email), or an invalid body",
            body = super::openapi::ValidationErrorBody),
        (status = 429, description = "Too many failed sign-ins for the email or from the address",
            body = super::openapi::ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait")))))]
pub async fn sign_in(
    State(state): State<AppState>,
    connection: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(body, _): Json<Athena, SignInBody>,
) -> Result<axum::Json<Data<SignInResponse>>> {
    // The peer of the TCP connection, as the server inserted it; never a
    // client-sent header such as X-Forwarded-For. Absent, only the email's
    // budget applies.
    let client = connection.map(|Extension(ConnectInfo(peer))| peer.ip());
    let signed_in = state
        .spool
        .sign_in(&body.email, Password::new(body.password), client)
        .await?;
    let (user, workspace) = state.spool.user_with_workspace(signed_in.user).await?;
    Ok(data(SignInResponse {
        token: signed_in.token.expose().to_owned(),
        token_type: "Bearer",
        expires_at: super::wire::time(signed_in.expires_at),
        user: UserBody::new(user, workspace),
    }))
}

/// Log out
///
/// Revokes the session token used for this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "athena: auth", operation_id = "athena_logout",
    security(("bearer" = [])),
    responses((status = 200, description = "The session is revoked", body = MessageBody),
        (status = 403, description = "An API key cannot log out (revoke it instead)", body = super::openapi::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
) -> Result<axum::Json<MessageBody>> {
    state.spool.logout(&principal).await?;
    Ok(axum::Json(MessageBody {
        message: "Successfully logged out.".into(),
    }))
}

/// The current user
///
/// The user behind the credential, with their primary workspace.
#[utoipa::path(get, path = "/api/v1/user", tag = "athena: auth", operation_id = "athena_get_current_user",
    security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, description = "The current user", body = super::openapi::AthenaUserResponse)))]
pub async fn current_user(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
) -> Result<axum::Json<Data<UserBody>>> {
    let (user, workspace) = state
        .spool
        .user_with_workspace(principal.user().clone())
        .await?;
    Ok(data(UserBody::new(user, workspace)))
}
