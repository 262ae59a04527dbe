//! The runtime settings (`fusio_config`): only values that differ from the
//! defaults are kept; a change is checked against the settings it was based
//! on and recorded in the audit log, in one transaction.

use super::{Backend, Store, StoreError, audit, now};
use crate::settings::Settings;
use sqlx::{Any, Row, Transaction};

async fn read_in(tx: &mut Transaction<'_, Any>) -> Result<Settings, StoreError> {
    let rows = sqlx::query("SELECT name, value FROM fusio_config")
        .fetch_all(&mut **tx)
        .await?;
    let mut changes = serde_json::Map::new();
    for row in rows {
        let value: String = row.try_get(1)?;
        changes.insert(
            row.try_get(0)?,
            serde_json::from_str(&value)
                .map_err(|e| StoreError::Corrupt(format!("setting: {e}")))?,
        );
    }
    Settings::default()
        .with(&changes)
        .map_err(|e| StoreError::Corrupt(format!("settings: {e}")))
}

impl Store {
    /// The settings in force.
    pub async fn settings(&self) -> Result<Settings, StoreError> {
        let mut tx = self.pool.begin().await?;
        let settings = read_in(&mut tx).await?;
        tx.commit().await?;
        Ok(settings)
    }

    /// Saves `next` when the settings in force still have one of
    /// `expected` tags (any when `None`); [`StoreError::Stale`] otherwise.
    pub async fn save_settings(
        &self,
        next: &Settings,
        expected: Option<&[String]>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("LOCK TABLE fusio_config IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let current = read_in(&mut tx).await?;
        if expected.is_some_and(|tags| !tags.contains(&current.tag())) {
            return Err(StoreError::Stale("settings".into()));
        }
        let defaults = serde_json::to_value(Settings::default()).unwrap_or_default();
        let values = serde_json::to_value(next).unwrap_or_default();
        let mut changed = serde_json::Map::new();
        sqlx::query("DELETE FROM fusio_config")
            .execute(&mut *tx)
            .await?;
        if let (Some(values), Some(defaults)) = (values.as_object(), defaults.as_object()) {
            let before = serde_json::to_value(&current).unwrap_or_default();
            for (name, value) in values {
                if before.get(name) != Some(value) {
                    changed.insert(name.clone(), value.clone());
                }
                if defaults.get(name) != Some(value) {
                    sqlx::query(
                        "INSERT INTO fusio_config (name, value, updated_at) VALUES ($1, $2, $3)",
                    )
                    .bind(name)
                    .bind(value.to_string())
                    .bind(now())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        audit::record_in(
            &mut tx,
            actor,
            "config",
            "settings",
            &serde_json::Value::Object(changed),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
