//! AMQP connections (RabbitMQ): one connection and channel per
//! connection's settings, opened on first use and again after a failure.
//! Messages are published persistent on a channel in confirm mode: a
//! publish answers only when the broker has taken the message (its `ack`),
//! and a message the broker refuses (`nack`: a full queue that rejects
//! publishes, say) is an error for the action instead of a silent loss.

pub mod kind;

use crate::runtime::{AmqpMessage, ConnectorError};
use amqprs::callbacks::ChannelCallback;
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{Ack, BasicProperties, Cancel, CloseChannel, Nack, Return};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Publishes waiting for the broker's word, by delivery tag.
#[derive(Default)]
struct Pending {
    /// The tag the broker gives the next publish (it counts from 1 per
    /// channel in confirm mode).
    next: u64,
    /// Whether each unconfirmed publish was taken (`true`) or refused.
    waiting: BTreeMap<u64, oneshot::Sender<bool>>,
    /// Why the broker closed the channel, once it has: the publishes still
    /// waiting will never be confirmed.
    closed: Option<String>,
}

impl Pending {
    /// Settles `tag`, or every tag up to it when `multiple`.
    fn settle(&mut self, tag: u64, multiple: bool, taken: bool) {
        let settled: Vec<u64> = if multiple {
            self.waiting.range(..=tag).map(|(t, _)| *t).collect()
        } else {
            vec![tag]
        };
        for tag in settled {
            if let Some(waiter) = self.waiting.remove(&tag) {
                let _ = waiter.send(taken);
            }
        }
    }
}

/// Hands the broker's acks and nacks to the waiting publishes.
struct Confirms(Arc<Mutex<Pending>>);

impl Confirms {
    fn settle(&self, tag: u64, multiple: bool, taken: bool) {
        self.0
            .lock()
            .expect("the pending publishes are never poisoned")
            .settle(tag, multiple, taken);
    }
}

#[async_trait::async_trait]
impl ChannelCallback for Confirms {
    async fn close(
        &mut self,
        _: &Channel,
        close: CloseChannel,
    ) -> Result<(), amqprs::error::Error> {
        let mut pending = self.0.lock().expect("never poisoned");
        pending.closed = Some(close.reply_text().clone());
        // Their senders dropped, the waiting publishes fail at once.
        pending.waiting.clear();
        Ok(())
    }

    async fn cancel(&mut self, _: &Channel, _: Cancel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }

    async fn flow(&mut self, _: &Channel, active: bool) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }

    async fn publish_ack(&mut self, _: &Channel, ack: Ack) {
        self.settle(ack.delivery_tag(), ack.mutiple(), true);
    }

    async fn publish_nack(&mut self, _: &Channel, nack: Nack) {
        self.settle(nack.delivery_tag(), nack.multiple(), false);
    }

    async fn publish_return(&mut self, _: &Channel, _: Return, _: BasicProperties, _: Vec<u8>) {}
}

/// An open connection and its channel in confirm mode.
pub(super) struct Publisher {
    connection: Connection,
    channel: Channel,
    pending: Arc<Mutex<Pending>>,
    /// Held while a message is published, so delivery tags follow the
    /// order of publishes.
    publishing: tokio::sync::Mutex<()>,
}

/// The arguments for `url`, with a percent-encoded virtual host decoded
/// (`amqp://…/%2f` is RabbitMQ's way to write the vhost `/`).
fn arguments(url: &str) -> Result<OpenConnectionArguments, ConnectorError> {
    let invalid = |e: String| ConnectorError::NotFound(format!("config.url: {e}"));
    let mut arguments =
        OpenConnectionArguments::try_from(url).map_err(|e| invalid(e.to_string()))?;
    let parsed = reqwest::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    let vhost = parsed.path().trim_start_matches('/');
    if !vhost.is_empty() {
        let decoded = percent_encoding::percent_decode_str(vhost)
            .decode_utf8()
            .map_err(|e| invalid(format!("the virtual host is not UTF-8: {e}")))?;
        arguments.virtual_host(&decoded);
    }
    Ok(arguments)
}

impl Publisher {
    /// Opens a connection to `url` (`amqp://user:password@host:port/vhost`).
    pub(super) async fn open(url: &str) -> Result<Self, ConnectorError> {
        let unavailable = |e: amqprs::error::Error| ConnectorError::Unavailable(e.to_string());
        let connection = Connection::open(&arguments(url)?)
            .await
            .map_err(|e| match e {
                // RabbitMQ drops the socket when a login fails (it tells
                // only clients that ask for the reason, which amqprs does
                // not): say what that most likely means.
                amqprs::error::Error::NetworkError(reason) if reason.contains("reset by peer") => {
                    ConnectorError::Unavailable(format!(
                        "the broker closed the connection while logging in \
                         (a wrong user or password?): {reason}"
                    ))
                }
                other => unavailable(other),
            })?;
        let channel = connection.open_channel(None).await.map_err(unavailable)?;
        let pending = Arc::new(Mutex::new(Pending {
            next: 1,
            ..Pending::default()
        }));
        channel
            .register_callback(Confirms(pending.clone()))
            .await
            .map_err(unavailable)?;
        channel
            .confirm_select(ConfirmSelectArguments::new(false))
            .await
            .map_err(unavailable)?;
        Ok(Self {
            connection,
            channel,
            pending,
            publishing: tokio::sync::Mutex::new(()),
        })
    }

    /// Closes the connection (the channel with it).
    pub(super) async fn close(self) {
        let _ = self.connection.close().await;
    }

    /// Whether the connection still works.
    pub(super) fn is_open(&self) -> bool {
        self.connection.is_open() && self.channel.is_open()
    }

    /// Publishes one message and waits until the broker has taken it.
    pub(super) async fn publish(&self, message: AmqpMessage) -> Result<(), ConnectorError> {
        let mut properties = BasicProperties::default();
        properties.with_persistence(true);
        if let Some(content_type) = &message.content_type {
            properties.with_content_type(content_type);
        }
        let (answer, taken) = oneshot::channel();
        {
            let _order = self.publishing.lock().await;
            let tag = {
                let mut pending = self.pending.lock().expect("never poisoned");
                let tag = pending.next;
                pending.next += 1;
                pending.waiting.insert(tag, answer);
                tag
            };
            if let Err(e) = self
                .channel
                .basic_publish(
                    properties,
                    message.body,
                    BasicPublishArguments::new(&message.exchange, &message.routing_key),
                )
                .await
            {
                self.pending
                    .lock()
                    .expect("never poisoned")
                    .waiting
                    .remove(&tag);
                return Err(ConnectorError::Unavailable(e.to_string()));
            }
        }
        match taken.await {
            Ok(true) => Ok(()),
            Ok(false) => Err(ConnectorError::Unavailable(format!(
                "the broker refused the message for `{}` (nack)",
                message.routing_key
            ))),
            Err(_) => {
                let reason = self.pending.lock().expect("never poisoned").closed.clone();
                Err(ConnectorError::Unavailable(format!(
                    "the broker closed the channel before it confirmed the message: {}",
                    reason.as_deref().unwrap_or("the connection ended")
                )))
            }
        }
    }
}
