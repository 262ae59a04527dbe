//! Calls other deployed actions in-process (PHP Fusio's processor). The
//! callee runs in a fresh instance of its own on this request's deadline;
//! calls nest at most eight deep.
//!
//! ```no_run
//! # fn run(req: &fusio_sdk::Request) -> Result<fusio_sdk::Response, fusio_sdk::Error> {
//! // Hand the request on to the action `audit-log`, and answer what it answers.
//! fusio_sdk::processor::call("audit-log", req)
//! # }
//! ```

use crate::bindings::fusio::action::processor as raw;
use crate::{Error, Request, Response};
pub use raw::CallError;

/// Runs the action `name` on `request` and answers its response; its error
/// becomes this action's error. Too deep a nesting is 508 Loop Detected.
pub fn call(name: &str, request: &Request) -> Result<Response, Error> {
    match raw::call(name, request.raw()) {
        Ok(Ok(response)) => Ok(Response::from_raw(response)),
        Ok(Err(error)) => Err(Error::from(error)),
        Err(CallError::TooDeep(detail)) => Err(Error::custom(508, "Loop Detected", Some(detail))),
        Err(CallError::NotFound(detail) | CallError::Failed(detail)) => Err(Error::internal(
            format!("the called action failed: {detail}"),
        )),
    }
}
