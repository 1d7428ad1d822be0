//! First start: an empty database gets an owner and a workspace, and the
//! operator is told once how to sign in. Later starts find a user and skip
//! this, so the argon2 hashing here never slows an ordinary start.

use crate::commands::explain;
use anyhow::Context;
use rand::Rng;
use rand::distr::Alphanumeric;
use spool_core::secret::Password;
use spool_core::service::NewUserInput;
use spool_core::{CoreError, Spool};
use std::net::SocketAddr;

pub const DEFAULT_ADMIN_EMAIL: &str = "admin@localhost";
const WORKSPACE_NAME: &str = "Default";
const GENERATED_PASSWORD_CHARS: usize = 20;

/// The owner to create: from `SPOOL_ADMIN_EMAIL` / `SPOOL_ADMIN_PASSWORD`,
/// else the defaults and a generated password.
pub struct Admin {
    pub email: Option<String>,
    pub password: Option<Password>,
}

impl Admin {
    /// The password is read from the environment only: a flag would show it
    /// to every local user through `ps`.
    pub fn from_env(email: Option<String>) -> Self {
        let password = std::env::var("SPOOL_ADMIN_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Password::new);
        Self {
            email: email.filter(|e| !e.trim().is_empty()),
            password,
        }
    }
}

pub async fn first_start(spool: &Spool, admin: Admin, addr: SocketAddr) -> anyhow::Result<()> {
    if spool
        .store()
        .count_users()
        .await
        .context("first start: cannot count users")?
        > 0
    {
        return Ok(());
    }
    let email = admin
        .email
        .unwrap_or_else(|| DEFAULT_ADMIN_EMAIL.to_owned());
    let (password, generated) = match admin.password {
        Some(password) => (password, None),
        None => {
            let password = generate_password();
            (Password::new(password.clone()), Some(password))
        }
    };
    let input = NewUserInput {
        email,
        password,
        name: "Admin".into(),
        first_name: None,
        last_name: None,
    };
    let user = match spool.create_user(input).await {
        Ok(user) => user,
        // Another process sharing the database bootstrapped first.
        Err(CoreError::Validation(_)) if spool.store().count_users().await? > 0 => return Ok(()),
        Err(err) => {
            return Err(explain(err)).context(
                "first start: cannot create the owner from SPOOL_ADMIN_EMAIL/SPOOL_ADMIN_PASSWORD",
            );
        }
    };
    let workspace = spool
        .create_workspace_as_operator(user.id, WORKSPACE_NAME)
        .await
        .map_err(explain)
        .context("first start: cannot create the workspace")?;
    tracing::info!(user.id = %user.id, workspace.id = %workspace.id, "first start: created the owner and a workspace");

    let url = format!("http://{}/api/v1/auth/sign-in", reachable(addr));
    println!(
        "First start: created the owner {} and the workspace \"{}\" ({}).",
        user.email, workspace.name, workspace.id
    );
    match generated {
        Some(password) => {
            println!("Sign in at {url} with");
            println!("  email:    {}", user.email);
            println!("  password: {password}");
            println!("This password is shown only this once; keep it somewhere safe.");
        }
        None => println!(
            "Sign in at {url} as {} with the password from SPOOL_ADMIN_PASSWORD.",
            user.email
        ),
    }
    Ok(())
}

fn generate_password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(GENERATED_PASSWORD_CHARS)
        .map(char::from)
        .collect()
}

/// The address a client on this machine would use: a wildcard bind is
/// reached through loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    let ip = match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    SocketAddr::new(ip, addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_random() {
        let (a, b) = (generate_password(), generate_password());
        assert_eq!(a.chars().count(), GENERATED_PASSWORD_CHARS);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn wildcard_binds_are_shown_as_loopback() {
        assert_eq!(
            reachable("0.0.0.0:80".parse().unwrap()).to_string(),
            "127.0.0.1:80"
        );
        assert_eq!(
            reachable("[::]:80".parse().unwrap()).to_string(),
            "[::1]:80"
        );
        assert_eq!(
            reachable("10.0.0.1:80".parse().unwrap()).to_string(),
            "10.0.0.1:80"
        );
    }
}
