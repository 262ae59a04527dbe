//! The request log (`fusio_request_log`): one row per request the server
//! answered, with what failed when something did (the error log is its
//! rows with an error). Written in batches by the request-log writer, read
//! by `/backend/log` with filters, pruned by the retention setting.

pub use super::request_record::{Failure, RequestFilter, RequestRecord, timestamp};

use super::request_record::bind_all;
use super::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;

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
