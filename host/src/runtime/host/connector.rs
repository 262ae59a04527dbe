//! `fusio:action/connector`: the grant check (an action opens only the
//! connections its `connections:` name) and the deadline on every call;
//! the work is the server's `Capabilities`.

use super::HostState;
use crate::runtime::bindings::fusio::action::connector::{
    ConnectorError, Host, HostSql, Rows, Sql, SqlValue,
};
use crate::runtime::capabilities::SqlSession;
use std::sync::Arc;
use wasmtime::component::Resource;

/// The host side of an open `sql` resource.
pub struct SqlHandle(Arc<dyn SqlSession>);

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

impl Host for HostState {
    async fn open_sql(
        &mut self,
        name: String,
    ) -> wasmtime::Result<Result<Resource<Sql>, ConnectorError>> {
        if !self.action.connections.contains(&name) {
            return Ok(Err(ConnectorError::AccessDenied(format!(
                "the action `{}` is not granted the connection `{name}`",
                self.action.name
            ))));
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

    async fn drop(&mut self, sql: Resource<Sql>) -> wasmtime::Result<()> {
        self.table.delete(sql)?;
        Ok(())
    }
}
