//! A cache the host keeps for this action (`fusio:action/cache`): its own
//! namespace, bounded in size, each entry with a time to live. It survives
//! requests (which never share memory) but not a restart, and each node
//! has its own.
//!
//! ```no_run
//! use std::time::Duration;
//! fusio_sdk::cache::set("greeting", b"Hello", Duration::from_secs(60));
//! let greeting = fusio_sdk::cache::get("greeting");
//! // A counter: one atomic step, so concurrent requests never lose a hit.
//! let hits = fusio_sdk::cache::incr("hits", 1, Duration::from_secs(3600));
//! ```

use crate::bindings::fusio::action::cache as raw;
use std::time::Duration;

/// The value under `key`, unless it is missing or expired.
pub fn get(key: &str) -> Option<Vec<u8>> {
    raw::get(key)
}

/// Stores `value` under `key` for `ttl` (at most a day; zero forgets it).
pub fn set(key: &str, value: &[u8], ttl: Duration) {
    raw::set(
        key,
        value,
        u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
    );
}

/// Adds `delta` to the integer under `key` in one atomic step (a missing,
/// expired or non-integer entry counts as 0) and answers the new value;
/// the entry then lives for `ttl` (at most a day). The value is kept as
/// decimal text, so [`get`] reads it as such.
pub fn incr(key: &str, delta: i64, ttl: Duration) -> i64 {
    raw::incr(
        key,
        delta,
        u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
    )
}

/// Forgets `key`.
pub fn delete(key: &str) {
    raw::delete(key);
}
