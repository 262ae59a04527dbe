//! The query of the request log's listings (and of the statistics): the
//! collection parameters plus `from`, `to`, `route`, `app`, `user`, `ip`,
//! `status` and `method`, each checked and turned into the store's filter
//! or a 400 problem naming the parameter.

use crate::api::CollectionQuery;
use crate::problem::Problem;
use crate::store::Page;
use crate::store::request_log::RequestFilter;
use http::StatusCode;
use serde::Deserialize;

/// The request log's query parameters, as sent.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// The position of the first entry (0 when absent).
    pub start_index: Option<String>,
    /// Entries per page (16 when absent, at most 1024).
    pub count: Option<String>,
    /// Contained in the path, the request id or the error message.
    pub search: Option<String>,
    /// Arrived at or after: a date (`2026-12-01`) or an RFC 3339 time.
    pub from: Option<String>,
    /// Arrived before: a date (its midnight) or an RFC 3339 time.
    pub to: Option<String>,
    /// The route's path as declared (`/todo/:id`).
    pub route: Option<String>,
    /// The app's name.
    pub app: Option<String>,
    /// The user's name.
    pub user: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The answer's status (`500`).
    pub status: Option<String>,
    /// The method (`GET`).
    pub method: Option<String>,
}

fn refuse(name: &str, expected: &str) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST).detail(format!("`{name}` must be {expected}"))
}

/// A date (its midnight, UTC) or an RFC 3339 time, or a 400 naming the
/// parameter `name`.
pub fn instant(name: &str, text: &str) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&chrono::Utc))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
        })
        .map_err(|_| refuse(name, "a date (2026-12-01) or an RFC 3339 time"))
}

/// A date or an RFC 3339 time as the request log stores times.
fn time(name: &str, text: &str) -> Result<String, Problem> {
    Ok(instant(name, text)?
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string())
}

impl LogQuery {
    /// The store's filter and the page, or a 400 naming the parameter.
    pub fn filter(&self, errors_only: bool) -> Result<(RequestFilter, Page<'static>), Problem> {
        let asked = CollectionQuery {
            start_index: self.start_index.clone(),
            count: self.count.clone(),
            search: None,
        };
        let Page { start, count, .. } = asked.page()?;
        let page = Page {
            search: None,
            start,
            count,
        };
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let status = match given(&self.status) {
            None => None,
            Some(text) => Some(
                text.parse::<i64>()
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .ok_or_else(|| refuse("status", "an HTTP status from 100 to 599"))?,
            ),
        };
        let method = match given(&self.method) {
            None => None,
            Some(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) => {
                Some(text.to_ascii_uppercase())
            }
            Some(_) => return Err(refuse("method", "an HTTP method (GET)")),
        };
        let filter = RequestFilter {
            from: given(&self.from).map(|t| time("from", &t)).transpose()?,
            to: given(&self.to).map(|t| time("to", &t)).transpose()?,
            route: given(&self.route),
            app: given(&self.app),
            user: given(&self.user),
            ip: given(&self.ip),
            status,
            method,
            search: given(&self.search),
            errors_only,
        };
        Ok((filter, page))
    }
}
