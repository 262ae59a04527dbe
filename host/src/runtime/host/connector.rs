//! `fusio:action/connector`: the grant check (an action opens only the
//! connections its `connections:` name) and the deadline on every call;
//! the work is the server's `Capabilities`.

use super::HostState;
use crate::runtime::bindings::fusio::action::connector::{
    ConnectorError, Host, HostSql, HostTransaction, HttpRequest, HttpResponse, RedisValue, Rows,
    Sql, SqlValue, Transaction,
};
use crate::runtime::capabilities::{SqlSession, SqlTransaction};
use std::sync::Arc;
use wasmtime::component::Resource;

/// The host side of an open `sql` resource.
pub struct SqlHandle(Arc<dyn SqlSession>);

/// The host side of a `transaction` resource: `None` once committed or
/// rolled back. Dropped with the instance (a trap, a timeout) it rolls back.
pub struct TransactionHandle(Option<Box<dyn SqlTransaction>>);

fn over() -> ConnectorError {
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
        .map_err(|_| crate::runtime::invoke::DeadlineExceeded.into())
}

impl HostState {
    /// Access-denied unless the action was granted the connection `name`.
    fn granted(&self, name: &str) -> Result<(), ConnectorError> {
        if self
            .action
            .connections
            .iter()
            .any(|granted| granted == name)
        {
            Ok(())
        } else {
            Err(ConnectorError::AccessDenied(format!(
                "the action `{}` is not granted the connection `{name}`",
                self.action.name
            )))
        }
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
        if let Err(denied) = self.granted(&name) {
            return Ok(Err(denied));
        }
        let capabilities = self.capabilities.clone();
        let message = crate::runtime::AmqpMessage {
            exchange,
            routing_key,
            body,
            content_type,
        };
        before(self.deadline, capabilities.amqp_publish(&name, message)).await
    }

    async fn redis(
        &mut self,
        name: String,
        command: String,
        args: Vec<Vec<u8>>,
    ) -> wasmtime::Result<Result<RedisValue, ConnectorError>> {
        if let Err(denied) = self.granted(&name) {
            return Ok(Err(denied));
        }
        let capabilities = self.capabilities.clone();
        before(self.deadline, capabilities.redis(&name, command, args)).await
    }

    async fn http_send(
        &mut self,
        name: String,
        request: HttpRequest,
    ) -> wasmtime::Result<Result<HttpResponse, ConnectorError>> {
        if let Err(denied) = self.granted(&name) {
            return Ok(Err(denied));
        }
        let capabilities = self.capabilities.clone();
        before(self.deadline, capabilities.http_send(&name, request)).await
    }

    async fn open_sql(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<Sql>, ConnectorError>> {
        if let Err(denied) = self.granted(&name) {
            return Ok(Err(denied));
        }
        let capabilities = self.capabilities.clone();
        match before(self.deadline, capabilities.open_sql(&name)).await? {
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
            None => Ok(Err(over())),
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
            None => Ok(Err(over())),
        }
    }

    async fn commit(
        &mut self,
        tx: Resource<Transaction>,
    ) -> wasmtime::Result<Result<(), ConnectorError>> {
        match self.table.get_mut(&tx)?.0.take() {
            Some(open) => before(self.deadline, open.commit()).await,
            None => Ok(Err(over())),
        }
    }

    async fn rollback(
        &mut self,
        tx: Resource<Transaction>,
    ) -> wasmtime::Result<Result<(), ConnectorError>> {
        match self.table.get_mut(&tx)?.0.take() {
            Some(open) => before(self.deadline, open.rollback()).await,
            None => Ok(Err(over())),
        }
    }

    async fn drop(&mut self, tx: Resource<Transaction>) -> wasmtime::Result<()> {
        self.table.delete(tx)?;
        Ok(())
    }
}
