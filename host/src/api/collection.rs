//! The collection envelope of every listing:
//! `{"totalResults","startIndex","itemsPerPage","entry":[…]}`, with the
//! `startIndex`, `count` and `search` query parameters.

use crate::problem::Problem;
use crate::store::Page;
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// Entries a page has when the caller does not say.
pub const DEFAULT_COUNT: i64 = 16;
/// Entries a page may have at most.
pub const MAX_COUNT: i64 = 1024;

/// One page of a collection.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Collection<T> {
    /// How many entries match in all.
    pub total_results: i64,
    /// The position of the first entry of this page.
    pub start_index: i64,
    /// How many entries a page has.
    pub items_per_page: i64,
    /// This page's entries.
    pub entry: Vec<T>,
}

/// The query parameters of a listing, as sent (checked by [`Self::page`]).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CollectionQuery {
    /// The position of the first entry (0 when absent).
    pub start_index: Option<String>,
    /// Entries per page (16 when absent, at most 1024).
    pub count: Option<String>,
    /// Only entries whose name contains this.
    pub search: Option<String>,
}

impl CollectionQuery {
    /// The page asked for, or a 400 problem naming the parameter.
    pub fn page(&self) -> Result<Page<'_>, Problem> {
        let number = |name: &str, value: &Option<String>, default: i64, max: i64| match value {
            None => Ok(default),
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| {
                    Problem::new(StatusCode::BAD_REQUEST)
                        .detail(format!("`{name}` must be a whole number from 0 to {max}"))
                }),
        };
        Ok(Page {
            start: number("startIndex", &self.start_index, 0, i64::MAX)?,
            count: number("count", &self.count, DEFAULT_COUNT, MAX_COUNT)?,
            search: self.search.as_deref().filter(|s| !s.is_empty()),
        })
    }
}

impl<T> Collection<T> {
    /// The envelope of `entry`, one page of `total` matches.
    pub fn new(page: Page<'_>, total: i64, entry: Vec<T>) -> Self {
        Self {
            total_results: total,
            start_index: page.start,
            items_per_page: page.count,
            entry,
        }
    }
}
