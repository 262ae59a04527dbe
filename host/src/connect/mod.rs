//! The server's side of `fusio:action/connector`: one folder per kind of
//! connection (`sql/`, `http/`, `redis/`, `amqp/`), each with its settings,
//! its deploy check, its served connection and its test, registered in
//! `kinds`. What a node opens is shared by every request and revision,
//! keyed by the connection's settings so a changed connection gets a new
//! pool (`shared`). SQL runs through sqlx, one driver per database;
//! parameters are always bound.

mod amqp;
pub mod check;
mod http;
pub mod kind;
mod kinds;
mod log;
mod redis;
mod shared;
pub mod sql;

use crate::confine::Confinement;
use crate::runtime::{Capabilities, Connection, LogRecord};
use crate::store::Store;
use crate::store::model::Project;
pub use kinds::check_settings;
use shared::Shared;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What this node keeps open for its revisions' connections, shared by
/// every revision that serves the same settings.
pub struct Pools {
    /// What user connections may reach.
    confinement: Arc<Confinement>,
    shared: Shared,
    log: Option<log::LogSink>,
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pools(…)")
    }
}

impl Pools {
    /// Pools whose actions' log entries are stored in `store`, whose
    /// connections reach only what `confinement` allows.
    pub fn new(store: Store, confinement: Arc<Confinement>) -> Self {
        Self {
            log: Some(log::LogSink::start(store)),
            confinement,
            shared: Shared::default(),
        }
    }

    /// Waits until every action log entry queued so far is written.
    pub async fn flush_action_log(&self) {
        if let Some(sink) = &self.log {
            sink.flush().await;
        }
    }

    /// What the action-log writer did so far.
    pub fn action_log_stats(&self) -> Option<crate::journal::WriterStats> {
        self.log.as_ref().map(log::LogSink::stats)
    }

    /// What user connections of this node may reach.
    pub fn confinement(&self) -> &Arc<Confinement> {
        &self.confinement
    }

    /// The node's open connections, by kind and settings.
    fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The connections and actions of `project`, for its snapshot: each
    /// connection served by its kind, opened on first use.
    pub fn for_project(
        self: &Arc<Self>,
        project: &Project,
        actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    ) -> Arc<dyn Capabilities> {
        let mut longest_call: HashMap<&str, Duration> = HashMap::new();
        for action in &project.actions {
            for name in &action.connections {
                let limit = longest_call.entry(name).or_default();
                *limit = (*limit).max(action.limits.timeout);
            }
        }
        let connections = project
            .connections
            .iter()
            .map(|record| {
                let limit = longest_call
                    .get(record.name.as_str())
                    .copied()
                    .unwrap_or_else(|| crate::runtime::Limits::default().timeout);
                let served = kinds::of(record.kind).serve(record.clone(), self.clone(), limit);
                (record.name.clone(), served)
            })
            .collect();
        Arc::new(ProjectConnections {
            actions,
            connections,
            pools: self.clone(),
        })
    }
}

/// The connections one revision serves.
#[derive(Debug)]
struct ProjectConnections {
    actions: HashMap<String, Arc<crate::runtime::LoadedAction>>,
    connections: HashMap<String, Connection>,
    pools: Arc<Pools>,
}

impl Capabilities for ProjectConnections {
    fn log(&self, entry: LogRecord) {
        if let Some(sink) = &self.pools.log {
            sink.send(entry);
        }
    }

    fn action(&self, name: &str) -> Option<Arc<crate::runtime::LoadedAction>> {
        self.actions.get(name).cloned()
    }

    fn connection(&self, name: &str) -> Option<Connection> {
        self.connections.get(name).cloned()
    }
}
