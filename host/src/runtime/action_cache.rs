//! The actions' cache (`fusio:action/cache`): one moka cache per runtime,
//! bounded by the bytes it holds, keyed by action and key so no action sees
//! another's entries, each entry expiring after its own time to live.

use moka::Expiry;
use moka::sync::Cache;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most the cache holds, in bytes of keys and values.
const CAPACITY: u64 = 64 * 1024 * 1024;
/// The largest value kept; a larger one is not cached (as if evicted at
/// once), so one entry can never take a large part of the cache.
pub(crate) const MAX_VALUE: usize = 1024 * 1024;
/// Values at least this large are evicted for at once: moka applies
/// inserts (and evicts) in batches, and a batch of large values would hold
/// far more than the capacity until it is applied.
const SETTLE_AT: usize = 16 * 1024;
/// The longest an entry may live.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(24 * 3600);

/// An action's key.
type Key = (Arc<str>, String);

/// A value and how long it lives.
#[derive(Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

/// Expires each entry after its own time to live.
struct PerEntry;

impl Expiry<Key, Entry> for PerEntry {
    fn expire_after_create(&self, _: &Key, entry: &Entry, _: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _: &Key,
        entry: &Entry,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The cache every action of the runtime shares, by namespace.
#[derive(Clone)]
pub(crate) struct ActionCache {
    entries: Cache<Key, Entry>,
}

impl ActionCache {
    pub(crate) fn new() -> Self {
        Self {
            entries: Cache::builder()
                .max_capacity(CAPACITY)
                .weigher(|(action, key): &Key, entry: &Entry| {
                    let bytes = action.len() + key.len() + entry.value.len();
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .expire_after(PerEntry)
                .build(),
        }
    }

    pub(crate) fn get(&self, action: &Arc<str>, key: String) -> Option<Vec<u8>> {
        self.entries
            .get(&(action.clone(), key))
            .map(|entry| entry.value.to_vec())
    }

    pub(crate) fn set(&self, action: &Arc<str>, key: String, value: Vec<u8>, ttl: Duration) {
        let ttl = ttl.min(MAX_TTL);
        if ttl.is_zero() || value.len() > MAX_VALUE {
            self.entries.invalidate(&(action.clone(), key));
            return;
        }
        let large = value.len() >= SETTLE_AT;
        self.entries.insert(
            (action.clone(), key),
            Entry {
                value: value.into(),
                ttl,
            },
        );
        if large {
            self.entries.run_pending_tasks();
        }
    }

    /// Adds `delta` to the decimal integer under `key` in one step (moka
    /// runs the update under the key's lock); the entry lives `ttl` after.
    pub(crate) fn incr(&self, action: &Arc<str>, key: String, delta: i64, ttl: Duration) -> i64 {
        let ttl = ttl.min(MAX_TTL).max(Duration::from_millis(1));
        let entry = self
            .entries
            .entry((action.clone(), key))
            .and_upsert_with(|old| {
                let before = old
                    .and_then(|old| {
                        std::str::from_utf8(&old.into_value().value)
                            .ok()?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0i64);
                Entry {
                    value: before.saturating_add(delta).to_string().into_bytes().into(),
                    ttl,
                }
            });
        std::str::from_utf8(&entry.into_value().value)
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or_default()
    }

    pub(crate) fn delete(&self, action: &Arc<str>, key: String) {
        self.entries.invalidate(&(action.clone(), key));
    }
}
