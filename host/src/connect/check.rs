//! Whether a connection works, and why not: the backend's
//! `POST /backend/connection/{name}/test`. Each kind says what it tries
//! (SQL runs `SELECT 1` with its credentials, HTTP asks the base URL, Redis
//! runs `PING`, AMQP logs in and opens a channel); every check is bounded,
//! so an unreachable host never hangs.

use super::kind::NotWorking;
use super::kinds;
use crate::confine::Confinement;
use crate::store::model::ConnectionRecord;
use std::time::Duration;

/// How long one check may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Checks `record`; `Err` says why it does not work.
/// The connection reaches only what `confinement` allows.
pub async fn check(
    record: &ConnectionRecord,
    confinement: &Confinement,
) -> Result<String, NotWorking> {
    let test = kinds::of(record.kind).test(record, confinement);
    tokio::time::timeout(CHECK_TIMEOUT, test)
        .await
        .unwrap_or_else(|_| {
            Err(NotWorking(format!(
                "no answer within {}s (is the host reachable?)",
                CHECK_TIMEOUT.as_secs()
            )))
        })
}
