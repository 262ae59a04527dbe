//! Login throttling: after repeated failed logins an account, and a client
//! address, must wait before trying again. Counters live in a moka cache
//! whose entries expire a window after their last use (a failure or a
//! refused attempt), so a steady guesser stays blocked and an honest user is
//! free again after a pause.

use std::net::IpAddr;
use std::time::Duration;

/// Failed logins an account may have within a window.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed logins one client address may have within a window, over every
/// account: one guesser trying many names.
pub const ADDRESS_FAILURES: u32 = 20;
/// How long failures are remembered after the last attempt.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Failure counts by account and by client address.
pub struct Throttle {
    failures: moka::sync::Cache<Key, u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
}

/// A login attempt that must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins; try again in {} seconds", .retry_after.as_secs())]
pub struct Throttled {
    /// How long to wait at most.
    pub retry_after: Duration,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            failures: moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_idle(WINDOW)
                .build(),
        }
    }
}

impl Throttle {
    /// Whether a login for `account` from `address` may be tried now.
    pub fn check(&self, account: &str, address: Option<IpAddr>) -> Result<(), Throttled> {
        let over = |key: Key, limit: u32| self.failures.get(&key).is_some_and(|n| n >= limit);
        if over(Key::Account(account.to_lowercase()), ACCOUNT_FAILURES)
            || address.is_some_and(|ip| over(Key::Address(ip), ADDRESS_FAILURES))
        {
            return Err(Throttled {
                retry_after: WINDOW,
            });
        }
        Ok(())
    }

    /// Counts a failed login.
    pub fn failed(&self, account: &str, address: Option<IpAddr>) {
        let keys =
            std::iter::once(Key::Account(account.to_lowercase())).chain(address.map(Key::Address));
        for key in keys {
            self.failures
                .entry(key)
                .and_upsert_with(|n| n.map_or(1, |e| e.into_value().saturating_add(1)));
        }
    }

    /// Forgets an account's failures after a successful login.
    pub fn succeeded(&self, account: &str) {
        self.failures
            .invalidate(&Key::Account(account.to_lowercase()));
    }
}

/// The client's address, when the server knows it (`ConnectInfo`); tests
/// that call the router directly have none.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}
