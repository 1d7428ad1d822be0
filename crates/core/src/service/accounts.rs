//! Users, sign-in, sessions and the authentication of every request.

use super::{Principal, Spool};
use crate::error::{CoreError, StoreError, ValidationErrors};
use crate::model::{NewUser, Session, User, Workspace};
use crate::secret::{Password, PlainToken, SESSION_PREFIX};
use crate::{SessionId, Timestamp, now, validate};
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Instant;

pub struct NewUserInput {
    pub email: String,
    pub password: Password,
    pub name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// A fresh session: the token is shown to the client once, here.
#[derive(Debug)]
pub struct SignIn {
    pub token: PlainToken,
    pub expires_at: Timestamp,
    pub user: User,
}

/// Verifying against this when the email is unknown keeps sign-in's timing
/// from telling which emails have accounts.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| Password::new("spool-decoy-password").hash())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, CoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(CoreError::internal)
}

impl Spool {
    pub async fn create_user(&self, input: NewUserInput) -> Result<User, CoreError> {
        let mut errors = ValidationErrors::new();
        let email = validate::email("email", &input.email, &mut errors);
        let name = validate::name("name", &input.name, &mut errors);
        let first_name =
            validate::short_text("first_name", input.first_name.as_deref(), &mut errors);
        let last_name = validate::short_text("last_name", input.last_name.as_deref(), &mut errors);
        validate::password("password", input.password.expose(), &mut errors);
        errors.into_result()?;

        let password = input.password;
        let password_hash = blocking(move || password.hash()).await?;
        let user = NewUser {
            uuid: uuid::Uuid::now_v7(),
            name,
            first_name,
            last_name,
            email,
            password_hash,
            created_at: now(),
        };
        match self.store.insert_user(user).await {
            Ok(user) => Ok(user),
            Err(StoreError::Unique(_)) => Err(CoreError::invalid(
                "email",
                "The email has already been taken.",
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Signs in with email and password. `client` is the address the
    /// request came from, when the server knows it: failed attempts are
    /// throttled per email and per address (see [`SignInThrottle`]), and an
    /// unknown email is answered exactly like a wrong password, throttle
    /// included.
    ///
    /// [`SignInThrottle`]: super::SignInThrottle
    pub async fn sign_in(
        &self,
        email: &str,
        password: Password,
        client: Option<IpAddr>,
    ) -> Result<SignIn, CoreError> {
        let mut errors = ValidationErrors::new();
        let email = validate::email("email", email, &mut errors);
        if password.expose().is_empty() {
            errors.add("password", "The password field is required.");
        }
        errors.into_result()?;

        // Before the password is checked: a refused attempt costs no argon2.
        let attempt = self
            .throttle
            .begin(&email, client, Instant::now())
            .map_err(|retry_after_secs| CoreError::RateLimited { retry_after_secs })?;
        let user = match self.check_password(&email, password).await {
            Ok(Some(user)) => {
                self.throttle.succeeded(attempt);
                user
            }
            Ok(None) => {
                return Err(CoreError::invalid(
                    "email",
                    "These credentials do not match our records.",
                ));
            }
            Err(err) => {
                self.throttle.undone(attempt);
                return Err(err);
            }
        };

        let token = PlainToken::generate(SESSION_PREFIX);
        let created_at = now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            hash: token.hash(),
            created_at,
            expires_at: created_at + self.config.session_ttl,
            revoked_at: None,
        };
        let expires_at = session.expires_at;
        self.store.insert_session(session).await?;
        tracing::info!(user.id = %user.id, "signed in");
        Ok(SignIn {
            token,
            expires_at,
            user,
        })
    }

    /// The user when `password` is theirs. An unknown email is checked
    /// against a decoy hash, so that it takes as long as a wrong password.
    async fn check_password(
        &self,
        email: &str,
        password: Password,
    ) -> Result<Option<User>, CoreError> {
        let found = self.store.user_password_hash(email).await?;
        let phc = found
            .as_ref()
            .map_or_else(|| decoy_hash().to_owned(), |(_, phc)| phc.clone());
        let matches = blocking(move || password.verify(&phc)).await?;
        Ok(found.filter(|_| matches).map(|(user, _)| user))
    }

    /// Revokes the session behind the credential. API keys are revoked
    /// through the key endpoints instead.
    pub async fn logout(&self, principal: &Principal) -> Result<(), CoreError> {
        match principal {
            Principal::Session { session, .. } => {
                self.store.revoke_session(session.hash, now()).await?;
                self.credentials.forget(&session.hash);
                Ok(())
            }
            Principal::ApiKey { .. } => Err(CoreError::Forbidden(
                "API keys cannot log out; revoke the key instead.".into(),
            )),
        }
    }

    /// Who presents this token, if anyone: an active session or API key.
    pub async fn authenticate(&self, presented: &str) -> Result<Principal, CoreError> {
        let token = PlainToken::from_presented(presented.trim());
        let at = now();
        let hash = token.hash();
        let principal = match self.credentials.get(&hash, at) {
            Some(principal) => principal,
            None => {
                let principal = self.look_up(&token, at).await?;
                self.credentials.put(hash, principal.clone());
                principal
            }
        };
        match &principal {
            Principal::ApiKey { key, .. } => {
                if key
                    .last_used_at
                    .is_none_or(|used| at - used >= self.config.api_key_touch_interval)
                {
                    self.credentials.touched(&hash, at);
                    let store = self.store.clone();
                    let id = key.id;
                    // Not awaited: recording use must not slow down or fail the request.
                    tokio::spawn(async move {
                        if let Err(err) = store.touch_api_key(id, at).await {
                            tracing::warn!(error = %err, "could not record API key use");
                        }
                    });
                }
                self.check_rate(*key.id.0.as_bytes())?;
            }
            Principal::Session { session, .. } => self.check_rate(*session.id.0.as_bytes())?,
        }
        Ok(principal)
    }

    /// The active session or API key behind `token`, from storage.
    async fn look_up(
        &self,
        token: &PlainToken,
        at: crate::Timestamp,
    ) -> Result<Principal, CoreError> {
        if token.is_api_key() {
            let key = self
                .store
                .api_key_by_hash(token.hash())
                .await?
                .filter(|key| key.is_active(at));
            let key = key.ok_or(CoreError::Unauthenticated)?;
            let user = self
                .store
                .user(key.user_id)
                .await?
                .ok_or(CoreError::Unauthenticated)?;
            Ok(Principal::ApiKey { user, key })
        } else {
            let session = self
                .store
                .session_by_hash(token.hash())
                .await?
                .filter(|s| s.is_active(at));
            let session = session.ok_or(CoreError::Unauthenticated)?;
            let user = self
                .store
                .user(session.user_id)
                .await?
                .ok_or(CoreError::Unauthenticated)?;
            Ok(Principal::Session { user, session })
        }
    }

    fn check_rate(&self, credential: [u8; 16]) -> Result<(), CoreError> {
        match &self.limiter {
            Some(limiter) => limiter
                .check(credential, Instant::now())
                .map_err(|retry_after_secs| CoreError::RateLimited { retry_after_secs }),
            None => Ok(()),
        }
    }

    /// A user with their primary workspace, as the wire shapes nest them.
    pub async fn user_with_workspace(
        &self,
        user: User,
    ) -> Result<(User, Option<Workspace>), CoreError> {
        let workspace = match user.primary_workspace_id {
            Some(id) => self.store.workspace(id).await?,
            None => None,
        };
        Ok((user, workspace))
    }
}
