//! Rate limiting: which rate applies to a request (`rate.rs`, compiled per
//! endpoint when a snapshot is assembled), counting requests against it
//! in this process (`local.rs`, `governor`) or in Redis for every node
//! (`shared.rs`), and the headers that tell the client (`headers.rs`).
//!
//! The algorithm is GCRA (the generic cell rate algorithm) on both sides:
//! a caller may send `limit` requests at once, and each comes back after
//! `window ÷ limit`. It keeps one timestamp per caller (no log of requests,
//! no counter per window), never lets more than `limit` through in a burst
//! — a fixed window lets twice that through across a window's edge — and
//! tells exactly when the next request is allowed (`Retry-After`). A
//! refused request changes nothing, so a client that keeps knocking is not
//! punished for it.
//!
//! With Redis the nodes share each caller's allowance; when Redis does not
//! answer, the node counts in-process (each node then allows the full
//! limit on its own), logs it once and counts the fallbacks in the
//! metrics, and a background probe returns it to Redis when Redis answers.

mod counters;
mod headers;
mod local;
mod rate;
mod shared;

pub use headers::Verdict;
pub use rate::{
    Candidates, DEFAULT, DEFAULT_ANONYMOUS, Rate, RateError, RatePlan, Who, defaults, timespan,
};

use local::Local;
use shared::Shared;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often a node whose Redis is down asks whether it is back.
const PROBE_EVERY: Duration = Duration::from_millis(500);
/// How often callers whose allowance is whole again are forgotten.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// Counts requests against their rates. Cheap to clone; one per node.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    local: Local,
    shared: Option<Shared>,
    /// Whether Redis failed and the node counts locally until it answers.
    redis_down: AtomicBool,
}

/// Where a node counts, for `/system/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Counting {
    /// In this process (no Redis configured).
    Local,
    /// In Redis, shared with every node.
    Redis,
    /// In this process because Redis does not answer.
    LocalRedisDown,
}

/// Why the limiter cannot be set up.
#[derive(Debug, thiserror::Error)]
#[error("the rate-limit Redis URL is not valid: {0}")]
pub struct LimiterError(#[from] redis::RedisError);

impl Limiter {
    /// Counting in this process only.
    pub fn local() -> Self {
        Self::build(None)
    }

    /// Counting in the Redis at `url` under keys starting with `prefix`,
    /// in this process while it does not answer.
    pub fn shared(url: &str, prefix: &str) -> Result<Self, LimiterError> {
        Ok(Self::build(Some(Shared::new(url, prefix)?)))
    }

    fn build(shared: Option<Shared>) -> Self {
        let limiter = Self {
            inner: Arc::new(Inner {
                local: Local::default(),
                shared,
                redis_down: AtomicBool::new(false),
            }),
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(upkeep(Arc::downgrade(&limiter.inner)));
        }
        limiter
    }

    /// Counts one request of `subject` (who is counted: an app, a user or
    /// an address) against `rate`.
    pub async fn check(&self, rate: &Arc<Rate>, subject: String) -> Verdict {
        let inner = &self.inner;
        if let Some(shared) = &inner.shared {
            if !inner.redis_down.load(Ordering::Relaxed) {
                match shared.check(rate, &subject).await {
                    Ok(verdict) => return counted(verdict),
                    Err(err) => {
                        if !inner.redis_down.swap(true, Ordering::Relaxed) {
                            tracing::warn!(error = %err, "rate limits: Redis does not answer; this node counts on its own until it does");
                            redis_up(false);
                        }
                    }
                }
            }
            if crate::telemetry::enabled() {
                metrics::counter!("fusio_rate_limit_redis_fallbacks_total").increment(1);
            }
        }
        counted(inner.local.check(rate, subject))
    }

    /// How many callers this node counts in-process.
    pub fn local_callers(&self) -> usize {
        self.inner.local.callers()
    }

    /// Where this node counts now.
    pub fn counting(&self) -> Counting {
        match (
            &self.inner.shared,
            self.inner.redis_down.load(Ordering::Relaxed),
        ) {
            (None, _) => Counting::Local,
            (Some(_), false) => Counting::Redis,
            (Some(_), true) => Counting::LocalRedisDown,
        }
    }
}

/// Records a refusal in the metrics.
fn counted(verdict: Verdict) -> Verdict {
    if !verdict.allowed && crate::telemetry::enabled() {
        metrics::counter!("fusio_rate_limit_rejections_total", "rate" => verdict.rate.name.to_string())
            .increment(1);
    }
    verdict
}

fn redis_up(up: bool) {
    if crate::telemetry::enabled() {
        metrics::gauge!("fusio_rate_limit_redis_up").set(if up { 1.0 } else { 0.0 });
    }
}

/// While the limiter lives: asks a Redis that failed whether it is back,
/// and forgets idle callers now and then.
async fn upkeep(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_forget = Duration::ZERO;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Some(shared) = &inner.shared
            && inner.redis_down.load(Ordering::Relaxed)
            && shared.ping().await
        {
            inner.redis_down.store(false, Ordering::Relaxed);
            redis_up(true);
            tracing::info!("rate limits: Redis answers again; counting there");
        }
        since_forget += PROBE_EVERY;
        if since_forget >= FORGET_EVERY {
            since_forget = Duration::ZERO;
            inner.local.forget_idle();
        }
    }
}
