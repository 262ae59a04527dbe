//! How every system-API handler answers: JSON bodies parsed with errors
//! that say where, store errors mapped to statuses, writes acknowledged in
//! one shape.

use crate::api_error::ApiError;
use crate::auth::accounts::AccountError;
use crate::problem::Problem;
use crate::store::StoreError;
use http::StatusCode;
use serde::de::DeserializeOwned;

/// A JSON body, or a 400 naming what is wrong and where.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|err| {
        Problem::new(StatusCode::BAD_REQUEST).detail(format!("the body is not valid: {err}"))
    })
}

impl From<StoreError> for ApiError {
    /// A store error as the client's problem (409 taken, 412 stale, 400
    /// unknown reference) or the server's (500, logged with the request id).
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => {
                Problem::new(StatusCode::CONFLICT).detail(format!("{what} already exists")).into()
            }
            StoreError::Stale(what) => Problem::new(StatusCode::PRECONDITION_FAILED).detail(format!(
                "the {what} changed since you read it (If-Match names an older ETag); read it again"
            )).into(),
            StoreError::Missing(what) => {
                Problem::new(StatusCode::BAD_REQUEST).detail(format!("{what} does not exist")).into()
            }
            err => ApiError::failed("the system store failed", &err),
        }
    }
}

impl From<AccountError> for ApiError {
    /// An account that cannot be created as asked is the client's problem
    /// (400 naming why); a store failure is the server's.
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Store(err) => err.into(),
            other => bad_request(other.to_string()).into(),
        }
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
