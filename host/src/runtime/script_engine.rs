//! The JavaScript engine Fusio ships (`engines/js.wasm`: QuickJS in an
//! action component, saved with its engine already created). It is
//! compiled once per process (through the precompile cache) and
//! pre-instantiated once; every JavaScript action shares it, and each of
//! their requests still gets a fresh instance with the action's own limits.
//! A script is checked for syntax errors when it is loaded, by the engine
//! itself, so a deploy refuses it with its line and column.

use super::bindings::ActionPre;
use super::bindings::engine::JsPre;
use super::host::{HostState, Nesting};
use super::{LoadError, LoadedAction, NoCapabilities, Runtime};
use std::sync::Arc;
use std::time::Instant;

/// The engine component, built by `engines/build` from `engines/js`.
const JS_ENGINE: &[u8] = include_bytes!("../../engines/js.wasm");

/// The size of the JavaScript engine component, in bytes.
pub const JS_ENGINE_SIZE: usize = JS_ENGINE.len();

/// The shipped engine, ready to instantiate.
pub(super) struct ScriptEngine {
    /// As an action: what each request instantiates.
    pub(super) action: ActionPre<HostState>,
    /// As the engine world: for the syntax check.
    check: JsPre<HostState>,
    /// The interfaces it imports (every one of the action world).
    pub(super) imports: Vec<String>,
}

impl Runtime {
    /// The JavaScript engine, compiled and linked on first use.
    pub(super) fn js_engine(&self) -> Result<&ScriptEngine, LoadError> {
        self.inner
            .js_engine
            .get_or_init(|| self.prepare_js_engine())
            .as_ref()
            .map_err(|reason| LoadError::Engine(reason.clone()))
    }

    fn prepare_js_engine(&self) -> Result<ScriptEngine, String> {
        let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(JS_ENGINE));
        let precompile = &self.inner.precompile;
        let component = match precompile.lookup(&self.inner.engine, &sha256) {
            Some(component) => component,
            None => precompile
                .compile(&self.inner.engine, &sha256, JS_ENGINE)
                .map_err(|err| format!("the JavaScript engine does not compile: {err:#}"))?,
        };
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|err| format!("the JavaScript engine does not link: {err:#}"))?;
        let imports = component
            .component_type()
            .imports(&self.inner.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        Ok(ScriptEngine {
            action: ActionPre::new(pre.clone()).map_err(|err| format!("{err:#}"))?,
            check: JsPre::new(pre).map_err(|err| format!("{err:#}"))?,
            imports,
        })
    }

    /// Parses and compiles a script action's script in a fresh instance of
    /// its engine, within the action's limits, and keeps the bytecode for
    /// its requests; a component needs no check.
    pub async fn check_script(&self, action: &LoadedAction) -> Result<(), LoadError> {
        let Some(script) = &action.shared.script else {
            return Ok(());
        };
        let engine = self.js_engine()?;
        let deadline = Instant::now() + action.spec.limits.timeout;
        let state = HostState::new(
            action.shared.clone(),
            Arc::from("syntax-check"),
            Nesting {
                deadline,
                depth: 0,
                client: None,
            },
            Arc::new(NoCapabilities),
            self.clone(),
        );
        let mut store = self.store(state, deadline);
        let failed = |err: wasmtime::Error| LoadError::Engine(format!("{err:#}"));
        let instance = engine
            .check
            .instantiate_async(&mut store)
            .await
            .map_err(failed)?;
        let bytecode = instance
            .fusio_engine_check()
            .call_check(&mut store, &script.name, &script.text)
            .await
            .map_err(failed)?
            .map_err(|error| LoadError::Syntax {
                file: script.name.to_string(),
                line: error.line,
                column: error.column,
                message: error.message,
            })?;
        // A second check of the same load compiles the same script.
        let _ = script.bytecode.set(Arc::from(bytecode));
        Ok(())
    }
}
