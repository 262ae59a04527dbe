//! What a client learns of its rate: the IETF draft's `RateLimit-Policy`
//! and `RateLimit` fields (structured fields naming the policy), the
//! `X-RateLimit-*` trio clients of other gateways read, and `Retry-After`
//! when a request is refused.

use super::rate::Rate;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use std::sync::Arc;
use std::time::Duration;

/// The outcome of counting one request against its rate.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The rate counted against.
    pub rate: Arc<Rate>,
    /// Whether the request may go on.
    pub allowed: bool,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// Until the caller's whole allowance is back.
    pub reset: Duration,
    /// Until the next request is allowed (zero when one is).
    pub retry_after: Duration,
}

/// Whole seconds, rounded up: a client waiting this long is never early.
fn seconds_up(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

static X_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static X_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static X_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
static POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
static RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

impl Verdict {
    /// Writes this verdict's headers into `headers`: the policy, what is
    /// left and when it is whole again (in seconds from now), and, for a
    /// refused request, when to retry.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let reset = seconds_up(self.reset);
        let number = |n: u64| HeaderValue::from(n);
        headers.insert(POLICY.clone(), self.rate.policy.clone());
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{};r={};t={reset}",
            self.rate.quoted, self.remaining
        )) {
            headers.insert(RATELIMIT.clone(), value);
        }
        headers.insert(X_LIMIT.clone(), self.rate.limit_header.clone());
        headers.insert(X_REMAINING.clone(), number(u64::from(self.remaining)));
        headers.insert(X_RESET.clone(), number(reset));
        if !self.allowed {
            headers.insert(
                header::RETRY_AFTER,
                number(seconds_up(self.retry_after).max(1)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(seconds_up(Duration::from_millis(1)), 1);
        assert_eq!(seconds_up(Duration::from_secs(3)), 3);
        assert_eq!(seconds_up(Duration::ZERO), 0);
    }
}
