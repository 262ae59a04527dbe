//! AMQP connections (RabbitMQ): one connection and channel per
//! connection's settings, opened on first use and again after a failure;
//! messages are published persistent.

use crate::runtime::{AmqpMessage, ConnectorError};
use amqprs::BasicProperties;
use amqprs::channel::{BasicPublishArguments, Channel};
use amqprs::connection::{Connection, OpenConnectionArguments};

/// An open connection and its channel.
pub(super) struct Publisher {
    connection: Connection,
    channel: Channel,
}

impl Publisher {
    /// Opens a connection to `url` (`amqp://user:password@host:port/vhost`).
    pub(super) async fn open(url: &str) -> Result<Self, ConnectorError> {
        let arguments = OpenConnectionArguments::try_from(url)
            .map_err(|e| ConnectorError::NotFound(format!("config.url: {e}")))?;
        let connection = Connection::open(&arguments)
            .await
            .map_err(|e| ConnectorError::Unavailable(e.to_string()))?;
        let channel = connection
            .open_channel(None)
            .await
            .map_err(|e| ConnectorError::Unavailable(e.to_string()))?;
        Ok(Self {
            connection,
            channel,
        })
    }

    /// Whether the connection still works.
    pub(super) fn is_open(&self) -> bool {
        self.connection.is_open() && self.channel.is_open()
    }

    /// Publishes one message.
    pub(super) async fn publish(&self, message: AmqpMessage) -> Result<(), ConnectorError> {
        let mut properties = BasicProperties::default();
        properties.with_persistence(true);
        if let Some(content_type) = &message.content_type {
            properties.with_content_type(content_type);
        }
        self.channel
            .basic_publish(
                properties,
                message.body,
                BasicPublishArguments::new(&message.exchange, &message.routing_key),
            )
            .await
            .map_err(|e| ConnectorError::Unavailable(e.to_string()))
    }
}
