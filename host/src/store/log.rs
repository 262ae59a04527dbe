//! Action log entries (`fusio_log`): written in batches by the log writer,
//! read by the backend's log view.

use super::Page;
use super::{Store, StoreError, now};
use sqlx::Row;

/// One entry an action logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// The request it belongs to.
    pub request_id: String,
    /// The action that logged it.
    pub action: String,
    /// `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
    /// Key-value fields.
    pub fields: Vec<(String, String)>,
    /// When, RFC 3339 (empty before it is stored).
    pub created_at: String,
}

impl Store {
    /// Stores entries in one transaction.
    pub async fn insert_log(&self, entries: &[LogEntry]) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let at = now();
        for entry in entries {
            let fields = serde_json::to_string(&entry.fields)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO fusio_log (request_id, action, level, message, fields, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&entry.request_id)
            .bind(&entry.action)
            .bind(&entry.level)
            .bind(&entry.message)
            .bind(fields)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Removes the entries stored before `cutoff`; answers how many went.
    pub async fn prune_log(&self, cutoff: std::time::SystemTime) -> Result<u64, StoreError> {
        self.prune_older(
            "DELETE FROM fusio_log WHERE id IN \
             (SELECT id FROM fusio_log WHERE created_at < $1 ORDER BY id LIMIT 5000)",
            cutoff,
        )
        .await
    }

    /// Runs `delete` (which removes up to a few thousand rows created
    /// before `$1`) until nothing is left to remove, so a large backlog
    /// never holds the write lock for long; answers how many went.
    pub(super) async fn prune_older(
        &self,
        delete: &'static str,
        cutoff: std::time::SystemTime,
    ) -> Result<u64, StoreError> {
        let cutoff = humantime::format_rfc3339_millis(cutoff).to_string();
        let mut removed = 0;
        loop {
            let done = sqlx::query(delete)
                .bind(&cutoff)
                .execute(&self.pool)
                .await?;
            removed += done.rows_affected();
            if done.rows_affected() == 0 {
                return Ok(removed);
            }
        }
    }

    /// What was logged while answering the request `request_id`, in order.
    pub async fn log_of_request(&self, request_id: &str) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, request_id, action, level, message, fields, created_at FROM fusio_log \
             WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from).collect()
    }

    /// A page of entries, newest first, whose message, action or request
    /// id contains the search; and how many match.
    pub async fn list_log(&self, page: Page<'_>) -> Result<(i64, Vec<LogEntry>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_log WHERE message LIKE $1 ESCAPE '\\' \
                 OR action LIKE $1 ESCAPE '\\' OR request_id LIKE $1 ESCAPE '\\'",
                "SELECT id, request_id, action, level, message, fields, created_at FROM fusio_log \
                 WHERE message LIKE $1 ESCAPE '\\' OR action LIKE $1 ESCAPE '\\' OR request_id LIKE $1 ESCAPE '\\' \
                 ORDER BY id DESC LIMIT $2 OFFSET $3",
                page,
            )
            .await?;
        let entries = rows.iter().map(entry_from).collect::<Result<_, _>>()?;
        Ok((total, entries))
    }
}

fn entry_from(row: &sqlx::any::AnyRow) -> Result<LogEntry, StoreError> {
    let fields: String = row.try_get(5)?;
    Ok(LogEntry {
        id: row.try_get(0)?,
        request_id: row.try_get(1)?,
        action: row.try_get(2)?,
        level: row.try_get(3)?,
        message: row.try_get(4)?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| StoreError::Corrupt(format!("log fields: {e}")))?,
        created_at: row.try_get(6)?,
    })
}
