//! How every system-API handler answers: JSON bodies parsed with errors
//! that say where, store errors mapped to statuses, problems carrying the
//! request id.

use crate::problem::Problem;
use crate::request_id::request_id;
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

/// A store error as the client's problem (409 taken, 412 stale, 400 unknown
/// reference)
/// or the server's (500, logged with the request id).
pub fn store_problem(headers: &HeaderMap, err: StoreError) -> Problem {
    match err {
        StoreError::Conflict(what) => {
            Problem::new(StatusCode::CONFLICT).detail(format!("{what} already exists"))
        }
        StoreError::Stale(what) => Problem::new(StatusCode::PRECONDITION_FAILED).detail(format!(
            "the {what} changed since you read it (If-Match names an older ETag); read it again"
        )),
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

/// The answer of a write (`{"success", "message", "id"}`): what happened
/// to which entity, and an app's credentials when they are shown (only once).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Written {
    success: bool,
    message: String,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

impl Written {
    /// A successful write of the entity `id`.
    pub fn new(message: impl Into<String>, id: impl ToString) -> Self {
        Self {
            success: true,
            message: message.into(),
            id: id.to_string(),
            client_id: None,
            client_secret: None,
        }
    }

    /// Shows an app's credentials; the secret only now.
    pub fn credentials(mut self, client_id: String, client_secret: Option<String>) -> Self {
        self.client_id = Some(client_id);
        self.client_secret = client_secret;
        self
    }
}

/// A 400 naming what is wrong with the request.
pub fn bad_request(detail: impl Into<String>) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST).detail(detail)
}
