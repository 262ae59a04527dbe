//! `proxy`: the request handed on to an HTTP connection.

use super::{Expanded, connection_of, optional_text, refuse_unknown};
use crate::store::model::ConnectionKind;
use serde_json::Value;
use std::collections::BTreeMap;

/// `proxy`: `connection` (an HTTP connection of the project), `path` (the
/// path below the connection's base URL, with `{name}` taking the uri
/// fragment `name`; the request's own path when not said).
pub(super) fn expand(
    config: &BTreeMap<String, Value>,
    connections: super::Connections<'_>,
) -> Result<Expanded, String> {
    refuse_unknown(config, &["connection", "path"], "proxy")?;
    let (connection, _) = connection_of(config, connections, ConnectionKind::Http)?;
    let mut expanded: BTreeMap<String, String> =
        [("connection".to_owned(), connection.clone())].into();
    if let Some(path) = optional_text(config, "path")? {
        if !path.starts_with('/') {
            return Err(format!("config.path: `{path}` does not start with `/`"));
        }
        expanded.insert("path".to_owned(), path);
    }
    Ok(Expanded {
        script: include_str!("../../../engines/builtins/proxy.js"),
        config: expanded,
        connection: Some(connection),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::builtin::tests::{config, project};
    use serde_json::json;

    #[test]
    fn a_proxy_forwards_to_an_http_connection() {
        let made = expand(
            &config(json!({ "connection": "Api", "path": "/v2/todo/{id}" })),
            &project("sqlite://x.db"),
        )
        .unwrap();
        assert_eq!(made.config["path"], "/v2/todo/{id}");
        assert_eq!(made.connection.as_deref(), Some("Api"));
        for (bad, says) in [
            (
                json!({ "connection": "App" }),
                "config.connection: `App` is not an HTTP connection",
            ),
            (json!({ "connection": "Api", "path": "v2" }), "config.path"),
            (json!({ "connection": "Api", "url": "/" }), "config.url"),
        ] {
            let err = expand(&config(bad.clone()), &project("sqlite://x.db")).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
    }
}
