//! A query string as name/value pairs, for lists whose parameters serde
//! cannot describe (`metadata[key]=value`). Typed getters answer 422 naming
//! the parameter.

use crate::error::{ApiError, Dialect};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;

pub struct QueryPairs<D>(pub Vec<(String, String)>, pub PhantomData<D>);

impl<D: Dialect, S: Send + Sync> FromRequestParts<S> for QueryPairs<D> {
    type Rejection = D::Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // No text field accepts NUL (PostgreSQL cannot store it).
        if let Some((name, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            let name = name.replace('\0', "");
            let message = format!("The {name} may not contain NUL characters.");
            return Err(D::Error::from(ApiError::invalid(&name, message)));
        }
        Ok(QueryPairs(pairs, PhantomData))
    }
}

impl<D> QueryPairs<D> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    pub fn u32(&self, name: &str) -> Result<Option<u32>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::invalid(name, format!("The {name} must be a whole number."))
                })
            })
            .transpose()
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        self.get(name)
            .map(|v| match v {
                "true" | "1" => Ok(true),
                "false" | "0" => Ok(false),
                _ => Err(ApiError::invalid(
                    name,
                    format!("The {name} must be true or false."),
                )),
            })
            .transpose()
    }

    pub fn timestamp(&self, name: &str) -> Result<Option<spool_core::Timestamp>, ApiError> {
        self.get(name)
            .map(|v| {
                let parsed = chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| t.to_utc())
                    .or_else(|_| {
                        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                    });
                parsed.map_err(|_| {
                    ApiError::invalid(
                        name,
                        format!("The {name} must be a date (YYYY-MM-DD) or an RFC 3339 time."),
                    )
                })
            })
            .transpose()
    }

    /// A UUID-typed id; malformed answers 422.
    pub fn id<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        self.get(name)
            .map(|v| {
                parse(v).ok_or_else(|| {
                    ApiError::invalid(name, format!("The {name} must be a valid UUID."))
                })
            })
            .transpose()
    }

    /// `prefix[key]=value` pairs (e.g. `metadata[tier]=gold`).
    pub fn bracketed(&self, prefix: &str) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(k, v)| {
                let key = k
                    .strip_prefix(prefix)?
                    .strip_prefix('[')?
                    .strip_suffix(']')?;
                Some((key.to_owned(), v.clone()))
            })
            .collect()
    }
}
