//! OpenAI-style keyset list parameters, shared by thena and freddy:
//! `limit`, and `after` or `before` holding either a cursor a page returned
//! or an item's id (which the core places in the list).

use crate::error::ApiError;
use crate::query::QueryPairs;
use spool_core::CoreError;
use spool_core::listing::{Cursor, Paging};

/// Items per page when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 20;

/// Where a page starts: a cursor from a previous page, or an item's id.
pub enum Mark {
    Cursor(Cursor),
    Id(uuid::Uuid),
}

/// `limit`, and `after` or `before`.
pub struct ListParams {
    pub limit: Option<u32>,
    pub after: Option<Mark>,
    pub before: Option<Mark>,
}

impl ListParams {
    /// Reads the parameters; `parse_id` recognises the dialect's ids.
    pub fn parse<D>(
        query: &QueryPairs<D>,
        parse_id: impl Fn(&str) -> Option<uuid::Uuid>,
    ) -> Result<Self, ApiError> {
        let mark = |field: &str| -> Result<Option<Mark>, ApiError> {
            let Some(text) = query.get(field).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            Ok(Some(match parse_id(text) {
                Some(id) => Mark::Id(id),
                None => Mark::Cursor(Cursor::decode(field, text)?),
            }))
        };
        Ok(Self {
            limit: query.u32("limit")?,
            after: mark("after")?,
            before: mark("before")?,
        })
    }

    /// The keyset request once ids are placed, and whether it reads backwards.
    pub fn paging(
        limit: Option<u32>,
        after: Option<Cursor>,
        before: Option<Cursor>,
    ) -> Result<(Paging, bool), ApiError> {
        let backwards = before.is_some();
        Ok((
            Paging::keyset(after, before, limit, DEFAULT_LIMIT)?,
            backwards,
        ))
    }
}

/// An id that names nothing the caller can list is a bad parameter, not a 404.
pub fn unknown_mark(field: &'static str) -> impl Fn(CoreError) -> CoreError {
    move |err| match err {
        CoreError::NotFound(_) => {
            CoreError::invalid(field, format!("The {field} names nothing in this list."))
        }
        other => other,
    }
}
