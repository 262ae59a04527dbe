//! Several nodes, one store: a deploy or a revocation on any node reaches
//! every other. On PostgreSQL each node listens for the revision announced
//! in the deploy's transaction (`NOTIFY fusio_revision`), so the others
//! serve it within a moment, and for revocations (`NOTIFY fusio_auth`), so
//! they forget the tokens they checked; a periodic check of the newest
//! revision covers a lost notification or a dropped listener, and is all
//! SQLite nodes (sharing a file) have (their token caches expire instead).

use crate::auth::Auth;
use crate::project::Deployer;
use crate::store::Store;
use crate::store::deploy::AUTH_CHANNEL;
use std::time::Duration;

/// How often the newest revision is checked without a notification.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);
/// How long to wait before listening again after the listener failed.
const RELISTEN_AFTER: Duration = Duration::from_secs(1);

/// Follows the store's revisions and revocations until the task is aborted.
pub fn follow(store: Store, deployer: Deployer, auth: Auth) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener = None;
        let mut ticker = tokio::time::interval(CHECK_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if listener.is_none() {
                match store.listener().await {
                    Ok(Some(l)) => listener = Some(l),
                    Ok(None) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen for revisions; checking every {}s", CHECK_EVERY.as_secs());
                    }
                }
            }
            let heard = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|n| n.channel() == AUTH_CHANNEL),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = heard => match result {
                    Ok(true) => {
                        auth.forget_verified();
                        continue;
                    }
                    Ok(false) => {}
                    Err(err) => {
                        tracing::warn!(error = %err, "the listener failed; listening again");
                        listener = None;
                        tokio::time::sleep(RELISTEN_AFTER).await;
                    }
                },
                _ = ticker.tick() => {}
            }
            if let Err(err) = deployer.refresh().await {
                tracing::error!(error = %err, "cannot serve the store's newest revision");
            }
        }
    })
}
