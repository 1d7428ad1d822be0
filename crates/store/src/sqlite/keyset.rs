//! Keyset paging shared by the thread and message lists: which way to fetch,
//! and which side of the cursor to keep. Keyset, not OFFSET: a page starts
//! from a key, so rows inserted meanwhile neither repeat nor go missing.

use spool_core::listing::Cursor;

pub(super) struct Keyset {
    /// Rows strictly past this cursor in fetch order: `<` when fetching
    /// descending, `>` when ascending.
    pub bound: Option<(&'static str, Cursor)>,
    /// `ASC` or `DESC`: the order the rows are fetched in.
    pub order: &'static str,
    /// Fetched in reverse (for `before`); `cursor_page` turns them round.
    pub backwards: bool,
    pub had_cursor: bool,
}

/// `descending` is the list's order; `after`/`before` are in list order.
pub(super) fn plan(descending: bool, after: Option<Cursor>, before: Option<Cursor>) -> Keyset {
    let backwards = after.is_none() && before.is_some();
    let fetch_descending = descending != backwards;
    let op = if fetch_descending { "<" } else { ">" };
    Keyset {
        bound: after.or(before).map(|cursor| (op, cursor)),
        order: if fetch_descending { "DESC" } else { "ASC" },
        backwards,
        had_cursor: after.is_some() || before.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(key: i64) -> Option<Cursor> {
        Some(Cursor {
            key,
            id: Uuid::nil(),
        })
    }

    #[test]
    fn before_fetches_against_the_list_order() {
        let first = plan(true, None, None);
        assert_eq!((first.bound.is_none(), first.order), (true, "DESC"));
        let next = plan(true, at(5), None);
        assert_eq!(
            (next.bound.unwrap().0, next.order, next.backwards),
            ("<", "DESC", false)
        );
        let prev = plan(true, None, at(5));
        assert_eq!(
            (prev.bound.unwrap().0, prev.order, prev.backwards),
            (">", "ASC", true)
        );
        let prev_asc = plan(false, None, at(5));
        assert_eq!((prev_asc.bound.unwrap().0, prev_asc.order), ("<", "DESC"));
        assert!(prev_asc.had_cursor);
    }
}
