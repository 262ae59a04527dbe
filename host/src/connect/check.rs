//! Whether a connection works, and why not: the backend's
//! `POST /backend/connection/{name}/test`. SQL connects and runs `SELECT 1`
//! (credentials included); HTTP asks the base URL (any answer means
//! reachable); Redis connects (with its password) and runs `PING`; AMQP
//! logs in to its virtual host and opens a channel. Every check is
//! bounded, so an unreachable host never hangs.

use super::http::HttpClient;
use super::settings as connection;
use super::sql::Single;
use crate::confine::Confinement;
use crate::runtime::HttpRequest;
use crate::store::model::{ConnectionKind, ConnectionRecord};
use std::time::Duration;

/// How long one check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks `record`; `Err` says why it does not work.
/// The connection reaches only what `confinement` allows.
pub async fn check(record: &ConnectionRecord, confinement: &Confinement) -> Result<String, String> {
    tokio::time::timeout(CHECK_TIMEOUT, run(record, confinement))
        .await
        .unwrap_or_else(|_| {
            Err(format!(
                "no answer within {}s (is the host reachable?)",
                CHECK_TIMEOUT.as_secs()
            ))
        })
}

async fn run(record: &ConnectionRecord, confinement: &Confinement) -> Result<String, String> {
    match record.kind {
        ConnectionKind::Sql => {
            let config = connection::sql(record)?;
            let target = confinement.sql_target(&config.url)?;
            let mut conn = Single::connect(&target)
                .await
                .map_err(|e| format!("cannot connect: {e}"))?;
            conn.ping()
                .await
                .map_err(|e| format!("connected, but `SELECT 1` failed: {e}"))?;
            conn.close().await;
            Ok("connected and ran SELECT 1".into())
        }
        ConnectionKind::Http => {
            let config: connection::HttpConfig = serde_json::from_value(record.config.clone())
                .map_err(|e| format!("config: {e}"))?;
            let client = HttpClient::new(&config).map_err(|e| format!("{e:?}"))?;
            let answer = client
                .send(HttpRequest {
                    method: "GET".into(),
                    path: String::new(),
                    headers: Vec::new(),
                    body: Vec::new(),
                })
                .await
                .map_err(|e| format!("{e:?}"))?;
            Ok(format!("the base URL answered {}", answer.status))
        }
        ConnectionKind::Redis => {
            let url = record.config["url"]
                .as_str()
                .ok_or("config.url is missing")?;
            let mut manager = super::redis::connect(url)
                .await
                .map_err(|e| format!("cannot connect: {}", reason(e)))?;
            let answer: String = ::redis::cmd("PING")
                .query_async(&mut manager)
                .await
                .map_err(|e| format!("connected, but PING failed: {e}"))?;
            Ok(format!("connected and ran PING ({answer})"))
        }
        ConnectionKind::Amqp => {
            let url = record.config["url"]
                .as_str()
                .ok_or("config.url is missing")?;
            let publisher = super::amqp::Publisher::open(url)
                .await
                .map_err(|e| format!("cannot connect: {}", reason(e)))?;
            publisher.close().await;
            Ok("connected, logged in and opened a channel".into())
        }
    }
}

/// The text of a connector error.
fn reason(err: crate::runtime::ConnectorError) -> String {
    use crate::runtime::ConnectorError as E;
    match err {
        E::AccessDenied(why)
        | E::NotFound(why)
        | E::Unavailable(why)
        | E::Query(why)
        | E::Timeout(why) => why,
    }
}
