//! The shape of `fusio.yml`, following PHP Fusio's `.fusio.yml` where it
//! fits. Unknown and duplicate keys are errors with a line and column.

use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::time::Duration;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFile {
    /// Path → route.
    #[serde(default)]
    pub routes: BTreeMap<String, Spanned<RouteFile>>,
    /// Name → action.
    #[serde(default)]
    pub action: BTreeMap<String, Spanned<ActionFile>>,
}

/// One route.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// The route version; 1 unless said.
    #[serde(default = "first_version")]
    pub version: u32,
    /// Method → what answers it.
    pub methods: BTreeMap<String, Spanned<MethodFile>>,
}

fn first_version() -> u32 {
    1
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
}

/// One action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    /// A Rust package directory (built for wasm32-wasip2) or a `.wasm`
    /// component, relative to the file.
    pub component: String,
    /// Values the action reads through `fusio:action/config`.
    #[serde(default)]
    pub config: BTreeMap<String, serde_json::Value>,
    /// Memory and time limits.
    #[serde(default)]
    pub limits: LimitsFile,
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

/// Parses `text` with duplicate keys refused.
pub fn parse(text: &str) -> Result<ProjectFile, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
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
