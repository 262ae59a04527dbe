//! How every system-API handler answers: JSON bodies parsed with errors
//! that say where, store errors mapped to statuses, problems carrying the
//! request id.

use crate::gateway::request_id;
use crate::problem::Problem;
use crate::store::StoreError;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body, or a 400 naming what is wrong and where.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|err| {
        Problem::new(StatusCode::BAD_REQUEST).detail(format!("the body is not valid: {err}"))
    })
}

/// A store error as the client's problem (409 taken, 400 unknown reference)
/// or the server's (500, logged with the request id).
pub fn store_problem(headers: &HeaderMap, err: StoreError) -> Problem {
    match err {
        StoreError::Conflict(what) => {
            Problem::new(StatusCode::CONFLICT).detail(format!("{what} already exists"))
        }
        StoreError::Missing(what) => {
            Problem::new(StatusCode::BAD_REQUEST).detail(format!("{what} does not exist"))
        }
        err => {
            tracing::error!(request_id = request_id(headers), error = %err, "system API: the store failed");
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR).detail("the system store failed")
        }
    }
}

/// The handler's answer, or its problem with the request id.
pub fn respond<T: IntoResponse>(headers: &HeaderMap, result: Result<T, Problem>) -> Response {
    match result {
        Ok(body) => body.into_response(),
        Err(problem) => problem.request_id(request_id(headers)).into_response(),
    }
}

/// An app's display name: 1 to 64 characters, not only spaces.
pub fn check_app_name(name: &str) -> Result<(), Problem> {
    if name.trim().is_empty() || name.len() > 64 {
        return Err(
            Problem::new(StatusCode::BAD_REQUEST).detail("`name` must have 1 to 64 characters")
        );
    }
    Ok(())
}
