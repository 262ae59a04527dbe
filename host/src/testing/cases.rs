//! The test cases a project declares under its route methods (`tests:`),
//! run against a test server (or a live one): the request each describes,
//! the status it expects, the JSON it says the answer contains, and the
//! answer validated strictly against the method's declared response schema
//! (an object may hold no property the schema does not name). A method
//! without a schema for the status it answered is a warning, not a failure.

use super::{TestResponse, TestServer};
use crate::project::{Compiled, DeclaredCase};
use crate::routes::RoutePath;
use crate::schema::{BodyError, Schema, self_contained};
use axum::body::Body;
use http::Request;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The case's name: its own, or the method and path.
    pub name: String,
    /// The method's entry, e.g. `routes."/todo".methods.GET`.
    pub entry: String,
    /// Where the method is in the file.
    pub location: Option<(u64, u64)>,
    /// Why it failed; `None` when it passed.
    pub failure: Option<String>,
    /// What deserves a look without failing it.
    pub warnings: Vec<String>,
    /// How long it took.
    pub duration: Duration,
}

/// Where the cases' requests go.
pub enum Target<'a> {
    /// A test server in this process.
    InProcess(&'a TestServer),
    /// A running server: its base URL, and the token sent where a case
    /// names scopes.
    Remote {
        /// e.g. `http://127.0.0.1:8080`.
        base: String,
        /// Sent as `Authorization: Bearer` for cases with scopes.
        token: Option<String>,
        /// The client.
        client: reqwest::Client,
    },
}

/// Runs every case of `compiled` in file order; `progress` sees each result
/// as it is known.
pub async fn run_all(
    compiled: &Compiled,
    target: &Target<'_>,
    mut progress: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let schemas: BTreeMap<&str, &Value> = compiled
        .project
        .schemas
        .iter()
        .map(|s| (s.name.as_str(), &s.document))
        .collect();
    let mut results = Vec::with_capacity(compiled.tests.len());
    for declared in &compiled.tests {
        let started = Instant::now();
        let mut warnings = Vec::new();
        let failure = run_one(compiled, declared, &schemas, target, &mut warnings)
            .await
            .err();
        let result = CaseResult {
            name: declared
                .case
                .name
                .clone()
                .unwrap_or_else(|| format!("{} {}", declared.method, declared.path)),
            entry: declared.entry.clone(),
            location: declared.location,
            failure,
            warnings,
            duration: started.elapsed(),
        };
        progress(&result);
        results.push(result);
    }
    results
}

/// A JSON value as a path or query value: strings as they are, anything
/// else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn run_one(
    compiled: &Compiled,
    declared: &DeclaredCase,
    schemas: &BTreeMap<&str, &Value>,
    target: &Target<'_>,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let case = &declared.case;
    let route = RoutePath::parse(&declared.path).map_err(|e| e.to_string())?;
    let fragments: BTreeMap<String, String> = case
        .uri_fragments
        .iter()
        .map(|(k, v)| (k.clone(), text(v)))
        .collect();
    let mut uri = route
        .fill(&fragments)
        .map_err(|missing| format!("`uriFragments` has no value for `{missing}`"))?;
    if !case.query.is_empty() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &case.query {
            query.append_pair(k, &text(v));
        }
        uri = format!("{uri}?{}", query.finish());
    }
    let mut headers: Vec<(String, String)> = case
        .headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    let has = |headers: &[(String, String)], name: &str| headers.iter().any(|(k, _)| k == name);
    if let Some(version) = declared.version
        && !has(&headers, "accept")
    {
        headers.push((
            "accept".into(),
            format!("application/vnd.fusio.v{version}+json"),
        ));
    }
    let body = match &case.body {
        Some(body) => {
            if !has(&headers, "content-type") {
                headers.push(("content-type".into(), "application/json".into()));
            }
            body.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    let answer = send(target, &declared.method, &uri, &headers, body, &case.scopes).await?;
    if answer.status.as_u16() != case.status {
        return Err(format!(
            "expected status {}, got {}: {}",
            case.status,
            answer.status.as_u16(),
            shorten(&answer.text())
        ));
    }
    let method = compiled
        .project
        .routes
        .iter()
        .find(|r| r.path == declared.path)
        .and_then(|r| match declared.version {
            Some(v) => r.versions.iter().find(|x| x.version == v),
            None => r.versions.first(),
        })
        .and_then(|v| v.methods.iter().find(|m| m.method == declared.method));
    match method.and_then(|m| m.responses.get(&case.status)) {
        Some(name) => {
            let document = self_contained(name, schemas)
                .ok_or_else(|| format!("the response schema `{name}` is not defined"))?;
            let strict = Schema::compile(name, &strict(document))
                .map_err(|err| format!("the response schema `{name}` does not compile: {err}"))?;
            strict.check(&answer.body).map_err(|err| match err {
                BodyError::Invalid { violations, .. } => format!(
                    "the answer does not match `{name}` (strictly): {}",
                    violations
                        .iter()
                        .map(|v| format!(
                            "{} {}",
                            if v.pointer.is_empty() {
                                "/"
                            } else {
                                &v.pointer
                            },
                            v.message
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                other => format!("the answer does not match `{name}`: {other}"),
            })?;
        }
        None => warnings.push(format!(
            "{} {} declares no response schema for status {}; the answer is not checked",
            declared.method, declared.path, case.status
        )),
    }
    if let Some(expected) = &case.contains {
        let config = assert_json_diff::Config::new(assert_json_diff::CompareMode::Inclusive);
        assert_json_diff::assert_json_matches_no_panic(&answer.json(), expected, config)
            .map_err(|diff| format!("the answer does not contain what `contains` says: {diff}"))?;
    }
    Ok(())
}

async fn send(
    target: &Target<'_>,
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    scopes: &[String],
) -> Result<TestResponse, String> {
    match target {
        Target::InProcess(server) => {
            let mut request = Request::builder().method(method).uri(uri);
            for (k, v) in headers {
                request = request.header(k, v);
            }
            if !scopes.is_empty() {
                let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let token = server.token(&refs).await.map_err(|e| e.to_string())?;
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let request = request.body(Body::from(body)).map_err(|e| e.to_string())?;
            Ok(server.send(request).await)
        }
        Target::Remote {
            base,
            token,
            client,
        } => {
            let method =
                reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
            let mut request =
                client.request(method, format!("{}{uri}", base.trim_end_matches('/')));
            for (k, v) in headers {
                request = request.header(k, v);
            }
            if !scopes.is_empty() {
                let token = token
                    .as_ref()
                    .ok_or("the case names scopes: give a token (--token) for a live server")?;
                request = request.bearer_auth(token);
            }
            let answer = request.body(body).send().await.map_err(|e| e.to_string())?;
            let status = answer.status();
            let headers = answer.headers().clone();
            let body = answer.bytes().await.map_err(|e| e.to_string())?;
            Ok(TestResponse {
                status,
                headers,
                body,
            })
        }
    }
}

/// `document` made strict: every object schema that names its properties
/// and says nothing of others refuses them.
fn strict(document: Value) -> Value {
    match document {
        Value::Object(mut map) => {
            for value in map.values_mut() {
                *value = strict(std::mem::take(value));
            }
            let names_properties = map.contains_key("properties");
            let says = map.contains_key("additionalProperties")
                || map.contains_key("unevaluatedProperties")
                || map.contains_key("patternProperties");
            if names_properties && !says {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            Value::Object(map)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(strict).collect()),
        other => other,
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_refuses_unnamed_properties_only_where_nothing_is_said() {
        let made = strict(json!({
            "type": "object",
            "properties": { "a": { "type": "object", "properties": { "b": {} } } },
            "$defs": { "Open": { "properties": {}, "additionalProperties": true } }
        }));
        assert_eq!(made["additionalProperties"], false);
        assert_eq!(made["properties"]["a"]["additionalProperties"], false);
        assert_eq!(made["$defs"]["Open"]["additionalProperties"], true);
    }
}
