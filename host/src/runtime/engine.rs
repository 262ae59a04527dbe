//! Builds the one wasmtime `Engine` of the process and drives its epoch.
//!
//! The pooling allocator makes a fresh instance per request cheap; it needs a
//! large virtual-memory reservation, so it is probed and the on-demand
//! allocator is the fallback.

use std::path::PathBuf;
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How the engine is built; comes from `fusio serve`'s options.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Where compiled components are kept between restarts.
    pub cache_dir: PathBuf,
    /// Instances that may run at once; one more is refused with 503.
    pub max_instances: u32,
    /// The largest memory cap an action may ask for, in bytes.
    pub max_memory: u64,
    /// Try the pooling allocator first (falls back to on-demand when the
    /// machine refuses its reservation).
    pub pooling: bool,
    /// How often the epoch advances: the granularity of action timeouts.
    pub epoch_tick: Duration,
    /// Dirty bytes of linear memory and tables a pool slot resets in place
    /// instead of giving back to the kernel; more costs a scan, less costs
    /// page faults on the next request.
    pub keep_resident: usize,
}

impl EngineSettings {
    /// Defaults for a data directory: 1000 instances, 256 MiB memory caps,
    /// pooling, 1 ms ticks (a guest that computes yields its worker every
    /// tick, so other requests wait at most about that long for it).
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            cache_dir,
            max_instances: 1000,
            max_memory: 256 * 1024 * 1024,
            pooling: true,
            epoch_tick: Duration::from_millis(1),
            keep_resident: KEEP_RESIDENT,
        }
    }
}

/// Which instance allocator the engine runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolingMode {
    /// Pre-reserved slots: instantiation without mmap on the hot path.
    Pooling,
    /// Memory mapped per instance: slower, needs no reservation.
    OnDemand,
}

/// Default of [`EngineSettings::keep_resident`].
pub const KEEP_RESIDENT: usize = 1024 * 1024;
/// Core instances and tables a Rust wasm32-wasip2 component needs at most:
/// its main module plus the adapter's shims.
const CORE_PER_COMPONENT: u32 = 8;

fn base_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    // `FUSIO_PROFILE=perfmap` names the guests' compiled functions for
    // `perf` (in /tmp/perf-PID.map): how to see where an action's time goes.
    if std::env::var("FUSIO_PROFILE").as_deref() == Ok("perfmap") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config.memory_init_cow(true);
    config
}

/// Creates the engine, pooling when `settings.pooling` and the machine allow.
pub fn create(settings: &EngineSettings) -> wasmtime::Result<(Engine, PoolingMode)> {
    if settings.pooling {
        let mut pool = PoolingAllocationConfig::new();
        let instances = settings.max_instances.max(1);
        pool.total_component_instances(instances)
            .total_core_instances(instances * CORE_PER_COMPONENT)
            .total_memories(instances)
            .total_tables(instances * CORE_PER_COMPONENT)
            .total_stacks(instances)
            .max_memory_size(usize::try_from(settings.max_memory).unwrap_or(usize::MAX))
            .linear_memory_keep_resident(settings.keep_resident)
            .table_keep_resident(settings.keep_resident)
            .pagemap_scan(Enabled::Auto);
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        match Engine::new(&config) {
            Ok(engine) => return Ok((engine, PoolingMode::Pooling)),
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "the pooling allocator is not available here; using on-demand allocation"
            ),
        }
    }
    Ok((Engine::new(&base_config())?, PoolingMode::OnDemand))
}

/// How the epoch ticker is scheduled by the operating system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TickerPriority {
    /// Real-time (`SCHED_FIFO`): the tick comes on time even when a
    /// computing action keeps every core busy, so no action holds its
    /// worker much past one tick.
    Realtime,
    /// The system refused real-time scheduling (it needs `CAP_SYS_NICE`):
    /// on a saturated core the tick, and with it a computing action's
    /// yield, can come a few milliseconds late.
    Normal,
}

/// Advances the engine's epoch every tick on one thread, until the engine is
/// dropped. Each store's deadline is counted in these ticks, and a guest
/// gives its worker back at each one, so the thread asks for real-time
/// scheduling: it sleeps almost all the time, and a late tick is a late
/// yield for every other request on that worker.
pub fn start_epoch_ticker(engine: &Engine, tick: Duration) -> TickerPriority {
    let weak = engine.weak();
    let (priority_tx, priority_rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("fusio-epoch".into())
        .spawn(move || {
            let _ = priority_tx.send(ask_for_realtime());
            loop {
                std::thread::sleep(tick);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .expect("the OS refused to start the epoch thread");
    priority_rx.recv().unwrap_or(TickerPriority::Normal)
}

/// Puts the calling thread on the lowest real-time priority, which is
/// still above every normally scheduled thread.
fn ask_for_realtime() -> TickerPriority {
    use thread_priority::{
        RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    match set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
    ) {
        Ok(()) => TickerPriority::Realtime,
        Err(_) => TickerPriority::Normal,
    }
}
