//! How the OAuth2 endpoints answer errors: RFC 6749's
//! `{error, error_description}` (section 5.2), never cached.

use crate::store::StoreError;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

/// An RFC 6749 error (section 5.2), rendered as JSON with `no-store`.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Malformed request: missing, repeated or oversized parameters.
    #[error("{0}")]
    InvalidRequest(String),
    /// The client is unknown, inactive or failed to authenticate; `basic`
    /// says whether it tried HTTP Basic (then the answer challenges it).
    #[error("{reason}")]
    InvalidClient {
        /// What was wrong.
        reason: String,
        /// Whether the client used the Authorization header.
        basic: bool,
    },
    /// The grant (code, refresh token, password) is invalid or expired.
    #[error("{0}")]
    InvalidGrant(String),
    /// The client may not use this grant type.
    #[error("{0}")]
    UnauthorizedClient(String),
    /// The grant type is unknown.
    #[error("{0}")]
    UnsupportedGrantType(String),
    /// A requested scope is unknown or not allowed.
    #[error("{0}")]
    InvalidScope(String),
    /// Too many failed logins for the account or the client address.
    #[error(transparent)]
    Throttled(#[from] super::throttle::Throttled),
    /// The store failed.
    #[error("the authorization server failed")]
    Server(#[from] StoreError),
}

impl OAuthError {
    fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient { .. } => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::Throttled(_) => "temporarily_unavailable",
            OAuthError::Server(_) => "server_error",
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match &self {
            OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
            OAuthError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            OAuthError::Server(err) => {
                tracing::error!(error = %err, "token endpoint");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::BAD_REQUEST,
        };
        let body = serde_json::json!({
            "error": self.code(),
            "error_description": self.to_string(),
        });
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        no_store(headers);
        if let OAuthError::Throttled(throttled) = &self {
            headers.insert(header::RETRY_AFTER, throttled.retry_after.as_secs().into());
        }
        if let OAuthError::InvalidClient { basic: true, .. } = self {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Fusio\""),
            );
        }
        response
    }
}

/// Marks a response as never to be cached (RFC 6749 5.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The answer of an OAuth2 endpoint: never cached, errors as RFC 6749 says.
pub fn answer(result: Result<impl IntoResponse, OAuthError>) -> Response {
    match result {
        Ok(body) => {
            let mut response = body.into_response();
            no_store(response.headers_mut());
            response
        }
        Err(err) => err.into_response(),
    }
}
