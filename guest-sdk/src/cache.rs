//! A cache the host keeps for this action (`fusio:action/cache`): its own
//! namespace, bounded in size, each entry with a time to live. It survives
//! requests (which never share memory) but not a restart, and each node
//! has its own.
//!
//! ```no_run
//! use std::time::Duration;
//! let hits = fusio_sdk::cache::get("hits").map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap_or_default()));
//! fusio_sdk::cache::set("hits", &(hits + 1).to_le_bytes(), Duration::from_secs(60));
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

/// Forgets `key`.
pub fn delete(key: &str) {
    raw::delete(key);
}
