//! What a system-API handler answers when it cannot do what was asked:
//! `Result<_, ApiError>`. The handler says only what went wrong; the request
//! id and the log line of a server failure are added in one place, by
//! `finish`, the middleware around every system route, which reads the id
//! from the request's extensions. Handlers never need the request's headers
//! just to answer an error.

use crate::problem::Problem;
use crate::request_id;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// A handler's error: the client's (a problem that says why) or the
/// server's (a cause for the log, a generic problem for the client).
/// Gateway answers are the actions' own and do not use it.
#[derive(Debug)]
pub enum ApiError {
    /// The request cannot be served as sent; the problem says why.
    Refused(Problem),
    /// The server (or a service it relies on) failed; the client sees
    /// `status` and `detail`, the log the cause.
    Failed {
        /// 500, or 502 when a service the server relies on failed.
        status: StatusCode,
        /// What the client is told, e.g. "the system store failed".
        detail: &'static str,
        /// What failed and why, with its source chain: for the log only.
        cause: String,
    },
}

impl ApiError {
    /// A server failure whose cause (and every source under it) goes to
    /// the log with the request id; the client sees a 500 with `detail`.
    pub fn failed(detail: &'static str, cause: &(dyn std::error::Error + 'static)) -> Self {
        Self::Failed {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            detail,
            cause: chain(cause),
        }
    }

    /// Something the server needs (its store, say) does not answer: 503
    /// with `detail` for the client, the cause for the log.
    pub fn unavailable(detail: &'static str, cause: &(dyn std::error::Error + 'static)) -> Self {
        Self::Failed {
            status: StatusCode::SERVICE_UNAVAILABLE,
            detail,
            cause: chain(cause),
        }
    }

    /// A service the server relies on (an identity provider, say) failed:
    /// 502 with `detail` for the client, `cause` for the log.
    pub fn upstream(detail: &'static str, cause: impl Into<String>) -> Self {
        Self::Failed {
            status: StatusCode::BAD_GATEWAY,
            detail,
            cause: cause.into(),
        }
    }

    /// The problem the client gets.
    fn problem(&self) -> Problem {
        match self {
            Self::Refused(problem) => problem.clone(),
            Self::Failed { status, detail, .. } => Problem::new(*status).detail(*detail),
        }
    }
}

/// An error and every source under it, as one line for the log.
fn chain(cause: &(dyn std::error::Error + 'static)) -> String {
    let mut text = cause.to_string();
    let mut source = cause.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

impl From<Problem> for ApiError {
    fn from(problem: Problem) -> Self {
        Self::Refused(problem)
    }
}

/// The error, kept on the response for `finish` to complete.
#[derive(Debug, Clone)]
struct Unfinished {
    problem: Problem,
    cause: Option<String>,
}

impl IntoResponse for ApiError {
    /// The problem without a request id (what a route outside `finish`
    /// would answer), and the error itself for `finish` to complete.
    fn into_response(self) -> Response {
        let problem = self.problem();
        let cause = match self {
            Self::Refused(_) => None,
            Self::Failed { cause, .. } => Some(cause),
        };
        let mut response = problem.clone().into_response();
        response
            .extensions_mut()
            .insert(Unfinished { problem, cause });
        response
    }
}

/// Completes every `ApiError` answer under it: logs a server failure's cause
/// with the request id and answers the problem with the request id, keeping
/// the status and headers the error answered with.
pub async fn finish(request: Request, next: Next) -> Response {
    let request_id = request_id::of_extensions(request.extensions()).map(str::to_owned);
    let mut response = next.run(request).await;
    let Some(Unfinished { problem, cause }) = response.extensions_mut().remove::<Unfinished>()
    else {
        return response;
    };
    match cause {
        Some(cause) if problem.status() != StatusCode::BAD_GATEWAY => {
            tracing::error!(request_id, error = %cause, "system API: the request failed");
        }
        Some(cause) => {
            tracing::warn!(request_id, error = %cause, "system API: a service it relies on failed");
        }
        None => {}
    }
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body = problem.request_id(request_id.as_deref()).body();
    Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::request_id::{MakeRequestUuid, SetRequestIdLayer};

    async fn answer(handler_error: fn() -> ApiError) -> (http::response::Parts, serde_json::Value) {
        let app = Router::new()
            .route(
                "/",
                get(move || async move { Err::<(), _>(handler_error()) }),
            )
            .layer(axum::middleware::from_fn(finish))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid));
        let request = http::Request::builder()
            .uri("/")
            .header("x-request-id", "the-id")
            .body(axum::body::Body::empty())
            .unwrap();
        let (parts, body) = app.oneshot(request).await.unwrap().into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (parts, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn a_refusal_gets_the_request_id_and_keeps_its_headers() {
        let (parts, body) = answer(|| {
            Problem::new(StatusCode::CONFLICT)
                .detail("taken")
                .header(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("3"),
                )
                .into()
        })
        .await;
        assert_eq!(parts.status, StatusCode::CONFLICT);
        assert_eq!(parts.headers[http::header::RETRY_AFTER], "3");
        assert_eq!(
            parts.headers[http::header::CONTENT_TYPE],
            crate::problem::PROBLEM_JSON
        );
        assert_eq!(body["requestId"], "the-id");
        assert_eq!(body["detail"], "taken");
    }

    #[tokio::test]
    async fn a_failure_tells_the_client_nothing_of_its_cause() {
        let (parts, body) = answer(|| {
            let cause = std::io::Error::other("disk at /var/secret is full");
            ApiError::failed("the system store failed", &cause)
        })
        .await;
        assert_eq!(parts.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["requestId"], "the-id");
        assert_eq!(body["detail"], "the system store failed");
        assert!(!body.to_string().contains("secret"), "{body}");
    }
}
