//! `fusio:action/processor`: one action calls another in a fresh instance
//! of its own, on the caller's deadline, at most [`MAX_DEPTH`] deep.

use super::HostState;
use super::{DeadlineExceeded, Nesting};
use crate::runtime::InvokeError;
use crate::runtime::bindings::fusio::action::processor::{CallError, Host};
use crate::runtime::bindings::fusio::action::types::{ActionError, Request, Response};

/// How deep calls may nest (the request's own action is depth 0).
pub const MAX_DEPTH: u32 = 8;

impl Host for HostState {
    async fn call(
        &mut self,
        name: String,
        mut request: Request,
    ) -> wasmtime::Result<Result<Result<Response, ActionError>, CallError>> {
        if self.depth + 1 >= MAX_DEPTH {
            self.runtime.count_call(3);
            return Ok(Err(CallError::TooDeep(format!(
                "calling `{name}` would nest {} actions deep; the most is {MAX_DEPTH}",
                self.depth + 2
            ))));
        }
        let Some(action) = self.capabilities.action(&name) else {
            self.runtime.count_call(2);
            return Ok(Err(CallError::NotFound(format!(
                "no deployed action `{name}`"
            ))));
        };
        // The callee's log lines carry the request's id.
        request.context.request_id = self.request_id.to_string();
        let runtime = self.runtime.clone();
        let capabilities = self.capabilities.clone();
        let caller = Nesting {
            deadline: self.deadline,
            depth: self.depth,
            client: self.client,
        };
        let outcome = Box::pin(runtime.invoke_within(
            &action,
            request,
            capabilities,
            crate::runtime::invoke::Origin::Caller(caller),
        ))
        .await;
        self.runtime.count_call(usize::from(outcome.is_err()));
        match outcome {
            Ok(answer) => Ok(Ok(answer)),
            // The shared deadline passed: the whole request is over.
            Err(InvokeError::Timeout(_)) if std::time::Instant::now() >= self.deadline => {
                Err(DeadlineExceeded.into())
            }
            Err(err) => Ok(Err(CallError::Failed(format!("`{name}`: {err}")))),
        }
    }
}
