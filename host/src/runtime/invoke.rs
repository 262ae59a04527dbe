//! One request through one action: a fresh `Store` and instance from the
//! action's `InstancePre`, a memory cap, a deadline, and the guest's output
//! forwarded to the log. Nothing survives the call.
//!
//! The deadline lives in the store, not in a timer: at every epoch tick the
//! guest yields to tokio (so a loop keeps no worker), and once the deadline
//! has passed the tick traps it. No timer is registered per request.

use super::bindings::fusio::action::types::{ActionError, Request, Response};
use super::fair::FairPolling;
use super::host::{DeadlineExceeded, HostState, Nesting};
use super::{LoadedAction, Runtime};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::{PoolConcurrencyLimitError, Store, Trap, UpdateDeadline};

/// Why an action produced no answer of its own.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The action ran past its timeout and was stopped.
    #[error("the action did not answer within {0:?}")]
    Timeout(Duration),
    /// Every instance slot is in use.
    #[error("no instance slot is free: {0}")]
    PoolExhausted(String),
    /// The guest trapped (panic, out of memory, unreachable, …).
    #[error("the action trapped: {0}")]
    Trap(String),
    /// The instance could not be created.
    #[error("the action could not be instantiated: {0}")]
    Instantiate(String),
}

/// Where a request to an action comes from.
pub(crate) enum Origin {
    /// A client of the gateway (its address, when known).
    Client(Option<std::net::IpAddr>),
    /// Another action: the callee shares its deadline, one level deeper.
    Caller(Nesting),
}

impl Runtime {
    /// Runs `request` through a fresh instance of `action`. The outer result
    /// says whether the action answered at all; the inner one is its answer.
    pub async fn invoke(
        &self,
        action: &LoadedAction,
        request: Request,
        capabilities: Arc<dyn super::capabilities::Capabilities>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Result<Response, ActionError>, InvokeError> {
        self.invoke_within(action, request, capabilities, Origin::Client(client))
            .await
    }

    /// [`Self::invoke`], for a call from another action: the earlier of
    /// the callee's timeout and the caller's deadline ends it.
    pub(crate) async fn invoke_within(
        &self,
        action: &LoadedAction,
        request: Request,
        capabilities: Arc<dyn super::capabilities::Capabilities>,
        origin: Origin,
    ) -> Result<Result<Response, ActionError>, InvokeError> {
        let timeout = action.spec.limits.timeout;
        let _live = Live::enter(&self.inner.usage.live);
        let request_id: Arc<str> = Arc::from(request.context.request_id.as_str());
        let own = Instant::now() + timeout;
        let nesting = match origin {
            Origin::Client(client) => Nesting {
                deadline: own,
                depth: 0,
                client,
            },
            Origin::Caller(caller) => Nesting {
                deadline: caller.deadline.min(own),
                depth: caller.depth + 1,
                client: caller.client,
            },
        };
        let deadline = nesting.deadline;
        let state = HostState::new(
            action.shared.clone(),
            request_id.clone(),
            nesting,
            capabilities,
            self.clone(),
        );
        let mut store = self.store(state, deadline);

        let fair = FairPolling::new(
            &action.shared.name,
            &action.shared.history,
            self.inner.settings.epoch_tick,
        );
        let instance = fair
            .poll(action.pre.instantiate_async(&mut store))
            .await
            .map_err(|err| instantiate_error(err, timeout))?;
        let result = fair
            .poll(
                instance
                    .fusio_action_handler()
                    .call_handle(&mut store, &request),
            )
            .await;
        // Returning a large memory to the kernel takes milliseconds: off
        // the worker too, for an action that computes.
        let stderr = match &result {
            Err(_) => store
                .data()
                .output()
                .map(|output| {
                    String::from_utf8_lossy(&output.stderr)
                        .trim_end()
                        .to_owned()
                })
                .filter(|text| !text.is_empty()),
            Ok(_) => None,
        };
        action.shared.peak_memory.fetch_max(
            store.data().memory as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        fair.run(|| {
            forward_output(&store, &action.shared.name, &request_id);
            report_dropped_logs(&store, &action.shared.name, &request_id);
            drop(store);
        });
        fair.finish();
        result.map_err(|err| match (call_error(err, timeout), stderr) {
            // A trap's own text says where; what the guest wrote last (a
            // panic message) says why.
            (InvokeError::Trap(text), Some(stderr)) => {
                InvokeError::Trap(format!("{text}\nthe action wrote to stderr:\n{stderr}"))
            }
            (err, _) => err,
        })
    }
}

impl Runtime {
    /// A store for one instance: its memory cap, and the deadline checked at
    /// every epoch tick, where the guest also yields to tokio (so a loop
    /// keeps no worker).
    pub(super) fn store(&self, state: HostState, deadline: Instant) -> Store<HostState> {
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|state| state);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Err(DeadlineExceeded.into())
            } else {
                // `yield_now` puts the task at the back of tokio's queue; a
                // plain self-wake would land in the worker's LIFO slot and
                // run again before the requests waiting behind it.
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        store
    }
}

/// One instance alive, counted while it lives.
struct Live<'a>(&'a std::sync::atomic::AtomicU64);

impl<'a> Live<'a> {
    fn enter(live: &'a std::sync::atomic::AtomicU64) -> Self {
        live.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(live)
    }
}

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A failed call: the deadline's trap is a timeout, anything else a trap.
fn call_error(err: wasmtime::Error, timeout: Duration) -> InvokeError {
    if err.downcast_ref::<DeadlineExceeded>().is_some() {
        return InvokeError::Timeout(timeout);
    }
    InvokeError::Trap(trap_text(&err))
}

/// A failed instantiation: no free slot, a trap (or the deadline) in a start
/// function, or something wasmtime refused.
fn instantiate_error(err: wasmtime::Error, timeout: Duration) -> InvokeError {
    if let Some(limit) = err.downcast_ref::<PoolConcurrencyLimitError>() {
        return InvokeError::PoolExhausted(limit.to_string());
    }
    if err.downcast_ref::<Trap>().is_some() || err.downcast_ref::<DeadlineExceeded>().is_some() {
        return call_error(err, timeout);
    }
    InvokeError::Instantiate(format!("{err:#}"))
}

/// The whole error chain, with the wasm backtrace when there is one (it is
/// a layer of the chain). Never the host's own backtrace: resolving it
/// would load the server binary's debug information into memory for good.
fn trap_text(err: &wasmtime::Error) -> String {
    format!("{err:#}")
}

/// Says, in one line, how many log entries the guest's budget refused, and
/// counts them for the node.
fn report_dropped_logs(store: &Store<HostState>, action: &str, request_id: &str) {
    let dropped = store.data().log_budget.dropped;
    if dropped == 0 {
        return;
    }
    store
        .data()
        .runtime
        .inner
        .dropped_log_entries
        .fetch_add(u64::from(dropped), std::sync::atomic::Ordering::Relaxed);
    tracing::warn!(
        target: "fusio::action",
        request_id,
        action,
        dropped,
        "the action logged past its budget ({} entries, {} bytes per request); {dropped} entries were dropped",
        super::host::LOG_LINES,
        super::host::LOG_BYTES
    );
}

/// Sends what the guest printed to the server log, tagged with the request.
fn forward_output(store: &Store<HostState>, action: &str, request_id: &str) {
    let Some(output) = store.data().output() else {
        return;
    };
    for (stream, bytes) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        if !bytes.is_empty() {
            let text = String::from_utf8_lossy(bytes);
            // Debug formatting keeps a multi-line panic message on one line.
            tracing::warn!(target: "fusio::action", request_id, action, stream, output = ?text.trim_end(), "the action wrote to {stream}");
        }
    }
}
