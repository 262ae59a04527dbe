//! One rate's counters, per caller: a `governor` keyed limiter (GCRA) for
//! a limit and the interval after which one request comes back. Knows
//! nothing of rates or headers.

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

/// What counting one request found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Allowed, with this many more allowed right now.
    Allowed {
        /// Requests still allowed.
        remaining: u32,
    },
    /// Refused; the next is allowed after `wait`.
    Refused {
        /// Until the next request is allowed.
        wait: Duration,
    },
}

/// The counters of one rate.
pub struct Counters {
    limiter:
        RateLimiter<String, DashMapStateStore<String>, DefaultClock, StateInformationMiddleware>,
    clock: DefaultClock,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counters")
            .field("callers", &self.limiter.len())
            .finish()
    }
}

impl Counters {
    /// `limit` requests at once, each coming back after `interval`:
    /// exactly `limit` in any burst.
    pub fn new(limit: NonZeroU32, interval: Duration) -> Self {
        let quota = Quota::with_period(interval.max(Duration::from_nanos(1)))
            .expect("the interval is not zero")
            .allow_burst(limit);
        let clock = DefaultClock::default();
        Self {
            limiter: RateLimiter::dashmap_with_clock(quota, clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            clock,
        }
    }

    /// Counts one request of `subject`; a refused one changes nothing.
    pub fn check(&self, subject: &String) -> Counted {
        match self.limiter.check_key(subject) {
            Ok(state) => Counted::Allowed {
                remaining: state.remaining_burst_capacity(),
            },
            Err(not_until) => Counted::Refused {
                wait: not_until.wait_time_from(self.clock.now()),
            },
        }
    }

    /// Forgets callers whose allowance is whole again.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many callers are counted.
    pub fn callers(&self) -> usize {
        self.limiter.len()
    }
}
