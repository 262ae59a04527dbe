//! `fusio:action/cache`: the action's own namespace of the runtime's cache.

use super::HostState;
use crate::runtime::bindings::fusio::action::cache::Host;
use std::time::Duration;

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        Ok(self.cache.get(&self.action.name, key))
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: u64) -> wasmtime::Result<()> {
        self.cache
            .set(&self.action.name, key, value, Duration::from_millis(ttl_ms));
        Ok(())
    }

    async fn incr(&mut self, key: String, delta: i64, ttl_ms: u64) -> wasmtime::Result<i64> {
        Ok(self
            .cache
            .incr(&self.action.name, key, delta, Duration::from_millis(ttl_ms)))
    }

    async fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.cache.delete(&self.action.name, key);
        Ok(())
    }
}
