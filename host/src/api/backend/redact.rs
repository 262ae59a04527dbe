//! How the API shows connection settings: never in clear. Every value is
//! replaced by a marker (the keys still say what is set), and a write that
//! sends the marker back is refused instead of storing it as a setting.

use crate::store::model::Project;

/// What the API shows instead of a connection setting.
pub(super) const HIDDEN: &str = "(hidden)";

/// Whether a written value still holds the marker somewhere (a client
/// that sent back what it read).
pub(super) fn holds_hidden(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s == HIDDEN,
        serde_json::Value::Array(items) => items.iter().any(holds_hidden),
        serde_json::Value::Object(map) => map.values().any(holds_hidden),
        _ => false,
    }
}

/// `project` with every connection setting's value hidden: credentials are
/// never shown in clear (the keys still say what is set).
pub(super) fn redacted(mut project: Project) -> Project {
    for connection in &mut project.connections {
        if let serde_json::Value::Object(config) = &mut connection.config {
            for value in config.values_mut() {
                *value = serde_json::Value::String(HIDDEN.into());
            }
        }
    }
    project
}
