//! Which rows of a listing a caller wants: the system API's `startIndex`,
//! `count` and `search`, as every store listing takes them.

/// A page of a listing: which rows, and how many match in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page<'a> {
    /// Only rows whose name contains this (case as the database compares).
    pub search: Option<&'a str>,
    /// Rows to skip.
    pub start: i64,
    /// Rows to answer at most.
    pub count: i64,
}

impl Page<'_> {
    /// The `LIKE` pattern for the search, with `%`, `_` and `\` escaped.
    pub(crate) fn pattern(&self) -> String {
        let escaped = self
            .search
            .unwrap_or_default()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    }
}
