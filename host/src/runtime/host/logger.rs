//! `fusio:action/logger`: guest log entries go to the server log with the
//! request id and the action's name, within the instance's log budget
//! (`LOG_LINES` entries, `LOG_BYTES` bytes); entries past it are dropped,
//! and one line at the end of the request says how many.

use super::HostState;
use crate::runtime::bindings::fusio::action::logger::{Host, Level};

impl Host for HostState {
    async fn log(
        &mut self,
        level: Level,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let size = message.len()
            + fields
                .iter()
                .map(|(key, value)| key.len() + value.len())
                .sum::<usize>();
        if !self.log_budget.take(size) {
            return Ok(());
        }
        let request_id = &*self.request_id;
        let action = &*self.action.name;
        // Fields ride in the message so an entry without fields stays clean.
        let text = if fields.is_empty() {
            message.clone()
        } else {
            format!("{message} {}", FieldList(&fields))
        };
        self.capabilities.log(crate::runtime::LogRecord {
            request_id: request_id.to_owned(),
            action: action.to_owned(),
            level: match level {
                Level::Trace => "trace",
                Level::Debug => "debug",
                Level::Info => "info",
                Level::Warn => "warn",
                Level::Error => "error",
            },
            message,
            fields,
        });
        match level {
            Level::Trace => tracing::trace!(target: "fusio::action", request_id, action, "{text}"),
            Level::Debug => tracing::debug!(target: "fusio::action", request_id, action, "{text}"),
            Level::Info => tracing::info!(target: "fusio::action", request_id, action, "{text}"),
            Level::Warn => tracing::warn!(target: "fusio::action", request_id, action, "{text}"),
            Level::Error => tracing::error!(target: "fusio::action", request_id, action, "{text}"),
        }
        Ok(())
    }
}

/// Renders fields as `key=value key=value`.
struct FieldList<'a>(&'a [(String, String)]);

impl std::fmt::Display for FieldList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (key, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value:?}")?;
        }
        Ok(())
    }
}
