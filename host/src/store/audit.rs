//! The audit log (`fusio_audit`): who changed what and when. Entries are
//! written in the same transaction as the change they describe, so the log
//! never claims a change that did not land, nor misses one that did.

use super::Page;
use super::{Store, StoreError, now};
use sqlx::{Any, Row, Transaction};

/// One change, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Store id (increasing).
    pub id: i64,
    /// Who: a user name, `app:<client id>`, or `cli` for local commands.
    pub actor: String,
    /// What was done, e.g. `deploy`, `rollback`.
    pub action: String,
    /// To what, e.g. `revision:7`.
    pub entity: String,
    /// Details as JSON (e.g. a deploy's plan).
    pub detail: serde_json::Value,
    /// When, RFC 3339.
    pub created_at: String,
}

/// Records a change inside the transaction that makes it.
pub(super) async fn record_in(
    tx: &mut Transaction<'_, Any>,
    actor: &str,
    action: &str,
    entity: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO fusio_audit (actor, action, entity, detail, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(actor)
    .bind(action)
    .bind(entity)
    .bind(detail.to_string())
    .bind(now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// A page of the audit log, newest first, whose action or entity
    /// contains the search; and how many match.
    pub async fn list_audit(&self, page: Page<'_>) -> Result<(i64, Vec<AuditEntry>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_audit WHERE action LIKE $1 ESCAPE '\\' OR entity LIKE $1 ESCAPE '\\'",
                "SELECT id, actor, action, entity, detail, created_at FROM fusio_audit \
                 WHERE action LIKE $1 ESCAPE '\\' OR entity LIKE $1 ESCAPE '\\' ORDER BY id DESC LIMIT $2 OFFSET $3",
                page,
            )
            .await?;
        let entries = rows
            .iter()
            .map(|row| {
                let detail: String = row.try_get(4)?;
                Ok(AuditEntry {
                    id: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    action: row.try_get(2)?,
                    entity: row.try_get(3)?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
                    created_at: row.try_get(5)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok((total, entries))
    }
}
