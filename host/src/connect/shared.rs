//! What a node keeps open per connection setting (a SQL pool, an HTTP
//! client, a Redis manager, an AMQP channel), shared by every revision that
//! serves the same settings, so a deploy that leaves a connection alone
//! keeps its pool. One registry for every kind: an entry is opened once
//! even when many requests ask at the same time, and opened again when it
//! can no longer be used.

use crate::runtime::ConnectorError;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Slot = Arc<tokio::sync::Mutex<Option<Arc<dyn Any + Send + Sync>>>>;

/// The node's open connections, by kind and settings.
#[derive(Default)]
pub struct Shared {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Shared {
    /// The entry at `key`, or the one `open` makes when there is none, or
    /// when the one there is not `usable` any more. Only the callers of
    /// the same key wait for each other; a failed `open` keeps nothing.
    pub async fn get_or_open<T, Fut>(
        &self,
        key: String,
        usable: impl Fn(&T) -> bool,
        open: impl FnOnce() -> Fut,
    ) -> Result<Arc<T>, ConnectorError>
    where
        T: Any + Send + Sync,
        Fut: Future<Output = Result<T, ConnectorError>>,
    {
        let slot = self
            .slots
            .lock()
            .expect("the registry is never poisoned")
            .entry(key)
            .or_default()
            .clone();
        let mut entry = slot.lock().await;
        if let Some(open) = entry.clone().and_then(|any| any.downcast::<T>().ok())
            && usable(&open)
        {
            return Ok(open);
        }
        let opened = Arc::new(open().await?);
        *entry = Some(opened.clone());
        Ok(opened)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn an_entry_is_opened_once_and_again_when_unusable() {
        let shared = Shared::default();
        let opened = AtomicUsize::new(0);
        let open = || async { Ok::<_, ConnectorError>(opened.fetch_add(1, Ordering::SeqCst)) };
        let first = shared
            .get_or_open("k".into(), |_| true, open)
            .await
            .unwrap();
        let again = shared
            .get_or_open("k".into(), |_| true, open)
            .await
            .unwrap();
        assert_eq!((*first, *again), (0, 0));
        let other = shared
            .get_or_open("other".into(), |_| true, open)
            .await
            .unwrap();
        assert_eq!(*other, 1);
        let reopened = shared
            .get_or_open("k".into(), |_| false, open)
            .await
            .unwrap();
        assert_eq!(*reopened, 2);
    }

    #[tokio::test]
    async fn a_failed_open_keeps_nothing() {
        let shared = Shared::default();
        let failed = shared
            .get_or_open(
                "k".into(),
                |_: &u8| true,
                || async { Err(ConnectorError::Unavailable("down".into())) },
            )
            .await;
        assert!(failed.is_err());
        let opened = shared
            .get_or_open("k".into(), |_| true, || async { Ok(7u8) })
            .await
            .unwrap();
        assert_eq!(*opened, 7);
    }
}
