//! How lists are asked for and answered: offset pages (athena's Laravel
//! paginator) or keyset cursors (athena `cursor`, thena/freddy `after`/`before`).
//! Keyset, not OFFSET, for cursors: stable under concurrent inserts.

use crate::error::CoreError;
use crate::paging::{MAX_PER_PAGE, Page, PageRequest};
use uuid::Uuid;

/// A position in a keyset-ordered list: the sort key of a row (microseconds
/// of a timestamp, or a sequence number) and its id as the tie-breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub key: i64,
    pub id: Uuid,
}

impl Cursor {
    /// An opaque token for clients.
    pub fn encode(&self) -> String {
        hex::encode(format!("{}.{}", self.key, self.id.simple()))
    }

    pub fn decode(field: &str, token: &str) -> Result<Self, CoreError> {
        let invalid = || {
            CoreError::invalid(
                field,
                format!("The {field} is not a cursor this server issued."),
            )
        };
        let bytes = hex::decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (key, id) = text.split_once('.').ok_or_else(invalid)?;
        Ok(Self {
            key: key.parse().map_err(|_| invalid())?,
            id: Uuid::try_parse(id).map_err(|_| invalid())?,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    Offset(PageRequest),
    /// Rows strictly after `after`, or strictly before `before` (in list
    /// order), at most `limit` of them.
    Keyset {
        after: Option<Cursor>,
        before: Option<Cursor>,
        limit: u32,
    },
}

impl Paging {
    pub fn keyset(
        after: Option<Cursor>,
        before: Option<Cursor>,
        limit: Option<u32>,
        default: u32,
    ) -> Result<Self, CoreError> {
        let limit = limit.unwrap_or(default);
        if !(1..=MAX_PER_PAGE).contains(&limit) {
            return Err(CoreError::invalid(
                "limit",
                format!("The limit must be between 1 and {MAX_PER_PAGE}."),
            ));
        }
        if after.is_some() && before.is_some() {
            return Err(CoreError::invalid(
                "before",
                "Give either after or before, not both.",
            ));
        }
        Ok(Paging::Keyset {
            after,
            before,
            limit,
        })
    }
}

/// One keyset page. `next` continues after the last item, `prev` before the
/// first; each is `None` at that end of the list.
#[derive(Clone, Debug, PartialEq)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
    pub prev: Option<Cursor>,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Listing<T> {
    Page(Page<T>),
    Cursor(CursorPage<T>),
}

impl<T> Listing<T> {
    /// The keyset page a request with keyset paging gets; an offset page
    /// there is a bug.
    pub fn into_cursor(self) -> Result<CursorPage<T>, crate::CoreError> {
        match self {
            Listing::Cursor(page) => Ok(page),
            Listing::Page(_) => Err(crate::CoreError::Internal(
                "a keyset request answered an offset page".into(),
            )),
        }
    }

    pub fn items(&self) -> &[T] {
        match self {
            Listing::Page(page) => &page.items,
            Listing::Cursor(page) => &page.items,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        match self {
            Listing::Page(page) => Listing::Page(page.map(f)),
            Listing::Cursor(page) => Listing::Cursor(CursorPage {
                items: page.items.into_iter().map(f).collect(),
                next: page.next,
                prev: page.prev,
                limit: page.limit,
            }),
        }
    }
}

/// Builds a keyset page from rows fetched in list order with one extra row
/// (`limit + 1`) to tell whether more follow. `backwards` means the rows
/// were fetched in reverse (for `before`) and must be turned around.
pub fn cursor_page<T>(
    mut rows: Vec<T>,
    limit: u32,
    backwards: bool,
    had_cursor: bool,
    cursor_of: impl Fn(&T) -> Cursor,
) -> CursorPage<T> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    keyset_page(rows, more, limit, backwards, had_cursor, cursor_of)
}

/// As [`cursor_page`], for rows already cut to the page — by `limit` or by
/// a byte bound — with `more` saying whether rows follow them in fetch order.
pub fn keyset_page<T>(
    mut rows: Vec<T>,
    more: bool,
    limit: u32,
    backwards: bool,
    had_cursor: bool,
    cursor_of: impl Fn(&T) -> Cursor,
) -> CursorPage<T> {
    if backwards {
        rows.reverse();
    }
    let (more_after, more_before) = if backwards {
        (had_cursor, more)
    } else {
        (more, had_cursor)
    };
    let next = if more_after {
        rows.last().map(&cursor_of)
    } else {
        None
    };
    let prev = if more_before {
        rows.first().map(&cursor_of)
    } else {
        None
    };
    CursorPage {
        items: rows,
        next,
        prev,
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            key: 1_700_000_000_123_456,
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode("cursor", &cursor.encode()).unwrap(), cursor);
        assert!(Cursor::decode("cursor", "zz").is_err());
        assert!(Cursor::decode("cursor", &hex::encode("12.nope")).is_err());
    }

    #[test]
    fn pages_know_their_ends() {
        let cursor = |n: &i64| Cursor {
            key: *n,
            id: Uuid::nil(),
        };
        let first = cursor_page(vec![1, 2, 3], 2, false, false, cursor);
        assert_eq!(first.items, [1, 2]);
        assert_eq!(first.next.map(|c| c.key), Some(2));
        assert_eq!(first.prev, None);
        let last = cursor_page(vec![3], 2, false, true, cursor);
        assert_eq!((last.next, last.prev.map(|c| c.key)), (None, Some(3)));
        // Fetched backwards from before=4: rows 3, 2 (and 1 as the extra).
        let back = cursor_page(vec![3, 2, 1], 2, true, true, cursor);
        assert_eq!(back.items, [2, 3]);
        assert_eq!(
            (back.next.map(|c| c.key), back.prev.map(|c| c.key)),
            (Some(3), Some(2))
        );
    }

    #[test]
    fn a_page_cut_short_continues_where_it_stopped() {
        let cursor = |n: &i64| Cursor {
            key: *n,
            id: Uuid::nil(),
        };
        // Asked for 5, the byte bound let 2 through, more rows follow.
        let cut = keyset_page(vec![1, 2], true, 5, false, false, cursor);
        assert_eq!((cut.next.map(|c| c.key), cut.prev), (Some(2), None));
        // Backwards from before=9: rows 8, 7 kept, the rest cut.
        let back = keyset_page(vec![8, 7], true, 5, true, true, cursor);
        assert_eq!(back.items, [7, 8]);
        assert_eq!(back.prev.map(|c| c.key), Some(7));
    }
}
