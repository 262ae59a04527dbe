//! `fusio:action/connector`: the grant check (an action opens only the
//! connections its `connections:` name) and the deadline on every call;
//! the work is the served connection's, through the trait of its kind.

use super::HostState;
use crate::runtime::bindings::fusio::action::connector::{
    ConnectorError, Host, HostSql, HostTransaction, HttpRequest, HttpResponse, RedisValue, Rows,
    Sql, SqlValue, Transaction,
};
use crate::runtime::capabilities::{
    AmqpConnection, Connection, HttpConnection, RedisConnection, SqlConnection, SqlSession,
    SqlTransaction,
};
use std::sync::Arc;
use wasmtime::component::Resource;

/// The host side of an open `sql` resource.
pub struct SqlHandle(Arc<dyn SqlSession>);

/// The host side of a `transaction` resource: `None` once committed or
/// rolled back. Dropped with the instance (a trap, a timeout) it rolls back.
pub struct TransactionHandle(Option<Box<dyn SqlTransaction>>);

/// The answer to a statement on a transaction already committed or rolled
/// back.
fn transaction_over() -> ConnectorError {
    ConnectorError::Query("the transaction is over (committed or rolled back)".into())
}

/// Runs `call` unless `deadline` passes first. Then `call` is dropped,
/// which gives its pool connection back, and the request ends as a timeout
/// (504) like a guest that computes too long: the guest gets no more time.
async fn before<T>(
    deadline: std::time::Instant,
    call: impl Future<Output = Result<T, ConnectorError>>,
) -> wasmtime::Result<Result<T, ConnectorError>> {
    tokio::time::timeout_at(deadline.into(), call)
        .await
        .map_err(|_| super::DeadlineExceeded.into())
}

/// A connection's kind as the connector asks for it: its name in
/// messages, and the served connection when it is of this kind.
trait Wanted: Sized {
    const KIND: &'static str;
    fn from_served(connection: Connection) -> Option<Self>;
}

/// `Wanted` for the trait object each `Connection` variant holds.
macro_rules! wanted {
    ($variant:ident, $trait:ident, $kind:literal) => {
        impl Wanted for Arc<dyn $trait> {
            const KIND: &'static str = $kind;
            fn from_served(connection: Connection) -> Option<Self> {
                match connection {
                    Connection::$variant(served) => Some(served),
                    _ => None,
                }
            }
        }
    };
}
wanted!(Sql, SqlConnection, "SQL");
wanted!(Http, HttpConnection, "HTTP");
wanted!(Redis, RedisConnection, "Redis");
wanted!(Amqp, AmqpConnection, "AMQP");

impl HostState {
    /// The connection `name` as the kind `T`: access-denied unless the
    /// action was granted it, not-found unless the revision serves a
    /// connection of that kind by that name.
    fn granted<T: Wanted>(&self, name: &str) -> Result<T, ConnectorError> {
        self.grant(name)?;
        self.capabilities
            .connection(name)
            .and_then(T::from_served)
            .ok_or_else(|| ConnectorError::NotFound(format!("no {} connection `{name}`", T::KIND)))
    }
}

impl HostState {
    /// Access-denied unless the action was granted the connection `name`.
    pub(super) fn grant(&self, name: &str) -> Result<(), ConnectorError> {
        if self
            .action
            .connections
            .iter()
            .any(|granted| granted == name)
        {
            return Ok(());
        }
        Err(ConnectorError::AccessDenied(format!(
            "the action `{}` is not granted the connection `{name}`",
            self.action.name
        )))
    }
}

impl Host for HostState {
    async fn amqp_publish(
        &mut self,
        name: String,
        exchange: String,
        routing_key: String,
        body: Vec<u8>,
        content_type: Option<String>,
    ) -> wasmtime::Result<Result<(), ConnectorError>> {
        let amqp = match self.granted::<Arc<dyn AmqpConnection>>(&name) {
            Ok(amqp) => amqp,
            Err(refused) => return Ok(Err(refused)),
        };
        let message = crate::runtime::AmqpMessage {
            exchange,
            routing_key,
            body,
            content_type,
        };
        before(self.deadline, amqp.publish(message)).await
    }

    async fn redis(
        &mut self,
        name: String,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> wasmtime::Result<Result<RedisValue, ConnectorError>> {
        let redis = match self.granted::<Arc<dyn RedisConnection>>(&name) {
            Ok(redis) => redis,
            Err(refused) => return Ok(Err(refused)),
        };
        before(self.deadline, redis.run(command, args)).await
    }

    async fn http_send(
        &mut self,
        name: String,
        request: HttpRequest,
    ) -> wasmtime::Result<Result<HttpResponse, ConnectorError>> {
        let http = match self.granted::<Arc<dyn HttpConnection>>(&name) {
            Ok(http) => http,
            Err(refused) => return Ok(Err(refused)),
        };
        before(self.deadline, http.send(request)).await
    }

    async fn open_sql(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<Sql>, ConnectorError>> {
        let sql = match self.granted::<Arc<dyn SqlConnection>>(&name) {
            Ok(sql) => sql,
            Err(refused) => return Ok(Err(refused)),
        };
        match before(self.deadline, sql.open()).await? {
            Ok(session) => Ok(Ok(self.table.push(SqlHandle(session))?)),
            Err(err) => Ok(Err(err)),
        }
    }
}

impl HostSql for HostState {
    async fn query(
        &mut self,
        sql: Resource<Sql>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<Rows, ConnectorError>> {
        let session = self.table.get(&sql)?.0.clone();
        before(self.deadline, session.query(&statement, params)).await
    }

    async fn execute(
        &mut self,
        sql: Resource<Sql>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<u64, ConnectorError>> {
        let session = self.table.get(&sql)?.0.clone();
        before(self.deadline, session.execute(&statement, params)).await
    }

    async fn query_json(
        &mut self,
        sql: Resource<Sql>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<String, ConnectorError>> {
        let rows = HostSql::query(self, sql, statement, params).await?;
        Ok(rows.map(|rows| rows_json(&rows)))
    }

    async fn begin(
        &mut self,
        sql: Resource<Sql>,
    ) -> wasmtime::Result<Result<Resource<Transaction>, ConnectorError>> {
        let session = self.table.get(&sql)?.0.clone();
        match before(self.deadline, session.begin()).await? {
            Ok(tx) => Ok(Ok(self.table.push(TransactionHandle(Some(tx)))?)),
            Err(err) => Ok(Err(err)),
        }
    }

    async fn drop(&mut self, sql: Resource<Sql>) -> wasmtime::Result<()> {
        self.table.delete(sql)?;
        Ok(())
    }
}

impl HostTransaction for HostState {
    async fn query(
        &mut self,
        tx: Resource<Transaction>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<Rows, ConnectorError>> {
        let deadline = self.deadline;
        match self.table.get_mut(&tx)?.0.as_mut() {
            Some(open) => before(deadline, open.query(&statement, params)).await,
            None => Ok(Err(transaction_over())),
        }
    }

    async fn execute(
        &mut self,
        tx: Resource<Transaction>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<u64, ConnectorError>> {
        let deadline = self.deadline;
        match self.table.get_mut(&tx)?.0.as_mut() {
            Some(open) => before(deadline, open.execute(&statement, params)).await,
            None => Ok(Err(transaction_over())),
        }
    }

    async fn query_json(
        &mut self,
        tx: Resource<Transaction>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<String, ConnectorError>> {
        let rows = HostTransaction::query(self, tx, statement, params).await?;
        Ok(rows.map(|rows| rows_json(&rows)))
    }

    async fn commit(
        &mut self,
        tx: Resource<Transaction>,
    ) -> wasmtime::Result<Result<(), ConnectorError>> {
        match self.table.get_mut(&tx)?.0.take() {
            Some(open) => before(self.deadline, open.commit()).await,
            None => Ok(Err(transaction_over())),
        }
    }

    async fn rollback(
        &mut self,
        tx: Resource<Transaction>,
    ) -> wasmtime::Result<Result<(), ConnectorError>> {
        match self.table.get_mut(&tx)?.0.take() {
            Some(open) => before(self.deadline, open.rollback()).await,
            None => Ok(Err(transaction_over())),
        }
    }

    async fn drop(&mut self, tx: Resource<Transaction>) -> wasmtime::Result<()> {
        self.table.delete(tx)?;
        Ok(())
    }
}

/// Rows as a JSON array of objects, keys in column order, written straight
/// from the typed values (no intermediate JSON tree but for JSON columns).
fn rows_json(rows: &Rows) -> String {
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};

    struct Value<'a>(&'a SqlValue);
    impl serde::Serialize for Value<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                SqlValue::Null => s.serialize_unit(),
                SqlValue::Boolean(b) => s.serialize_bool(*b),
                SqlValue::Integer(i) => s.serialize_i64(*i),
                SqlValue::Float(f) if f.is_finite() => s.serialize_f64(*f),
                SqlValue::Float(_) => s.serialize_unit(),
                SqlValue::Text(t) | SqlValue::Timestamp(t) => s.serialize_str(t),
                SqlValue::Bytes(b) => s.collect_seq(b),
                SqlValue::Json(t) => match serde_json::from_str::<serde_json::Value>(t) {
                    Ok(json) => json.serialize(s),
                    Err(_) => s.serialize_str(t),
                },
            }
        }
    }

    struct Row<'a>(&'a [String], &'a [SqlValue]);
    impl serde::Serialize for Row<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut map = s.serialize_map(Some(self.0.len()))?;
            for (column, value) in self.0.iter().zip(self.1) {
                map.serialize_entry(column, &Value(value))?;
            }
            SerializeMap::end(map)
        }
    }

    let mut out = Vec::with_capacity(64 * rows.rows.len() + 2);
    let mut serializer = serde_json::Serializer::new(&mut out);
    let written = (|| {
        let mut seq = serializer.serialize_seq(Some(rows.rows.len()))?;
        for row in &rows.rows {
            seq.serialize_element(&Row(&rows.columns, row))?;
        }
        SerializeSeq::end(seq)
    })();
    written.expect("rows serialize to JSON");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::{Rows, SqlValue, rows_json};

    #[test]
    fn rows_become_json_objects_in_column_order() {
        let rows = Rows {
            columns: vec!["z".into(), "a".into(), "meta".into(), "raw".into()],
            rows: vec![
                vec![
                    SqlValue::Integer(1),
                    SqlValue::Timestamp("2026-11-27T10:30:00Z".into()),
                    SqlValue::Json(r#"{"tags":["x"]}"#.into()),
                    SqlValue::Bytes(vec![0, 255]),
                ],
                vec![
                    SqlValue::Null,
                    SqlValue::Float(f64::NAN),
                    SqlValue::Boolean(true),
                    SqlValue::Text("\"quoted\"".into()),
                ],
            ],
        };
        assert_eq!(
            rows_json(&rows),
            r#"[{"z":1,"a":"2026-11-27T10:30:00Z","meta":{"tags":["x"]},"raw":[0,255]},{"z":null,"a":null,"meta":true,"raw":"\"quoted\""}]"#
        );
        let empty = Rows {
            columns: vec![],
            rows: vec![],
        };
        assert_eq!(rows_json(&empty), "[]");
    }
}
