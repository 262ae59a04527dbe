//! `fusio:engine/script`: what an engine Fusio ships reads of the action it
//! runs — its script, the kind of each connection it was granted (the
//! script API opens a connection by name alone), and the client's address
//! (which the built-in proxy hands on).

use super::HostState;
use crate::runtime::bindings::engine::fusio::engine::script::{Host, ScriptSource};
use crate::runtime::bindings::fusio::action::connector::ConnectorError;

impl Host for HostState {
    async fn source(&mut self) -> wasmtime::Result<ScriptSource> {
        Ok(match &self.action.script {
            Some(script) => match script.bytecode.get() {
                Some(bytecode) => ScriptSource {
                    name: script.name.to_string(),
                    text: String::new(),
                    bytecode: bytecode.to_vec(),
                },
                None => ScriptSource {
                    name: script.name.to_string(),
                    text: script.text.to_string(),
                    bytecode: Vec::new(),
                },
            },
            None => ScriptSource {
                name: String::new(),
                text: String::new(),
                bytecode: Vec::new(),
            },
        })
    }

    async fn connection_kind(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<String, ConnectorError>> {
        if let Err(refused) = self.grant(&name) {
            return Ok(Err(refused));
        }
        Ok(self
            .capabilities
            .connection(&name)
            .map(|served| served.kind().to_owned())
            .ok_or_else(|| ConnectorError::NotFound(format!("no connection `{name}`"))))
    }

    async fn client_address(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.client.map(|ip| ip.to_string()))
    }
}
