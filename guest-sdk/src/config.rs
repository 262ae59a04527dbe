//! The action's own configuration values, from its `config:` in fusio.yml.
//!
//! ```yaml
//! action:
//!   hello:
//!     component: examples/hello
//!     config:
//!       greeting: Hello
//! ```

use crate::bindings::fusio::action::config as raw;

/// One configured value, or `None` when `key` is not configured. Numbers and
/// booleans arrive as their YAML text, lists and maps as JSON.
///
/// ```no_run
/// let greeting = fusio_sdk::config::get("greeting").unwrap_or_else(|| "Hello".into());
/// ```
pub fn get(key: &str) -> Option<String> {
    raw::get(key)
}

/// Every configured key and value.
///
/// ```no_run
/// for (key, value) in fusio_sdk::config::all() { fusio_sdk::log::debug(format!("{key}={value}")); }
/// ```
pub fn all() -> Vec<(String, String)> {
    raw::all()
}
