//! Everything that can stop a gateway request, and the problem response
//! each becomes. Internal causes are logged with the request id here and
//! never sent to the client.

use crate::problem::Problem;
use crate::runtime::{ActionError, InvokeError};
use http::{HeaderValue, StatusCode, header};

/// Why the gateway answered with a problem instead of the action's response.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// No route matches the path.
    #[error("no route matches the path")]
    NotFound,
    /// The route exists but not for this method; carries the `Allow` value.
    #[error("the route does not answer this method")]
    MethodNotAllowed(HeaderValue),
    /// The `Accept` header names a version the route does not have.
    #[error("the route has no version {asked}")]
    UnknownVersion {
        /// The version asked for.
        asked: u32,
        /// The versions that answer.
        available: Vec<u32>,
    },
    /// The version asked for (or every version) is closed.
    #[error("the route version is closed")]
    Gone(Option<u32>),
    /// The method is not public and the caller presented no valid token.
    #[error("this route needs a valid access token")]
    Unauthorized(#[from] crate::auth::Unauthenticated),
    /// The caller's token holds none of the scopes the method requires.
    #[error("the token lacks the route's scopes")]
    Forbidden(std::sync::Arc<[String]>),
    /// The caller used up its allowance of the rate (the verdict's
    /// headers say when to come back).
    #[error("the rate `{}` is used up", .0.name)]
    TooManyRequests(std::sync::Arc<crate::limit::Rate>),
    /// The body is larger than the gateway accepts.
    #[error("the request body is too large")]
    BodyTooLarge,
    /// The body could not be read (the client broke off, bad chunking).
    #[error("the request body could not be read: {0}")]
    BodyUnreadable(String),
    /// The body misses the request schema of the method.
    #[error(transparent)]
    BodyInvalid(#[from] crate::schema::BodyError),
    /// The body's media type is not one the method accepts.
    #[error("the body's media type `{got}` is not accepted")]
    UnsupportedMediaType {
        /// The body's media type.
        got: String,
        /// What the method accepts.
        accepted: std::sync::Arc<[String]>,
    },
    /// The query misses the parameters the method declares.
    #[error(transparent)]
    QueryInvalid(#[from] crate::query::QueryError),
    /// The action answered with an error of its own.
    #[error("the action `{action}` refused the request")]
    Action {
        /// The action.
        action: String,
        /// Its error.
        error: ActionError,
    },
    /// The action gave no answer.
    #[error("the action `{action}` failed")]
    Invoke {
        /// The action.
        action: String,
        /// Why.
        source: InvokeError,
    },
    /// The action answered something HTTP cannot carry.
    #[error("the action `{action}` answered an invalid response: {reason}")]
    BadResponse {
        /// The action.
        action: String,
        /// What was invalid.
        reason: String,
    },
}

/// Seconds a client should wait when every instance slot is busy.
const RETRY_AFTER_SECONDS: &str = "1";

impl GatewayError {
    /// What the error log keeps of this error: a failure of the server or
    /// the action (never of the client's request), with its whole text.
    pub fn failure(&self) -> Option<crate::store::request_log::Failure> {
        let (kind, message) = match self {
            Self::Invoke { action, source } => {
                let kind = match source {
                    InvokeError::Timeout(_) => "timeout",
                    InvokeError::PoolExhausted(_) => "pool_exhausted",
                    InvokeError::Trap(_) => "trap",
                    InvokeError::Instantiate(_) => "instantiate",
                };
                (kind, format!("action `{action}`: {source}"))
            }
            Self::Action {
                action,
                error: ActionError::Internal(detail),
            } => ("action", format!("action `{action}`: {detail}")),
            Self::BadResponse { action, reason } => (
                "bad_response",
                format!("action `{action}` answered an invalid response: {reason}"),
            ),
            _ => return None,
        };
        Some(crate::store::request_log::Failure {
            kind: kind.to_owned(),
            message,
        })
    }

    /// The problem response for this error; logs what the client must not see.
    pub fn into_problem(self, request_id: Option<&str>) -> Problem {
        let rid = request_id.unwrap_or_default();
        let problem = match self {
            Self::NotFound => {
                Problem::new(StatusCode::NOT_FOUND).detail("no route matches this path")
            }
            Self::MethodNotAllowed(allow) => Problem::new(StatusCode::METHOD_NOT_ALLOWED)
                .detail(format!(
                    "this route answers {}",
                    allow.to_str().unwrap_or_default()
                ))
                .header(header::ALLOW, allow),
            Self::UnknownVersion { asked, available } => Problem::new(StatusCode::NOT_ACCEPTABLE)
                .detail(format!(
                    "this route has no version {asked}; it answers {}",
                    available
                        .iter()
                        .map(|v| format!("v{v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            Self::Gone(version) => Problem::new(StatusCode::GONE).detail(match version {
                Some(version) => format!("version {version} of this route is closed"),
                None => "every version of this route is closed".to_owned(),
            }),
            Self::Unauthorized(reason) => crate::auth::endpoints::unauthorized(&reason, None),
            Self::Forbidden(required) => {
                crate::auth::endpoints::insufficient_scope(&required, None)
            }
            Self::TooManyRequests(rate) => Problem::new(StatusCode::TOO_MANY_REQUESTS)
                .detail(format!(
                    "the rate `{}` allows {} requests per {}s; Retry-After says when to send the next",
                    rate.name,
                    rate.limit,
                    rate.window.as_secs()
                ))
                .extension("rate", serde_json::Value::from(rate.name.as_ref())),
            Self::BodyTooLarge => Problem::new(StatusCode::PAYLOAD_TOO_LARGE).detail(format!(
                "the request body is larger than {} bytes",
                super::MAX_BODY
            )),
            Self::BodyUnreadable(reason) => Problem::new(StatusCode::BAD_REQUEST)
                .detail(format!("the request body could not be read: {reason}")),
            Self::BodyInvalid(err) => {
                let problem = Problem::new(StatusCode::BAD_REQUEST).detail(err.to_string());
                match err {
                    crate::schema::BodyError::Invalid { violations, .. } => problem.extension(
                        "violations",
                        serde_json::to_value(violations).unwrap_or_default(),
                    ),
                    crate::schema::BodyError::NotJson(_) => problem,
                }
            }
            Self::UnsupportedMediaType { got, accepted } => {
                let list = accepted.join(", ");
                let mut problem = Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                    .detail(format!("the body is `{got}`; this method accepts {list}"));
                if let Ok(value) = http::HeaderValue::from_str(&list) {
                    problem = problem.header(http::HeaderName::from_static("accept-post"), value);
                }
                problem
            }
            Self::QueryInvalid(err) => Problem::new(StatusCode::BAD_REQUEST)
                .detail(err.to_string())
                .extension(
                    "violations",
                    serde_json::to_value(&err.0).unwrap_or_default(),
                ),
            Self::Action { action, error } => action_problem(&action, error, rid),
            Self::Invoke { action, source } => {
                match &source {
                    InvokeError::PoolExhausted(_) => {
                        tracing::warn!(request_id = rid, action, error = %source, "instance pool exhausted")
                    }
                    _ => {
                        tracing::error!(request_id = rid, action, error = ?source, "action failed")
                    }
                }
                match source {
                    InvokeError::Timeout(limit) => Problem::new(StatusCode::GATEWAY_TIMEOUT)
                        .detail(format!(
                            "the action did not answer within {}",
                            humantime::format_duration(limit)
                        )),
                    InvokeError::PoolExhausted(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE)
                        .detail("the server is at its instance limit; retry shortly")
                        .header(
                            header::RETRY_AFTER,
                            HeaderValue::from_static(RETRY_AFTER_SECONDS),
                        ),
                    InvokeError::Trap(_) | InvokeError::Instantiate(_) => {
                        Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                            .detail("the action failed; the request id leads to the log entry")
                    }
                }
            }
            Self::BadResponse { action, reason } => {
                tracing::error!(
                    request_id = rid,
                    action,
                    reason,
                    "action answered an invalid response"
                );
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .detail("the action answered an invalid response; the request id leads to the log entry")
            }
        };
        problem.request_id(request_id)
    }
}

fn action_problem(action: &str, error: ActionError, request_id: &str) -> Problem {
    match error {
        ActionError::BadRequest(d) => Problem::new(StatusCode::BAD_REQUEST).detail(d),
        ActionError::Unauthorized(d) => Problem::new(StatusCode::UNAUTHORIZED).detail(d),
        ActionError::Forbidden(d) => Problem::new(StatusCode::FORBIDDEN).detail(d),
        ActionError::NotFound(d) => Problem::new(StatusCode::NOT_FOUND).detail(d),
        ActionError::Conflict(d) => Problem::new(StatusCode::CONFLICT).detail(d),
        ActionError::Internal(d) => {
            tracing::error!(
                request_id,
                action,
                detail = d,
                "action reported an internal error"
            );
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                .detail("the action failed; the request id leads to the log entry")
        }
        ActionError::Custom(p) => match StatusCode::from_u16(p.status)
            .ok()
            .filter(|s| s.as_u16() >= 400)
        {
            Some(status) => {
                let problem = Problem::new(status).title(p.title);
                match p.detail {
                    Some(detail) => problem.detail(detail),
                    None => problem,
                }
            }
            None => {
                tracing::error!(
                    request_id,
                    action,
                    status = p.status,
                    "action answered a custom problem with a non-error status"
                );
                Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                    .detail("the action answered an invalid response; the request id leads to the log entry")
            }
        },
    }
}
