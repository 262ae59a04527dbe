//! The action runtime: one wasmtime `Engine` per process, components
//! compiled (or loaded from the precompile cache) off the request path, and a
//! fresh `Store` and instance for every request.
//!
//! The runtime knows nothing about HTTP routing or the system store: it takes
//! component bytes and a typed request, and answers a typed response or an
//! [`InvokeError`].

mod action_cache;
mod bindings;
pub mod capabilities;
mod engine;
mod fair;
pub(crate) mod host;
mod invoke;
mod loader;
mod precompile;
mod script_engine;

pub use bindings::fusio::action::connector::{
    ConnectorError, HttpRequest, HttpResponse, RedisValue, Rows, SqlValue,
};
pub use bindings::fusio::action::types::{ActionError, Context, Problem, Request, Response};
pub use capabilities::{
    AmqpConnection, AmqpMessage, BoxFuture, Capabilities, Connection, HttpConnection, LogRecord,
    NoCapabilities, RedisConnection, SqlConnection, SqlSession, SqlTransaction,
};
pub use engine::{EngineSettings, PoolingMode, TickerPriority};
pub use host::response::{MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS, check_header_size};
pub use host::{LOG_BYTES, LOG_LINES};
pub use invoke::InvokeError;
pub use loader::{ActionSpec, Code, Limits, LoadError, LoadedAction};
pub use precompile::PrecompileStats;
pub use script_engine::JS_ENGINE_SIZE;

use std::sync::Arc;

/// The shared runtime: engine, linker, precompile cache and epoch ticker.
/// Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    engine: wasmtime::Engine,
    linker: wasmtime::component::Linker<host::HostState>,
    precompile: precompile::PrecompileCache,
    /// The actions' cache (`fusio:action/cache`).
    action_cache: action_cache::ActionCache,
    settings: EngineSettings,
    pooling: PoolingMode,
    ticker: TickerPriority,
    /// Log entries refused by instances' log budgets since the start.
    dropped_log_entries: std::sync::atomic::AtomicU64,
    /// What this node's instances are doing, for the metrics.
    usage: Usage,
    /// The shipped JavaScript engine, prepared on first use.
    js_engine: std::sync::OnceLock<Result<script_engine::ScriptEngine, String>>,
}

/// Counts of what the instances do: how many are alive now, and the calls
/// actions made to other actions by outcome.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    pub(crate) live: std::sync::atomic::AtomicU64,
    pub(crate) calls: [std::sync::atomic::AtomicU64; 4],
}

/// The outcomes of one action's call to another, as the metrics name them.
pub const CALL_OUTCOMES: [&str; 4] = ["answered", "failed", "not_found", "too_deep"];

/// A snapshot of what the instances do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageStats {
    /// Instances alive now (requests and the calls they made).
    pub live: u64,
    /// Instances the pool can hold at once.
    pub max: u64,
    /// Calls to other actions since the start, by outcome.
    pub calls: [(&'static str, u64); 4],
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// wasmtime refused the engine configuration.
    #[error("cannot create the WebAssembly engine: {0:#}")]
    Engine(wasmtime::Error),
    /// The host interfaces could not be linked.
    #[error("cannot link the host interfaces: {0:#}")]
    Link(wasmtime::Error),
    /// The precompile cache directory is not usable.
    #[error("cannot use the precompile cache at {path}")]
    Cache {
        /// The cache directory.
        path: std::path::PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

impl Runtime {
    /// Creates the engine (pooling allocator when the machine allows it),
    /// links the host interfaces and starts the epoch ticker.
    pub fn new(settings: EngineSettings) -> Result<Self, RuntimeError> {
        let (engine, pooling) = engine::create(&settings).map_err(RuntimeError::Engine)?;
        let linker = host::linker(&engine).map_err(RuntimeError::Link)?;
        let precompile = precompile::PrecompileCache::open(&settings.cache_dir, &engine)?;
        let ticker = engine::start_epoch_ticker(&engine, settings.epoch_tick);
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                precompile,
                action_cache: action_cache::ActionCache::new(),
                settings,
                pooling,
                ticker,
                dropped_log_entries: std::sync::atomic::AtomicU64::new(0),
                usage: Usage::default(),
                js_engine: std::sync::OnceLock::new(),
            }),
        })
    }

    /// What the instances do now and did since the start.
    pub fn usage(&self) -> UsageStats {
        use std::sync::atomic::Ordering::Relaxed;
        let usage = &self.inner.usage;
        UsageStats {
            live: usage.live.load(Relaxed),
            max: u64::from(self.inner.settings.max_instances),
            calls: [0, 1, 2, 3].map(|i| (CALL_OUTCOMES[i], usage.calls[i].load(Relaxed))),
        }
    }

    /// Counts a call of one action to another with outcome
    /// `CALL_OUTCOMES[outcome]`.
    pub(crate) fn count_call(&self, outcome: usize) {
        self.inner.usage.calls[outcome].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many log entries actions wrote past their budget since the
    /// start (each was dropped; `/system/health` shows the count).
    pub fn dropped_log_entries(&self) -> u64 {
        self.inner
            .dropped_log_entries
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Which allocator the engine ended up with.
    pub fn pooling(&self) -> PoolingMode {
        self.inner.pooling
    }

    /// Whether the epoch ticker got real-time scheduling, i.e. whether a
    /// computing action yields on time even on a saturated core.
    pub fn ticker_priority(&self) -> TickerPriority {
        self.inner.ticker
    }

    /// How often components came from the precompile cache.
    pub fn precompile_stats(&self) -> PrecompileStats {
        self.inner.precompile.stats()
    }

    /// The settings the engine was built with.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }
}
