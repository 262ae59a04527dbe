//! The request log (`fusio_request_log`): one row per request the server
//! answered, with what failed when something did (the error log is its
//! rows with an error). Written in batches by the request-log writer, read
//! by `/backend/log` with filters, pruned by the retention setting.

use super::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;

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

const COLUMNS: &str = "id, request_id, system, route, version, method, path, query, app, user_name, \
     ip, user_agent, status, duration_us, headers, body, error_kind, error_message, created_at";

/// Rows per `INSERT`: 18 values each, well under SQLite's bound limit.
const ROWS_PER_INSERT: usize = 128;

fn record_from(row: &AnyRow) -> Result<RequestRecord, StoreError> {
    let headers: String = row.try_get(14)?;
    let kind: Option<String> = row.try_get(16)?;
    let message: Option<String> = row.try_get(17)?;
    Ok(RequestRecord {
        id: row.try_get(0)?,
        request_id: row.try_get(1)?,
        system: row.try_get::<i64, _>(2)? != 0,
        route: row.try_get(3)?,
        version: row.try_get(4)?,
        method: row.try_get(5)?,
        path: row.try_get(6)?,
        query: row.try_get(7)?,
        app: row.try_get(8)?,
        user: row.try_get(9)?,
        ip: row.try_get(10)?,
        user_agent: row.try_get(11)?,
        status: row.try_get(12)?,
        duration_us: row.try_get(13)?,
        headers: serde_json::from_str(&headers)
            .map_err(|e| StoreError::Corrupt(format!("request log headers: {e}")))?,
        body: row.try_get(15)?,
        error: kind.map(|kind| Failure {
            kind,
            message: message.unwrap_or_default(),
        }),
        created_at: row.try_get(18)?,
    })
}

impl Store {
    /// Stores records and what they add to the rollups, in one
    /// transaction.
    pub async fn insert_requests(&self, records: &[RequestRecord]) -> Result<(), StoreError> {
        let rollups = super::request_stats::Rollups::of(records);
        self.store_requests(records, Some(&rollups)).await
    }

    /// Stores records, a few rows per statement, and `rollups` (when
    /// given) in one transaction.
    pub async fn store_requests(
        &self,
        records: &[RequestRecord],
        rollups: Option<&super::request_stats::Rollups>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut sql = String::from(
                "INSERT INTO fusio_request_log (request_id, system, route, version, method, path, \
                 query, app, user_name, ip, user_agent, status, duration_us, headers, body, \
                 error_kind, error_message, created_at) VALUES ",
            );
            sql.push_str(&self.value_rows(chunk.len(), 18));
            // Only placeholders are generated; every value is bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for record in chunk {
                let headers = serde_json::to_string(&record.headers)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                query = query
                    .bind(record.request_id.clone())
                    .bind(i64::from(record.system))
                    .bind(record.route.clone())
                    .bind(record.version)
                    .bind(record.method.clone())
                    .bind(record.path.clone())
                    .bind(record.query.clone())
                    .bind(record.app.clone())
                    .bind(record.user.clone())
                    .bind(record.ip.clone())
                    .bind(record.user_agent.clone())
                    .bind(record.status)
                    .bind(record.duration_us)
                    .bind(headers)
                    .bind(record.body.clone())
                    .bind(record.error.as_ref().map(|e| e.kind.clone()))
                    .bind(record.error.as_ref().map(|e| e.message.clone()))
                    .bind(record.created_at.clone());
            }
            query.execute(&mut *tx).await?;
        }
        if let Some(rollups) = rollups {
            super::request_stats::add_rollups(self, &mut tx, rollups).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A page of the requests `filter` wants, newest first; and how many
    /// it wants in all.
    pub async fn list_requests(
        &self,
        filter: &RequestFilter,
        start: i64,
        count: i64,
    ) -> Result<(i64, Vec<RequestRecord>), StoreError> {
        let (clause, values) = filter.clause();
        let total: i64 = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM fusio_request_log{clause}"
            ))),
            &values,
        )
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let n = values.len();
        let sql = format!(
            "SELECT {COLUMNS} FROM fusio_request_log{clause} ORDER BY id DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), &values)
            .bind(count)
            .bind(start)
            .fetch_all(&self.pool)
            .await?;
        let records = rows.iter().map(record_from).collect::<Result<_, _>>()?;
        Ok((total, records))
    }

    /// The logged request with store id `id`.
    pub async fn request_by_id(&self, id: i64) -> Result<Option<RequestRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM fusio_request_log WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_from).transpose()
    }

    /// Removes the requests logged before `cutoff`; answers how many went.
    pub async fn prune_requests(&self, cutoff: std::time::SystemTime) -> Result<u64, StoreError> {
        self.prune_rollups(&timestamp(cutoff)).await?;
        self.prune_older(
            "DELETE FROM fusio_request_log WHERE id IN \
             (SELECT id FROM fusio_request_log WHERE created_at < $1 ORDER BY id LIMIT 5000)",
            cutoff,
        )
        .await
    }
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
