//! Typed ids from the URL path. A malformed id answers 404 like an unknown
//! one: ids are opaque to clients, and a guess reveals nothing.

use crate::error::{ApiError, Dialect};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::{Deserialize, Deserializer};
use spool_core::{
    AgentId, ApiKeyId, FileId, MemoryId, MessageId, PromptId, ProviderId, RunId, ThreadId, UserId,
    WebhookId, WorkspaceId,
};
use std::marker::PhantomData;

/// Something that can be read from the path's parameters, in order.
pub trait FromPath: Sized {
    /// The resource named in the 404 message.
    const WHAT: &'static str;
    fn from_path(values: &[&str]) -> Option<Self>;
}

impl FromPath for WorkspaceId {
    const WHAT: &'static str = "Workspace";
    fn from_path(values: &[&str]) -> Option<Self> {
        WorkspaceId::parse(values.first()?)
    }
}

impl FromPath for ApiKeyId {
    const WHAT: &'static str = "API key";
    fn from_path(values: &[&str]) -> Option<Self> {
        ApiKeyId::parse(values.first()?)
    }
}

impl FromPath for MemoryId {
    const WHAT: &'static str = "Memory";
    fn from_path(values: &[&str]) -> Option<Self> {
        MemoryId::parse(values.first()?)
    }
}

impl FromPath for PromptId {
    const WHAT: &'static str = "Prompt";
    fn from_path(values: &[&str]) -> Option<Self> {
        PromptId::parse(values.first()?)
    }
}

impl FromPath for ProviderId {
    const WHAT: &'static str = "Provider";
    fn from_path(values: &[&str]) -> Option<Self> {
        ProviderId::parse(values.first()?)
    }
}

impl FromPath for WebhookId {
    const WHAT: &'static str = "Webhook";
    fn from_path(values: &[&str]) -> Option<Self> {
        WebhookId::parse(values.first()?)
    }
}

impl FromPath for (WorkspaceId, UserId) {
    const WHAT: &'static str = "Member";
    fn from_path(values: &[&str]) -> Option<Self> {
        let workspace = WorkspaceId::parse(values.first()?)?;
        let user = values.get(1)?.parse().ok().filter(|id| *id > 0)?;
        Some((workspace, UserId(user)))
    }
}

macro_rules! uuid_path {
    ($($ty:ident => $what:literal),* $(,)?) => {$(
        impl FromPath for $ty {
            const WHAT: &'static str = $what;
            fn from_path(values: &[&str]) -> Option<Self> {
                $ty::parse(values.first()?)
            }
        }
    )*};
}

uuid_path!(AgentId => "Agent", ThreadId => "Thread", MessageId => "Message", RunId => "Run", FileId => "File");

pub struct PathId<D, T>(pub T, pub PhantomData<D>);

impl<D: Dialect, T: FromPath, S: Send + Sync> FromRequestParts<S> for PathId<D, T> {
    type Rejection = D::Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found(T::WHAT))?;
        let values: Vec<&str> = params.iter().map(|(_, value)| value).collect();
        T::from_path(&values)
            .map(|id| PathId(id, PhantomData))
            .ok_or_else(|| ApiError::not_found(T::WHAT).into())
    }
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(de).map(Some)
}

/// [`whole_number`] that tells an absent field (`None`) from `null`
/// (`Some(None)`).
pub fn whole_number_or_null<'de, T: TryFrom<u64>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Option<T>>, D::Error> {
    whole_number(de).map(Some)
}

/// A whole number as JSON writes it either way, `5` or `5.0` (JSON has one
/// number type; clients in JavaScript or Python may send either). A fraction
/// or a number out of range is refused.
pub fn whole_number<'de, T: TryFrom<u64>, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<T>, D::Error> {
    use serde::de::Error;
    let Some(number) = Option::<serde_json::Number>::deserialize(de)? else {
        return Ok(None);
    };
    let whole = number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    });
    let Some(whole) = whole else {
        return Err(D::Error::custom(format!(
            "invalid value: {number}, expected a whole number"
        )));
    };
    T::try_from(whole)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("invalid value: {number}, out of range")))
}
