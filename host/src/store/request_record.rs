//! What the request log keeps of a request, which requests a listing or a
//! statistic wants (`RequestFilter`, as a `WHERE` with bound values), and
//! how times are written: shared by the log (`request_log.rs`) and its
//! rollups (`request_stats.rs`).

/// One logged request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestRecord {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// The request id the client saw.
    pub request_id: String,
    /// Whether it went to the system API rather than a user route.
    pub system: bool,
    /// The route it matched (its pattern), if any.
    pub route: Option<String>,
    /// The version that answered.
    pub version: Option<i64>,
    /// The HTTP method.
    pub method: String,
    /// The path as requested.
    pub path: String,
    /// The query string (without `?`).
    pub query: String,
    /// The app of the caller's token.
    pub app: Option<String>,
    /// The user of the caller's token.
    pub user: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The `User-Agent`.
    pub user_agent: Option<String>,
    /// The answer's status.
    pub status: i64,
    /// From the request's arrival to its answer, microseconds.
    pub duration_us: i64,
    /// The request headers, credentials hidden.
    pub headers: Vec<(String, String)>,
    /// The body's beginning, up to the configured cap.
    pub body: Option<String>,
    /// What failed, when the server (not the client) failed.
    pub error: Option<Failure>,
    /// When it arrived, RFC 3339 UTC with milliseconds.
    pub created_at: String,
}

/// A server-side failure of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `trap`, `timeout`, `pool_exhausted`, `instantiate`, `action`
    /// (an internal error the action answered) or `bad_response`.
    pub kind: String,
    /// What happened, with the guest backtrace for a trap.
    pub message: String,
}

/// Which requests a listing wants; every field set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Arrived at or after (RFC 3339, compared as stored).
    pub from: Option<String>,
    /// Arrived before.
    pub to: Option<String>,
    /// The route pattern.
    pub route: Option<String>,
    /// The app name.
    pub app: Option<String>,
    /// The user name.
    pub user: Option<String>,
    /// The client address.
    pub ip: Option<String>,
    /// The status.
    pub status: Option<i64>,
    /// The method.
    pub method: Option<String>,
    /// Contained in the path, the request id or the error message.
    pub search: Option<String>,
    /// Only requests that failed on the server.
    pub errors_only: bool,
}

/// A value bound into a filtered query.
#[derive(Debug, Clone)]
pub(crate) enum Bound {
    Text(String),
    Int(i64),
}

impl RequestFilter {
    /// The `WHERE …` clause (empty when nothing is asked) and its values,
    /// numbered from `$1`.
    pub(crate) fn clause(&self) -> (String, Vec<Bound>) {
        let mut conditions = Vec::new();
        let mut values = Vec::new();
        let mut bind = |condition: &str, value: Bound, values: &mut Vec<Bound>| {
            values.push(value);
            conditions.push(condition.replace('?', &format!("${}", values.len())));
        };
        let text = |v: &Option<String>| v.clone().map(Bound::Text);
        for (condition, value) in [
            ("created_at >= ?", text(&self.from)),
            ("created_at < ?", text(&self.to)),
            ("route = ?", text(&self.route)),
            ("app = ?", text(&self.app)),
            ("user_name = ?", text(&self.user)),
            ("ip = ?", text(&self.ip)),
            ("status = ?", self.status.map(Bound::Int)),
            ("method = ?", text(&self.method)),
        ] {
            if let Some(value) = value {
                bind(condition, value, &mut values);
            }
        }
        if let Some(search) = &self.search {
            let escaped = search
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            values.push(Bound::Text(format!("%{escaped}%")));
            let n = values.len();
            conditions.push(format!(
                "(path LIKE ${n} ESCAPE '\\' OR request_id LIKE ${n} ESCAPE '\\' \
                 OR error_message LIKE ${n} ESCAPE '\\')"
            ));
        }
        if self.errors_only {
            conditions.push("error_kind IS NOT NULL".to_owned());
        }
        if conditions.is_empty() {
            (String::new(), values)
        } else {
            (format!(" WHERE {}", conditions.join(" AND ")), values)
        }
    }
}

/// Binds `values` in order.
/// The filter's clause holds only column names and placeholders; the
/// values are bound here.
pub(crate) fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    values: &[Bound],
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for value in values {
        query = match value {
            Bound::Text(text) => query.bind(text.clone()),
            Bound::Int(n) => query.bind(*n),
        };
    }
    query
}

/// `at` as the request log stores times: RFC 3339, UTC, milliseconds, so
/// text order is time order.
pub fn timestamp(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_binds_every_value_it_names() {
        let filter = RequestFilter {
            route: Some("/todo".into()),
            status: Some(500),
            search: Some("50%_off".into()),
            errors_only: true,
            ..RequestFilter::default()
        };
        let (clause, values) = filter.clause();
        assert_eq!(
            clause,
            " WHERE route = $1 AND status = $2 AND (path LIKE $3 ESCAPE '\\' OR request_id LIKE $3 ESCAPE '\\' OR error_message LIKE $3 ESCAPE '\\') AND error_kind IS NOT NULL"
        );
        assert_eq!(values.len(), 3);
        assert!(matches!(&values[2], Bound::Text(t) if t == "%50\\%\\_off%"));
        assert_eq!(RequestFilter::default().clause().0, "");
    }
}
