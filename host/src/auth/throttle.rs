//! Login throttling: after repeated failed logins for an account *from one
//! client address*, that pair must wait before trying again, and so must an
//! address that failed for many accounts. An account is never locked as
//! such: failures from one address cannot keep its owner out from
//! another. (Without a known address, as in-process callers, the account
//! alone is counted.) Counters live in the store, so every node of one
//! store sees the same failures, and lapse a window after the last failure,
//! so an honest user is free again after a pause.

use crate::store::{Store, StoreError};
use std::net::IpAddr;
use std::time::Duration;

/// Failed logins an account may have from one address within a window.
pub const ACCOUNT_FAILURES: u32 = 5;
/// Failed logins one client address may have within a window, over every
/// account: one guesser trying many names.
pub const ADDRESS_FAILURES: u32 = 20;
/// How long failures are remembered after the last one.
pub const WINDOW: Duration = Duration::from_secs(300);

/// Failure counts by account and address, and by address, in the store.
pub struct Throttle {
    store: Store,
}

/// A login attempt that must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed logins; try again in {} seconds", .retry_after.as_secs())]
pub struct Throttled {
    /// How long to wait at most.
    pub retry_after: Duration,
}

/// The counter of `account` (any case) from `address`.
fn account_key(account: &str, address: Option<IpAddr>) -> String {
    match address {
        Some(ip) => format!("account {} {ip}", account.to_lowercase()),
        None => format!("account {}", account.to_lowercase()),
    }
}

/// The counter of `address` over every account.
fn address_key(address: IpAddr) -> String {
    format!("address {address}")
}

/// The counters a login for `account` from `address` moves and reads:
/// the pair's, then the address's when it is known.
fn keys_of(account: &str, address: Option<IpAddr>) -> Vec<String> {
    std::iter::once(account_key(account, address))
        .chain(address.map(address_key))
        .collect()
}

fn unix_now() -> i64 {
    super::unix_now()
}

impl Throttle {
    /// Counters kept in `store`, shared by every node of it.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// Whether a login for `account` from `address` may be tried now.
    pub async fn check(
        &self,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<Result<(), Throttled>, StoreError> {
        let keys = keys_of(account, address);
        let counts = self.store.login_failures(&keys, unix_now()).await?;
        let over =
            counts[0] >= ACCOUNT_FAILURES || counts.get(1).is_some_and(|&n| n >= ADDRESS_FAILURES);
        Ok(if over {
            Err(Throttled {
                retry_after: WINDOW,
            })
        } else {
            Ok(())
        })
    }

    /// Counts a failed login.
    pub async fn failed(&self, account: &str, address: Option<IpAddr>) -> Result<(), StoreError> {
        let keys = keys_of(account, address);
        let now = unix_now();
        let window = i64::try_from(WINDOW.as_secs()).unwrap_or(i64::MAX);
        self.store
            .count_login_failure(&keys, now, now.saturating_add(window))
            .await
    }

    /// Forgets an account's failures from `address` after a successful
    /// login from there.
    pub async fn succeeded(
        &self,
        account: &str,
        address: Option<IpAddr>,
    ) -> Result<(), StoreError> {
        self.store
            .forget_login_failures(&account_key(account, address))
            .await
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
        Ok(Self(crate::peer::address(&parts.extensions)))
    }
}

#[cfg(test)]
mod tests {
    use super::{ACCOUNT_FAILURES, ADDRESS_FAILURES, Throttle};
    use std::net::IpAddr;

    async fn throttle() -> (tempfile::TempDir, Throttle) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(None, dir.path()).await.unwrap();
        store.migrate().await.unwrap();
        (dir, Throttle::new(store))
    }

    #[tokio::test]
    async fn failures_from_one_address_never_lock_the_owner_out_from_another() {
        let (_dir, throttle) = throttle().await;
        let attacker: IpAddr = "203.0.113.7".parse().unwrap();
        let owner: IpAddr = "198.51.100.2".parse().unwrap();
        for _ in 0..ACCOUNT_FAILURES {
            throttle.failed("Admin", Some(attacker)).await.unwrap();
        }
        assert!(
            throttle
                .check("admin", Some(attacker))
                .await
                .unwrap()
                .is_err()
        );
        assert!(throttle.check("admin", Some(owner)).await.unwrap().is_ok());
        throttle.succeeded("admin", Some(attacker)).await.unwrap();
        assert!(
            throttle
                .check("admin", Some(attacker))
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn one_address_guessing_many_accounts_is_stopped() {
        let (_dir, throttle) = throttle().await;
        let guesser: IpAddr = "203.0.113.8".parse().unwrap();
        for n in 0..ADDRESS_FAILURES {
            throttle
                .failed(&format!("user{n}"), Some(guesser))
                .await
                .unwrap();
        }
        assert!(
            throttle
                .check("someone-else", Some(guesser))
                .await
                .unwrap()
                .is_err()
        );
        assert!(throttle.check("someone-else", None).await.unwrap().is_ok());
    }
}
