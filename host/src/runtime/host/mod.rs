//! The host side of the WIT imports: one module per interface, each linked
//! once into the shared `Linker`, and the per-request state they share.
//!
//! Per-request state is built lazily: WASI, which most requests never touch,
//! is set up only when the guest first calls into it.

mod cache;
mod config;
pub(crate) mod connector;
mod logger;
mod processor;
pub(crate) mod response;
mod script;

use super::bindings::Action;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// What every instance of an action shares.
pub(crate) struct ActionShared {
    pub(crate) name: Arc<str>,
    pub(crate) config: BTreeMap<String, String>,
    /// The connections it may open.
    pub(crate) connections: Vec<String>,
    /// Whether it computes past a tick, so its polls leave the worker.
    pub(crate) history: crate::runtime::fair::ComputeHistory,
    /// The script a shipped engine runs for it; `None` for a component.
    pub(crate) script: Option<Script>,
    /// Configuration the node read when it loaded the revision (a SQL
    /// table's columns), beside what was deployed; set at most once.
    pub(crate) read_at_load: std::sync::OnceLock<BTreeMap<String, String>>,
    /// Its linear memory cap per instance, in bytes.
    pub(crate) memory_limit: u64,
    /// The most linear memory one of its instances held, in bytes.
    pub(crate) peak_memory: std::sync::atomic::AtomicU64,
}

/// An action's script and the name its errors carry (`todo.js`).
pub(crate) struct Script {
    pub(crate) name: Arc<str>,
    pub(crate) text: Arc<str>,
    /// The script compiled by the engine's check when it was loaded, so no
    /// request parses it again; only that engine build reads it, and it
    /// is never stored.
    pub(crate) bytecode: std::sync::OnceLock<Arc<[u8]>>,
}

/// The error an epoch tick raises once the request's deadline has passed.
#[derive(Debug, thiserror::Error)]
#[error("the request's deadline has passed")]
pub(crate) struct DeadlineExceeded;

/// A call made by another action (the processor): the caller's deadline and
/// how deep the calls nest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Nesting {
    pub(crate) deadline: Instant,
    pub(crate) depth: u32,
    /// The address of the client whose request this serves, when known.
    pub(crate) client: Option<std::net::IpAddr>,
}

/// How much of a guest's stdout or stderr is kept for the log.
const OUTPUT_CAPACITY: usize = 64 * 1024;

/// Log entries one instance may write (through `fusio:action/logger`).
pub const LOG_LINES: u32 = 1_000;
/// Bytes of log messages and fields one instance may write.
pub const LOG_BYTES: usize = 1024 * 1024;

/// What an instance may still log; past it entries are dropped and counted,
/// so a guest that logs in a loop costs the server a bounded amount.
#[derive(Debug)]
pub(crate) struct LogBudget {
    lines: u32,
    bytes: usize,
    /// Entries refused so far.
    pub(crate) dropped: u32,
}

impl LogBudget {
    fn new() -> Self {
        Self {
            lines: LOG_LINES,
            bytes: LOG_BYTES,
            dropped: 0,
        }
    }

    /// Whether an entry of `size` bytes may still be written; counts it.
    pub(crate) fn take(&mut self, size: usize) -> bool {
        if self.lines == 0 || size > self.bytes {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        self.lines -= 1;
        self.bytes -= size;
        true
    }
}

/// The data of one request's `Store`.
pub(crate) struct HostState {
    /// The memory cap, applied through [`HostState`]'s `ResourceLimiter`.
    limits: StoreLimits,
    /// Bytes of linear memory the instance holds (every memory together).
    pub(crate) memory: usize,
    pub(crate) action: Arc<ActionShared>,
    pub(crate) request_id: Arc<str>,
    /// When the request must be answered; wasm code is stopped by the epoch
    /// callback, host calls that wait must not wait past it.
    pub(crate) deadline: std::time::Instant,
    /// The served revision's connections.
    pub(crate) capabilities: Arc<dyn super::capabilities::Capabilities>,
    /// The runtime's action cache.
    pub(crate) cache: super::action_cache::ActionCache,
    /// How deep this call is nested (0: the request's own action).
    pub(crate) depth: u32,
    /// The address of the client whose request this serves, when known.
    pub(crate) client: Option<std::net::IpAddr>,
    /// The runtime, for the processor's calls.
    pub(crate) runtime: super::Runtime,
    /// What the guest may still log.
    pub(crate) log_budget: LogBudget,
    table: ResourceTable,
    wasi: Option<Wasi>,
}

struct Wasi {
    ctx: WasiCtx,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

/// What the guest wrote to stdout and stderr during one request.
pub(crate) struct GuestOutput {
    pub(crate) stdout: bytes::Bytes,
    pub(crate) stderr: bytes::Bytes,
}

impl HostState {
    /// The state of one instance of `action`, its linear memory capped at
    /// the action's limit (growing past it traps).
    pub(crate) fn new(
        action: Arc<ActionShared>,
        request_id: Arc<str>,
        nesting: Nesting,
        capabilities: Arc<dyn super::capabilities::Capabilities>,
        runtime: super::Runtime,
    ) -> Self {
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(action.memory_limit).unwrap_or(usize::MAX))
            .trap_on_grow_failure(true)
            .build();
        Self {
            limits,
            memory: 0,
            action,
            request_id,
            deadline: nesting.deadline,
            capabilities,
            cache: runtime.inner.action_cache.clone(),
            depth: nesting.depth,
            client: nesting.client,
            runtime,
            log_budget: LogBudget::new(),
            table: ResourceTable::new(),
            wasi: None,
        }
    }

    /// The guest's output, when it touched WASI at all.
    pub(crate) fn output(&self) -> Option<GuestOutput> {
        self.wasi.as_ref().map(|wasi| GuestOutput {
            stdout: wasi.stdout.contents(),
            stderr: wasi.stderr.contents(),
        })
    }
}

/// The action's memory cap, counting what the instance holds.
impl ResourceLimiter for HostState {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed {
            self.memory += desired.saturating_sub(current);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let wasi = self.wasi.get_or_insert_with(|| {
            let stdout = MemoryOutputPipe::new(OUTPUT_CAPACITY);
            let stderr = MemoryOutputPipe::new(OUTPUT_CAPACITY);
            let ctx = WasiCtx::builder()
                .stdout(stdout.clone())
                .stderr(stderr.clone())
                .build();
            Wasi {
                ctx,
                stdout,
                stderr,
            }
        });
        WasiCtxView {
            ctx: &mut wasi.ctx,
            table: &mut self.table,
        }
    }
}

/// Links WASI and every Fusio host interface; done once per engine.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Action::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)?;
    super::bindings::engine::fusio::engine::script::add_to_linker::<HostState, HasSelf<HostState>>(
        &mut linker,
        |state| state,
    )?;
    Ok(linker)
}

impl super::bindings::fusio::action::types::Host for HostState {}
