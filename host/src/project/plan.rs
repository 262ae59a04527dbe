//! What a deploy changes against what is served: routes by path, actions,
//! schemas, connections and rates by name, each created, changed or
//! removed. `fusio deploy` prints it before
//! anything happens, and the audit log keeps it.

use crate::store::model::Project;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The changes of one kind of entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Changes {
    /// New entries.
    pub created: Vec<String>,
    /// Entries that differ.
    pub changed: Vec<String>,
    /// Entries that are gone.
    pub removed: Vec<String>,
}

impl Changes {
    fn between<'a, T: PartialEq + 'a>(
        old: impl IntoIterator<Item = (&'a str, &'a T)>,
        new: impl IntoIterator<Item = (&'a str, &'a T)>,
    ) -> Self {
        let old: BTreeMap<&str, &T> = old.into_iter().collect();
        let new: BTreeMap<&str, &T> = new.into_iter().collect();
        let mut changes = Changes::default();
        for (name, entry) in &new {
            match old.get(name) {
                None => changes.created.push((*name).to_owned()),
                Some(before) if before != entry => changes.changed.push((*name).to_owned()),
                Some(_) => {}
            }
        }
        changes.removed = old
            .keys()
            .filter(|name| !new.contains_key(*name))
            .map(|name| (*name).to_owned())
            .collect();
        changes
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Everything a deploy changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Plan {
    /// Routes, by path.
    pub routes: Changes,
    /// Actions, by name.
    pub actions: Changes,
    /// Schemas, by name.
    #[serde(default)]
    pub schemas: Changes,
    /// Connections, by name.
    #[serde(default)]
    pub connections: Changes,
    /// Rates, by name.
    #[serde(default)]
    pub rates: Changes,
    /// Migration files that will run (`connection/file`), in order.
    #[serde(default)]
    pub migrations: Vec<String>,
}

impl Plan {
    /// What turning `old` into `new` changes.
    pub fn between(old: &Project, new: &Project) -> Self {
        Self {
            routes: Changes::between(
                old.routes.iter().map(|r| (r.path.as_str(), r)),
                new.routes.iter().map(|r| (r.path.as_str(), r)),
            ),
            actions: Changes::between(
                old.actions.iter().map(|a| (a.name.as_str(), a)),
                new.actions.iter().map(|a| (a.name.as_str(), a)),
            ),
            schemas: Changes::between(
                old.schemas.iter().map(|s| (s.name.as_str(), s)),
                new.schemas.iter().map(|s| (s.name.as_str(), s)),
            ),
            connections: Changes::between(
                old.connections.iter().map(|c| (c.name.as_str(), c)),
                new.connections.iter().map(|c| (c.name.as_str(), c)),
            ),
            rates: Changes::between(
                old.rates.iter().flatten().map(|r| (r.name.as_str(), r)),
                new.rates.iter().flatten().map(|r| (r.name.as_str(), r)),
            ),
            migrations: Vec::new(),
        }
    }

    /// Whether no entry changes.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
            && self.actions.is_empty()
            && self.schemas.is_empty()
            && self.connections.is_empty()
            && self.rates.is_empty()
            && self.migrations.is_empty()
    }
}
