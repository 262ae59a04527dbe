//! Counting in this process: one `governor` keyed limiter (GCRA) per rate,
//! kept in a registry by the rate's name, limit and window, so a deploy
//! that leaves a rate as it was keeps its counts, and one that changes it
//! starts afresh.

use super::counters::{Counted, Counters};
use super::headers::Verdict;
use super::rate::Rate;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counts `subject` with `counters`, which belong to `rate`.
fn check(counters: &Counters, rate: &Arc<Rate>, subject: &String) -> Verdict {
    let interval = rate.interval();
    match counters.check(subject) {
        Counted::Allowed { remaining } => Verdict {
            rate: rate.clone(),
            allowed: true,
            remaining,
            reset: interval * (rate.limit.get() - remaining),
            retry_after: Duration::ZERO,
        },
        Counted::Refused { wait } => Verdict {
            rate: rate.clone(),
            allowed: false,
            remaining: 0,
            reset: wait + interval * (rate.limit.get() - 1),
            retry_after: wait,
        },
    }
}

type RegistryKey = (Arc<str>, u32, Duration);

/// Every rate's counters of this node.
#[derive(Default)]
pub struct Local {
    registry: Mutex<HashMap<RegistryKey, Arc<Counters>>>,
}

impl Local {
    /// Counts one request of `subject` against `rate`.
    pub fn check(&self, rate: &Arc<Rate>, subject: String) -> Verdict {
        let counters = rate.local.get_or_init(|| {
            let key = (rate.name.clone(), rate.limit.get(), rate.window);
            let mut registry = self.registry.lock().expect("registry lock");
            registry
                .entry(key)
                .or_insert_with(|| Arc::new(Counters::new(rate.limit, rate.interval())))
                .clone()
        });
        check(counters, rate, &subject)
    }

    /// Forgets callers whose allowance is whole again, so the counters
    /// hold only callers seen within their window.
    pub fn forget_idle(&self) {
        let registry = self.registry.lock().expect("registry lock");
        for counters in registry.values() {
            counters.forget_idle();
        }
    }

    /// How many callers are counted, over every rate.
    pub fn callers(&self) -> usize {
        let registry = self.registry.lock().expect("registry lock");
        registry.values().map(|c| c.callers()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::RateRecord;

    fn rate(limit: u32, timespan: &str) -> Arc<Rate> {
        Arc::new(
            Rate::compile(&RateRecord {
                name: "Test".into(),
                priority: 0,
                rate_limit: limit,
                timespan: timespan.into(),
                allocations: Vec::new(),
            })
            .unwrap(),
        )
    }

    #[test]
    fn exactly_the_limit_passes_then_the_caller_waits() {
        let local = Local::default();
        let rate = rate(3, "PT1H");
        let remaining: Vec<u32> = (0..3)
            .map(|_| {
                let verdict = local.check(&rate, "app:a".into());
                assert!(verdict.allowed);
                verdict.remaining
            })
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = local.check(&rate, "app:a".into());
        assert!(!refused.allowed);
        // One request comes back every 20 minutes.
        let wait = refused.retry_after.as_secs();
        assert!((1199..=1200).contains(&wait), "{wait}");
        assert!(refused.reset >= Duration::from_secs(3599));
        // Another caller has its own allowance.
        assert!(local.check(&rate, "app:b".into()).allowed);
    }

    #[test]
    fn an_unchanged_rate_of_a_new_snapshot_keeps_its_counts() {
        let local = Local::default();
        let first = rate(1, "PT1H");
        assert!(local.check(&first, "ip:1".into()).allowed);
        let again = rate(1, "PT1H");
        assert!(!local.check(&again, "ip:1".into()).allowed);
        let changed = rate(2, "PT1H");
        assert!(local.check(&changed, "ip:1".into()).allowed);
    }
}
