//! `static`: an answer fixed at deploy.

use super::{Expanded, refuse_unknown};
use serde_json::Value;
use std::collections::BTreeMap;

/// `static`: `status` (100-599, 200 when not said), `headers` (name to
/// text), `body` (text, or any JSON, sent as JSON).
pub(super) fn expand(config: &BTreeMap<String, Value>) -> Result<Expanded, String> {
    refuse_unknown(config, &["status", "headers", "body"], "static")?;
    let status = match config.get("status") {
        None => 200,
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|s| (100..=599).contains(s))
            .ok_or_else(|| format!("config.status: {n} is not an HTTP status (100 to 599)"))?,
        Some(other) => {
            return Err(format!(
                "config.status: {other} is not an HTTP status (100 to 599)"
            ));
        }
    };
    let headers = match config.get("headers") {
        None => serde_json::Map::new(),
        Some(Value::Object(map)) => {
            for (name, value) in map {
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    return Err(format!("config.headers: `{name}` is not a header name"));
                }
                let Value::String(text) = value else {
                    return Err(format!("config.headers.{name}: a header's value is text"));
                };
                if http::HeaderValue::from_str(text).is_err() {
                    return Err(format!("config.headers.{name}: not a header value"));
                }
            }
            map.clone()
        }
        Some(_) => return Err("config.headers: a mapping of header name to value".into()),
    };
    let body = config.get("body").cloned().unwrap_or(Value::Null);
    Ok(Expanded {
        script: include_str!("../../../engines/builtins/static.js"),
        config: [
            ("status".to_owned(), status.to_string()),
            ("headers".to_owned(), Value::Object(headers).to_string()),
            ("body".to_owned(), body.to_string()),
        ]
        .into(),
        connection: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::builtin::tests::config;
    use serde_json::json;

    #[test]
    fn static_takes_its_three_keys_and_refuses_the_rest() {
        let made = expand(&config(
            json!({ "status": 201, "headers": { "x-a": "1" }, "body": { "ok": true } }),
        ))
        .unwrap();
        assert_eq!(made.config["status"], "201");
        assert_eq!(made.config["headers"], r#"{"x-a":"1"}"#);
        assert_eq!(made.config["body"], r#"{"ok":true}"#);
        assert_eq!(expand(&config(json!({}))).unwrap().config["status"], "200");
        for (bad, says) in [
            (json!({ "status": 99 }), "config.status"),
            (json!({ "status": "200" }), "config.status"),
            (json!({ "headers": { "bad name": "x" } }), "config.headers"),
            (json!({ "headers": { "x-a": 1 } }), "config.headers.x-a"),
            (json!({ "bodyy": 1 }), "config.bodyy"),
        ] {
            let err = expand(&config(bad.clone())).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
    }
}
