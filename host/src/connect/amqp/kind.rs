//! AMQP connections as a kind: their settings (an `amqp:` or `amqps:`
//! URL), the served connection (a confirming channel per settings, opened
//! again once closed) and the backend's test (log in, open a channel).

use super::Publisher;
use crate::confine::Confinement;
use crate::connect::Pools;
use crate::connect::kind::{Kind, NotWorking, SettingsError, UrlOnly, url_only};
use crate::runtime::{AmqpConnection, AmqpMessage, BoxFuture, Connection, ConnectorError};
use crate::store::model::ConnectionRecord;
use std::sync::Arc;
use std::time::Duration;

/// An AMQP broker's settings: its URL (`amqp:` or `amqps:`).
fn settings(record: &ConnectionRecord) -> Result<UrlOnly, SettingsError> {
    url_only(record, &["amqp", "amqps"])
}

/// The AMQP kind.
pub struct Amqp;

impl Kind for Amqp {
    fn check(&self, record: &ConnectionRecord, _: &Confinement) -> Result<(), SettingsError> {
        settings(record).map(drop)
    }

    fn serve(&self, record: ConnectionRecord, pools: Arc<Pools>, _: Duration) -> Connection {
        Connection::Amqp(Arc::new(Served { record, pools }))
    }

    fn test<'a>(
        &self,
        record: &'a ConnectionRecord,
        _: &'a Confinement,
    ) -> BoxFuture<'a, Result<String, NotWorking>> {
        Box::pin(async move {
            let config = settings(record).map_err(|e| e.to_string())?;
            let publisher = Publisher::open(&config.url)
                .await
                .map_err(|e| format!("cannot connect: {}", e.into_reason()))?;
            publisher.close().await;
            Ok("connected, logged in and opened a channel".into())
        })
    }
}

/// An AMQP connection of a revision: the node's publisher for its
/// settings, opened again when the broker closed it.
struct Served {
    record: ConnectionRecord,
    pools: Arc<Pools>,
}

impl AmqpConnection for Served {
    fn publish(&self, message: AmqpMessage) -> BoxFuture<'_, Result<(), ConnectorError>> {
        Box::pin(async move {
            let record = &self.record;
            let config = settings(record)
                .map_err(|e| ConnectorError::NotFound(format!("`{}`: {e}", record.name)))?;
            let key = format!("amqp\n{}\n{}", record.name, config.url);
            let publisher = self
                .pools
                .shared()
                .get_or_open(key, Publisher::is_open, || Publisher::open(&config.url))
                .await?;
            publisher.publish(message).await
        })
    }
}
