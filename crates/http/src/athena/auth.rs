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
pub struct SignInBody {
    #[schema(example = "ada@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignInResponse {
    /// Shown once; send it as `Authorization: Bearer <token>`.
    pub token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    pub expires_at: String,
    pub user: UserBody,
}

#[derive(Serialize, ToSchema)]
pub struct MessageBody {
    pub message: String,
}

/// Sign in with email and password; answers a session token. Failed
/// attempts are throttled per email and per client address: past the budget,
/// 429 with `Retry-After`, for unknown emails alike.
#[utoipa::path(post, path = "/api/v1/auth/sign-in", tag = "Authentication", request_body = SignInBody,
    responses((status = 200, body = Data<SignInResponse>), (status = 422, description = "Wrong credentials or invalid body"),
        (status = 429, description = "Too many failed sign-ins for the email or from the address; see Retry-After")))]
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

/// Revoke the session token used for this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "Authentication", security(("bearer" = [])),
    responses((status = 200, body = MessageBody), (status = 401)))]
pub async fn logout(
    State(state): State<AppState>,
    Auth(principal, _): Auth<Athena>,
) -> Result<axum::Json<MessageBody>> {
    state.spool.logout(&principal).await?;
    Ok(axum::Json(MessageBody {
        message: "Successfully logged out.".into(),
    }))
}

/// The user behind the credential, with their primary workspace.
#[utoipa::path(get, path = "/api/v1/user", tag = "User", security(("bearer" = []), ("api_key" = [])),
    responses((status = 200, body = Data<UserBody>), (status = 401)))]
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
