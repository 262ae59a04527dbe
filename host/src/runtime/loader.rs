//! Turns component bytes into a [`LoadedAction`]: compiled (or loaded from the
//! precompile cache), linked, checked against the world and pre-instantiated,
//! all before the first request. A bad component is refused here, never at
//! request time.

use super::Runtime;
use super::bindings::ActionPre;
use bytesize::ByteSize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::Component;

/// The resource limits of one action's instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Linear memory cap per instance, in bytes; growing past it traps.
    pub memory: u64,
    /// Wall-clock time one request may take, e.g. `10s`.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for Limits {
    /// 64 MiB and 10 s.
    fn default() -> Self {
        Self {
            memory: 64 * 1024 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

/// What the bytes under an action's `sha256` are: a component of its own,
/// or a script that the engine Fusio ships for its language runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Code {
    /// A WebAssembly component exporting the action world.
    #[default]
    Component,
    /// JavaScript source (UTF-8), run by the shipped JavaScript engine.
    Javascript,
    /// A component built from a Python module (componentize-py).
    Python,
}

impl Code {
    /// Whether this is a component written as one (the default).
    pub fn is_component(&self) -> bool {
        *self == Self::Component
    }

    /// Whether the bytes are a script that a shipped engine runs (and not
    /// a component).
    pub fn is_script(&self) -> bool {
        *self == Self::Javascript
    }

    /// Whether the component imports every interface of the world,
    /// whatever the code uses: a generated one (an engine, a Python build).
    pub fn imports_everything(&self) -> bool {
        !self.is_component()
    }
}

/// Everything needed to load an action except its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// The action's unique name, as routes refer to it.
    pub name: String,
    /// The sha256 of the component (or script), lower-case hex.
    pub sha256: String,
    /// What those bytes are; a component unless said.
    #[serde(default, skip_serializing_if = "Code::is_component")]
    pub code: Code,
    /// The built-in action Fusio ships that this is (its script and
    /// config expanded from fusio.yml's `builtin:`), when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<String>,
    /// The action's configuration values.
    pub config: BTreeMap<String, String>,
    /// Memory and time limits.
    pub limits: Limits,
    /// The connections it may open (its grants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<String>,
    /// Credential headers (`authorization`, `cookie`, lower case) the
    /// action still receives; every other credential header is removed
    /// before a request reaches it.
    #[serde(
        default,
        rename = "forwardHeaders",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub forward_headers: Vec<String>,
}

/// An action ready to serve: one `InstancePre` from which each request gets a
/// fresh instance.
pub struct LoadedAction {
    pub(crate) spec: ActionSpec,
    pub(crate) shared: Arc<super::host::ActionShared>,
    pub(crate) pre: ActionPre<super::host::HostState>,
    /// The interfaces the component imports, e.g. `fusio:action/connector@0.1.0`.
    imports: Vec<String>,
}

impl LoadedAction {
    /// Whether the component imports the interface `name` (any version),
    /// e.g. `fusio:action/connector`.
    pub fn imports(&self, name: &str) -> bool {
        self.imports.iter().any(|import| {
            import == name
                || import
                    .strip_prefix(name)
                    .is_some_and(|v| v.starts_with('@'))
        })
    }

    /// The action's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// What the action was loaded from.
    pub fn spec(&self) -> &ActionSpec {
        &self.spec
    }

    /// Adds configuration this node read for the action when it loaded the
    /// revision (a built-in SQL table's columns); its instances see it
    /// beside the deployed config, whose keys win. Answers false when
    /// something was added already.
    pub fn add_read_config(&self, read: BTreeMap<String, String>) -> bool {
        self.shared.read_at_load.set(read).is_ok()
    }

    /// Whether [`Self::add_read_config`] was called.
    pub fn has_read_config(&self) -> bool {
        self.shared.read_at_load.get().is_some()
    }

    /// The most linear memory one of its instances held so far, in bytes:
    /// what an instance of it costs.
    pub fn peak_memory(&self) -> u64 {
        self.shared
            .peak_memory
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LoadedAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedAction")
            .field("spec", &self.spec)
            .finish()
    }
}

/// Why a component cannot serve as an action.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not WebAssembly at all.
    #[error("not a WebAssembly file (it does not start with \\0asm)")]
    NotWasm,
    /// A core module where a component was expected.
    #[error("a core WebAssembly module, not a component; build it with `--target wasm32-wasip2`")]
    CoreModule,
    /// wasmtime could not compile the component.
    #[error("not a valid component: {0}")]
    Invalid(String),
    /// The component imports something the host does not offer.
    #[error("it imports what Fusio does not provide: {0}")]
    Imports(String),
    /// The component does not export the `fusio:action/handler` interface.
    #[error("it does not export `fusio:action/handler@0.1.0` with `handle`: {0}")]
    Exports(String),
    /// The component's bytes are neither at hand nor in the store (upload
    /// it first).
    #[error("the component is not on the server; upload it first")]
    Missing,
    /// A script that is not UTF-8 text.
    #[error("the script is not UTF-8 text")]
    NotText,
    /// A script that does not parse.
    #[error("{file}:{line}:{column}: SyntaxError: {message}")]
    Syntax {
        /// The name the script ran under (`todo.js`).
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The engine's message.
        message: String,
    },
    /// The shipped script engine could not be prepared or run.
    #[error("the script engine failed: {0}")]
    Engine(String),
    /// The action asks for more memory than this server allows.
    #[error("its memory limit {asked} is above this server's maximum {max}")]
    MemoryAboveMaximum {
        /// What the action asked for.
        asked: ByteSize,
        /// What the server allows.
        max: ByteSize,
    },
}

/// The component-model layer version in the preamble (`\0asm` `0d 00 01 00`).
const CORE_MODULE_VERSION: [u8; 4] = [1, 0, 0, 0];

impl Runtime {
    /// Loads an action whose component is already in the precompile cache;
    /// `Ok(None)` means the bytes are needed ([`Runtime::load`]).
    pub fn load_cached(&self, spec: &ActionSpec) -> Result<Option<LoadedAction>, LoadError> {
        self.check_limits(spec)?;
        if spec.code.is_script() {
            return Ok(None);
        }
        match self
            .inner
            .precompile
            .lookup(&self.inner.engine, &spec.sha256)
        {
            Some(component) => self.link(spec.clone(), component).map(Some),
            None => Ok(None),
        }
    }

    /// Compiles `bytes` (or takes them from the precompile cache) and
    /// prepares the action. CPU-heavy: call it off the async workers.
    pub fn load(&self, spec: &ActionSpec, bytes: &[u8]) -> Result<LoadedAction, LoadError> {
        if let Some(loaded) = self.load_cached(spec)? {
            return Ok(loaded);
        }
        if spec.code.is_script() {
            return self.load_script(spec, bytes);
        }
        if !bytes.starts_with(b"\0asm") || bytes.len() < 8 {
            return Err(LoadError::NotWasm);
        }
        if bytes[4..8] == CORE_MODULE_VERSION {
            return Err(LoadError::CoreModule);
        }
        let component = self
            .inner
            .precompile
            .compile(&self.inner.engine, &spec.sha256, bytes)
            .map_err(|err| LoadError::Invalid(format!("{err:#}")))?;
        self.link(spec.clone(), component)
    }

    fn check_limits(&self, spec: &ActionSpec) -> Result<(), LoadError> {
        let max = self.inner.settings.max_memory;
        if spec.limits.memory > max {
            return Err(LoadError::MemoryAboveMaximum {
                asked: ByteSize(spec.limits.memory),
                max: ByteSize(max),
            });
        }
        Ok(())
    }

    /// A script action: the shipped engine with the script to run. Its
    /// syntax is checked apart ([`Runtime::check_script`]), in an instance.
    fn load_script(&self, spec: &ActionSpec, bytes: &[u8]) -> Result<LoadedAction, LoadError> {
        let text = std::str::from_utf8(bytes).map_err(|_| LoadError::NotText)?;
        let engine = self.js_engine()?;
        let script = super::host::Script {
            name: Arc::from(format!("{}.js", spec.name)),
            text: Arc::from(text),
            bytecode: std::sync::OnceLock::new(),
        };
        Ok(LoadedAction {
            shared: Arc::new(shared(spec, Some(script))),
            spec: spec.clone(),
            pre: engine.action.clone(),
            imports: engine.imports.clone(),
        })
    }

    fn link(&self, spec: ActionSpec, component: Component) -> Result<LoadedAction, LoadError> {
        let instance_pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .map_err(|err| LoadError::Imports(format!("{err:#}")))?;
        let pre =
            ActionPre::new(instance_pre).map_err(|err| LoadError::Exports(format!("{err:#}")))?;
        let imports = component
            .component_type()
            .imports(&self.inner.engine)
            .map(|(name, _)| name.to_owned())
            .collect();
        let shared = Arc::new(shared(&spec, None));
        Ok(LoadedAction {
            spec,
            shared,
            pre,
            imports,
        })
    }
}

/// What every instance of the action `spec` shares.
fn shared(spec: &ActionSpec, script: Option<super::host::Script>) -> super::host::ActionShared {
    super::host::ActionShared {
        name: Arc::from(spec.name.as_str()),
        config: spec.config.clone(),
        connections: spec.connections.clone(),
        history: super::fair::ComputeHistory::default(),
        script,
        read_at_load: std::sync::OnceLock::new(),
        memory_limit: spec.limits.memory,
        peak_memory: std::sync::atomic::AtomicU64::new(0),
    }
}
