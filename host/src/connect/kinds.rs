//! The registry of connection kinds: each kind lives in its own folder
//! (`sql/`, `http/`, `redis/`, `amqp/`) and implements `kind::Kind`; the
//! table below is the one line that registers it.

use super::kind::{Kind, SettingsError};
use super::{amqp, http, redis, sql};
use crate::confine::Confinement;
use crate::store::model::{ConnectionKind, ConnectionRecord};

/// The kind `kind` names.
pub fn of(kind: ConnectionKind) -> &'static dyn Kind {
    match kind {
        ConnectionKind::Sql => &sql::kind::Sql,
        ConnectionKind::Http => &http::kind::Http,
        ConnectionKind::Redis => &redis::kind::Redis,
        ConnectionKind::Amqp => &amqp::kind::Amqp,
    }
}

/// Checks a connection's settings for its kind, and that it reaches only
/// what `confinement` lets a user connection reach.
pub fn check_settings(
    record: &ConnectionRecord,
    confinement: &Confinement,
) -> Result<(), SettingsError> {
    of(record.kind).check(record, confinement)
}
