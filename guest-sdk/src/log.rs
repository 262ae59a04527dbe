//! Log entries, stored by the host with the request id and the action's name.
//!
//! ```no_run
//! fusio_sdk::log::info("todo created");
//! fusio_sdk::log::log(fusio_sdk::log::Level::Warn, "slow upstream", &[("ms", "812")]);
//! ```

use crate::bindings::fusio::action::logger;

/// How severe an entry is: `Trace`, `Debug`, `Info`, `Warn` or `Error`.
///
/// ```no_run
/// fusio_sdk::log::log(fusio_sdk::log::Level::Debug, "cache warm", &[]);
/// ```
pub use logger::Level;

/// Writes one entry at `level` with key-value `fields`.
///
/// ```no_run
/// use fusio_sdk::log::{log, Level};
/// log(Level::Info, "imported", &[("rows", "12"), ("file", "todo.csv")]);
/// ```
pub fn log(level: Level, message: impl AsRef<str>, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    logger::log(level, message.as_ref(), &fields);
}

/// Writes a trace entry.
///
/// ```no_run
/// fusio_sdk::log::trace("entering the loop");
/// ```
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message, &[]);
}

/// Writes a debug entry.
///
/// ```no_run
/// fusio_sdk::log::debug("cache miss");
/// ```
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message, &[]);
}

/// Writes an info entry.
///
/// ```no_run
/// fusio_sdk::log::info("todo created");
/// ```
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message, &[]);
}

/// Writes a warning.
///
/// ```no_run
/// fusio_sdk::log::warn("the upstream was slow");
/// ```
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message, &[]);
}

/// Writes an error entry.
///
/// ```no_run
/// fusio_sdk::log::error("the upstream failed");
/// ```
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message, &[]);
}
