//! Offset pages (athena's Laravel paginator). Keyset cursors arrive with the
//! thread and message lists.

pub const DEFAULT_PER_PAGE: u32 = 15;
pub const MAX_PER_PAGE: u32 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl PageRequest {
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub request: PageRequest,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            request: self.request,
        }
    }

    /// Fewer rows than asked although rows follow: a list bounded in bytes
    /// (messages) stopped early. The client continues after the last row
    /// (athena's `links.next` is then a cursor link), not at the next page.
    pub fn is_cut(&self) -> bool {
        let count = self.items.len() as u64;
        count < u64::from(self.request.per_page) && self.request.offset() + count < self.total
    }

    pub fn last_page(&self) -> u32 {
        let per_page = u64::from(self.request.per_page.max(1));
        u32::try_from(self.total.div_ceil(per_page).max(1)).unwrap_or(u32::MAX)
    }
}

impl PageRequest {
    /// Checks client-given `page` and `per_page` (both optional).
    pub fn parse(page: Option<u32>, per_page: Option<u32>) -> Result<Self, crate::CoreError> {
        let mut errors = crate::ValidationErrors::new();
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 {
            errors.add("page", "The page must be at least 1.");
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.add(
                "per_page",
                format!("The per page must be between 1 and {MAX_PER_PAGE}."),
            );
        }
        errors.into_result().map(|()| Self { page, per_page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds() {
        assert_eq!(
            PageRequest::parse(None, None).unwrap(),
            PageRequest {
                page: 1,
                per_page: 15
            }
        );
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(None, Some(100)).is_ok());
        assert!(PageRequest::parse(None, Some(101)).is_err());
        assert!(PageRequest::parse(None, Some(0)).is_err());
    }

    #[test]
    fn last_page_counts_partial_pages() {
        let page = |total| Page::<()> {
            items: vec![],
            total,
            request: PageRequest {
                page: 1,
                per_page: 15,
            },
        };
        assert_eq!(page(0).last_page(), 1);
        assert_eq!(page(15).last_page(), 1);
        assert_eq!(page(16).last_page(), 2);
    }

    #[test]
    fn a_short_page_with_rows_after_it_is_cut() {
        let page = |items: usize, page: u32, total| Page {
            items: vec![(); items],
            total,
            request: PageRequest { page, per_page: 10 },
        };
        assert!(!page(10, 1, 30).is_cut());
        assert!(page(4, 1, 30).is_cut());
        assert!(!page(4, 3, 24).is_cut(), "the last page is short by nature");
        assert!(!page(0, 5, 24).is_cut(), "past the end");
    }
}
