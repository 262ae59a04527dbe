//! Built-in actions: endpoints that need no code, configured in fusio.yml
//! (`builtin: static` with its `config:`). Each is a script Fusio ships,
//! run on its JavaScript engine like any script action — so a built-in
//! gets exactly the sandbox, limits, grants and logging of an action, and
//! no request reaches host code written for it. Here each one's
//! configuration is checked at deploy (unknown keys and wrong types
//! refused, naming the key) and turned into the config its script reads.

use serde_json::Value;
use std::collections::BTreeMap;

/// A built-in's script and the config its script reads.
#[derive(Debug)]
pub struct Expanded {
    /// The JavaScript the action runs.
    pub script: &'static str,
    /// Its configuration, each value as the script reads it.
    pub config: BTreeMap<String, String>,
}

/// The built-ins there are, for messages.
pub const BUILTINS: &[&str] = &["static"];

/// The built-in `name` configured with `config`, or why not.
pub fn expand(name: &str, config: &BTreeMap<String, Value>) -> Result<Expanded, String> {
    match name {
        "static" => static_answer(config),
        other => Err(format!(
            "`{other}` is not a built-in action (there are: {})",
            BUILTINS.join(", ")
        )),
    }
}

fn refuse_unknown(
    config: &BTreeMap<String, Value>,
    known: &[&str],
    builtin: &str,
) -> Result<(), String> {
    match config.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "config.{key}: `{builtin}` takes {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        None => Ok(()),
    }
}

/// `static`: `status` (100-599, 200 when not said), `headers` (name to
/// text), `body` (text, or any JSON, sent as JSON).
fn static_answer(config: &BTreeMap<String, Value>) -> Result<Expanded, String> {
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
        script: include_str!("../../engines/builtins/static.js"),
        config: [
            ("status".to_owned(), status.to_string()),
            ("headers".to_owned(), Value::Object(headers).to_string()),
            ("body".to_owned(), body.to_string()),
        ]
        .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn static_takes_its_three_keys_and_refuses_the_rest() {
        let made = expand(
            "static",
            &config(json!({ "status": 201, "headers": { "x-a": "1" }, "body": { "ok": true } })),
        )
        .unwrap();
        assert_eq!(made.config["status"], "201");
        assert_eq!(made.config["headers"], r#"{"x-a":"1"}"#);
        assert_eq!(made.config["body"], r#"{"ok":true}"#);
        assert_eq!(
            expand("static", &config(json!({}))).unwrap().config["status"],
            "200"
        );
        for (bad, says) in [
            (json!({ "status": 99 }), "config.status"),
            (json!({ "status": "200" }), "config.status"),
            (json!({ "headers": { "bad name": "x" } }), "config.headers"),
            (json!({ "headers": { "x-a": 1 } }), "config.headers.x-a"),
            (json!({ "bodyy": 1 }), "config.bodyy"),
        ] {
            let err = expand("static", &config(bad.clone())).unwrap_err();
            assert!(err.starts_with(says), "{bad}: {err}");
        }
        assert!(
            expand("nope", &config(json!({})))
                .unwrap_err()
                .contains("not a built-in")
        );
    }
}
