//! Redis connections as a kind: their settings (a `redis:` or `rediss:`
//! URL), the served connection (a reconnecting manager per settings,
//! data commands only) and the backend's test (`PING`).

use crate::confine::Confinement;
use crate::connect::Pools;
use crate::connect::kind::{Kind, NotWorking, SettingsError, UrlOnly, url_only};
use crate::runtime::{BoxFuture, Connection, ConnectorError, RedisConnection, RedisValue};
use crate::store::model::ConnectionRecord;
use std::sync::Arc;
use std::time::Duration;

/// A Redis server's settings: its URL (`redis:` or `rediss:`).
fn settings(record: &ConnectionRecord) -> Result<UrlOnly, SettingsError> {
    url_only(record, &["redis", "rediss"])
}

/// The Redis kind.
pub struct Redis;

impl Kind for Redis {
    fn check(&self, record: &ConnectionRecord, _: &Confinement) -> Result<(), SettingsError> {
        settings(record).map(drop)
    }

    fn serve(&self, record: ConnectionRecord, pools: Arc<Pools>, _: Duration) -> Connection {
        Connection::Redis(Arc::new(Served { record, pools }))
    }

    fn test<'a>(
        &self,
        record: &'a ConnectionRecord,
        _: &'a Confinement,
    ) -> BoxFuture<'a, Result<String, NotWorking>> {
        Box::pin(async move {
            let config = settings(record).map_err(|e| e.to_string())?;
            let mut manager = super::connect(&config.url)
                .await
                .map_err(|e| format!("cannot connect: {}", e.into_reason()))?;
            let answer: String = ::redis::cmd("PING")
                .query_async(&mut manager)
                .await
                .map_err(|e| format!("connected, but PING failed: {e}"))?;
            Ok(format!("connected and ran PING ({answer})"))
        })
    }
}

/// A Redis connection of a revision: the node's manager for its settings,
/// which reconnects by itself.
struct Served {
    record: ConnectionRecord,
    pools: Arc<Pools>,
}

impl RedisConnection for Served {
    fn run(
        &self,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> BoxFuture<'_, Result<RedisValue, ConnectorError>> {
        Box::pin(async move {
            let record = &self.record;
            let config = settings(record)
                .map_err(|e| ConnectorError::NotFound(format!("`{}`: {e}", record.name)))?;
            let key = format!("redis\n{}\n{}", record.name, config.url);
            let manager = self
                .pools
                .shared()
                .get_or_open(key, |_| true, || super::connect(&config.url))
                .await?;
            super::run(&mut (*manager).clone(), &command, args).await
        })
    }
}
