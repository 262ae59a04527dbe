//! AMQP (RabbitMQ) through the connections the action was granted.
//!
//! ```no_run
//! # fn run() -> Result<(), fusio_sdk::Error> {
//! // To a queue, through the default exchange:
//! fusio_sdk::amqp::publish("Queue", "", "orders", br#"{"id":1}"#, Some("application/json"))?;
//! # Ok(()) }
//! ```

use crate::bindings::fusio::action::connector as raw;
pub use raw::ConnectorError;

/// Publishes `body` to `exchange` with `routing_key` (persistent).
pub fn publish(
    connection: &str,
    exchange: &str,
    routing_key: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(), ConnectorError> {
    raw::amqp_publish(connection, exchange, routing_key, body, content_type)
}
