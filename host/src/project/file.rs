//! The shape of `fusio.yml`, following PHP Fusio's `.fusio.yml` where it
//! fits. Unknown and duplicate keys are errors with a line and column.

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

/// A YAML mapping kept in file order, each key with its line and column, so
/// errors can point at the key the user wrote.
#[derive(Debug)]
pub struct Entries<T>(pub Vec<(Spanned<String>, T)>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Entries<T> {
    /// Whether a key is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k.value == key)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// Path → route.
    #[serde(default)]
    pub routes: Entries<RouteFile>,
    /// Name → action.
    #[serde(default)]
    pub action: Entries<ActionFile>,
    /// Name → JSON Schema (YAML or JSON, often an `!include`).
    #[serde(default)]
    pub schema: Entries<serde_json::Value>,
    /// Name → connection.
    #[serde(default)]
    pub connection: Entries<ConnectionFile>,
    /// Connection name → its SQL migration files, in order.
    #[serde(default)]
    pub migration: Entries<Vec<String>>,
    /// Name → request rate. Without it a deploy keeps the served rates.
    pub rate: Option<Entries<RateFile>>,
}

/// One request rate.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateFile {
    /// Higher wins when several rates match a request; 0 unless said.
    #[serde(default)]
    pub priority: i64,
    /// Requests per timespan.
    #[serde(rename = "rateLimit")]
    pub rate_limit: u32,
    /// An ISO 8601 duration: `PT1H`, `PT1M`, `P1D`.
    pub timespan: String,
    /// Whom it applies to (route, method, app, user, authenticated).
    #[serde(default)]
    pub allocation: Vec<crate::store::model::AllocationRecord>,
}

/// One connection.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionFile {
    /// `sql`, `http`, `redis` or `amqp`.
    #[serde(rename = "type")]
    pub kind: crate::store::model::ConnectionKind,
    /// Its settings; values may use `${env.NAME}` for credentials.
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
}

/// One route: either one version (`version`, `status`, `methods`) or
/// several (`versions`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// The version of a single-version route; 1 unless said.
    pub version: Option<u32>,
    /// The status of a single-version route; production unless said.
    pub status: Option<crate::store::model::VersionStatus>,
    /// When a single-version route stops answering (`2027-06-30`).
    pub sunset: Option<String>,
    /// Method → what answers it (a single-version route).
    pub methods: Option<Entries<MethodFile>>,
    /// Version number → version (a route with several).
    pub versions: Option<Entries<VersionFile>>,
    /// The browser origins that may call it, instead of the server's.
    pub cors: Option<crate::store::model::RouteCors>,
}

/// One version of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionFile {
    /// Production unless said.
    #[serde(default)]
    pub status: crate::store::model::VersionStatus,
    /// When it stops answering (`2027-06-30`, or an RFC 3339 time).
    pub sunset: Option<String>,
    /// Method → what answers it.
    pub methods: Entries<MethodFile>,
}

/// One method of a route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodFile {
    /// The name of the action in `action:`.
    pub action: String,
    /// Whether anonymous callers may use it.
    #[serde(default)]
    pub public: bool,
    /// Scopes of which a caller's token must hold one (not public methods).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The schema (under `schema:`) a request body must match.
    pub request: Option<String>,
    /// The schema of the 200 response (PHP Fusio's shorthand).
    pub response: Option<String>,
    /// The schema of the response per status code.
    #[serde(default)]
    pub responses: BTreeMap<u16, String>,
    /// The query parameters it takes, by name, with their type and
    /// constraints.
    #[serde(default)]
    pub parameters: BTreeMap<String, crate::query::Parameter>,
    /// The media types a request body may have; any when not said.
    #[serde(default, rename = "contentTypes")]
    pub content_types: Vec<String>,
    /// The cases `fusio test` runs against it.
    #[serde(default)]
    pub tests: Vec<TestCaseFile>,
}

/// One declared test case of a method: the request to send and the answer
/// expected.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct TestCaseFile {
    /// What it checks; the method and path when not said.
    pub name: Option<String>,
    /// Values of the route's placeholders.
    #[serde(default, rename = "uriFragments")]
    pub uri_fragments: BTreeMap<String, serde_json::Value>,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<String, serde_json::Value>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, sent as JSON.
    pub body: Option<serde_json::Value>,
    /// Send a token holding these scopes (a protected method needs one).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The status expected.
    pub status: u16,
    /// JSON the answer must contain: every key given, with its value
    /// (objects may hold more keys, arrays more items after the given ones).
    pub contains: Option<serde_json::Value>,
}

/// One action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    /// A Rust package directory (built for wasm32-wasip2), a `.wasm`
    /// component, a `.js` script or a `.py` module, relative to the file.
    pub component: Option<String>,
    /// Instead of a component: an action Fusio ships (`static`), configured
    /// by `config:`.
    pub builtin: Option<String>,
    /// Values the action reads through `fusio:action/config`.
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
    /// Memory and time limits.
    #[serde(default)]
    pub limits: LimitsFile,
    /// The connections it may open.
    #[serde(default)]
    pub connections: Vec<String>,
    /// Credential headers (`authorization`, `cookie`) the action receives;
    /// without them they are removed before the request reaches it.
    #[serde(default, rename = "forwardHeaders")]
    pub forward_headers: Vec<String>,
}

/// An action's limits; defaults are 64 MiB and 10 s.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Linear memory cap, e.g. `64 MiB`.
    pub memory: Option<bytesize::ByteSize>,
    /// Wall-clock limit per request, e.g. `10s`.
    #[serde(default, with = "humantime_serde")]
    pub timeout: Option<Duration>,
}

/// Parses `text` with duplicate keys refused and `!include` of files below
/// `base` (the project's directory) allowed.
pub fn parse(text: &str, base: &std::path::Path) -> Result<ProjectFile, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
    };
    let options = match options.clone().with_filesystem_root(base) {
        Ok(with_includes) => with_includes,
        // An unreadable directory: parse without includes; an `!include`
        // is then refused as an unknown tag.
        Err(_) => options,
    };
    serde_saphyr::from_str_with_options(text, options)
}

/// A configuration value as the action reads it: strings as they are,
/// numbers and booleans as their text, lists and maps as JSON.
pub fn config_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The example project, the seed the edits below start from.
    const EXAMPLE: &str = include_str!("../../../fusio.yml");

    /// One edit of a text: at a position (a fraction of its length), delete
    /// some characters and insert others.
    fn edit() -> impl Strategy<Value = (f64, usize, String)> {
        (
            0.0..1.0f64,
            0usize..8,
            "([:{}\\[\\]\\-!&*|>'\"#%@` \\t\\n]|[a-z0-9]{1,4}|\\n  |!include [a-z./]{0,8}){0,3}",
        )
    }

    fn apply(text: &str, edits: &[(f64, usize, String)]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for (at, delete, insert) in edits {
            // Truncation is the point: a position somewhere in the text.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let at = ((chars.len() as f64) * at) as usize;
            let end = (at + delete).min(chars.len());
            chars.splice(at..end, insert.chars());
        }
        chars.into_iter().collect()
    }

    proptest! {
        /// The example with random edits is parsed or refused with an
        /// error, never a panic.
        #[test]
        fn an_edited_project_file_is_parsed_or_refused(edits in prop::collection::vec(edit(), 1..6)) {
            let dir = tempfile::tempdir().unwrap();
            let _ = parse(&apply(EXAMPLE, &edits), dir.path());
        }

        /// Any text at all likewise.
        #[test]
        fn any_text_is_parsed_or_refused(text in "(?s).{0,300}") {
            let dir = tempfile::tempdir().unwrap();
            let _ = parse(&text, dir.path());
        }
    }

    #[test]
    fn the_example_parses() {
        let dir = tempfile::tempdir().unwrap();
        parse(EXAMPLE, dir.path()).expect("the example project parses");
    }
}
