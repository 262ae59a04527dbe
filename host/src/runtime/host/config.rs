//! `fusio:action/config`: the action's own configuration values, and what
//! the node read for it when it loaded the revision.

use super::HostState;
use crate::runtime::bindings::fusio::action::config::Host;

impl Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self.action.config.get(&key).cloned().or_else(|| {
            self.action
                .read_at_load
                .get()
                .and_then(|read| read.get(&key).cloned())
        }))
    }

    async fn all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        let read = self.action.read_at_load.get().into_iter().flatten();
        Ok(self
            .action
            .config
            .iter()
            .chain(read)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}
