//! Conversions between HTTP and the WIT request and response records.

use super::{GatewayError, MAX_BODY};
use crate::runtime::{Context, Request, Response};
use axum::body::Body;
use http::{HeaderName, HeaderValue, StatusCode};

/// What routing found out about a request.
pub(super) struct Routed<'a> {
    pub(super) route: &'a str,
    pub(super) version: u32,
    pub(super) params: Vec<(String, String)>,
    pub(super) request_id: &'a str,
    /// Who presented a valid token, on a protected method.
    pub(super) caller: Option<&'a crate::auth::Caller>,
    /// The credential headers the action opted in to receive.
    pub(super) forward: &'a [String],
}

/// Headers that carry the caller's credentials. They never reach an action
/// unless it opts in (`forwardHeaders`): the caller's app, user and scopes
/// are in the request's context, and a credential handed to a component
/// could be replayed by it.
pub const CREDENTIAL_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

/// Whether `name` (lower case) may reach an action that opted in to
/// `forward`.
fn reaches_action(name: &str, forward: &[String]) -> bool {
    !CREDENTIAL_HEADERS.contains(&name) || forward.iter().any(|f| f == name)
}

/// The WIT request for `request`; reads the body (bounded by [`MAX_BODY`]).
pub(super) async fn to_wit(
    request: axum::extract::Request,
    routed: Routed<'_>,
) -> Result<Request, GatewayError> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|err| {
        let cause = err.into_inner();
        if cause.is::<http_body_util::LengthLimitError>() {
            GatewayError::BodyTooLarge
        } else {
            GatewayError::BodyUnreadable(cause.to_string())
        }
    })?;
    let query = parts
        .uri
        .query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| reaches_action(name.as_str(), routed.forward))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(Request {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        uri_params: routed.params,
        query,
        headers,
        body: body.to_vec(),
        context: Context {
            request_id: routed.request_id.to_owned(),
            route: routed.route.to_owned(),
            version: routed.version,
            app: routed.caller.map(|c| c.claims.client_id.clone()),
            user: routed.caller.map(|c| c.claims.sub.clone()),
            scopes: routed
                .caller
                .map(|c| c.scopes().map(str::to_owned).collect())
                .unwrap_or_default(),
        },
    })
}

/// The HTTP response for the action's answer; refuses statuses and headers
/// HTTP does not allow, naming the first offender.
pub(super) fn from_wit(response: Response) -> Result<axum::response::Response, String> {
    let status = StatusCode::from_u16(response.status)
        .ok()
        .filter(|s| (100..=599).contains(&s.as_u16()))
        .ok_or_else(|| format!("status {} is not an HTTP status", response.status))?;
    crate::runtime::check_header_size(&response.headers).map_err(|err| err.to_string())?;
    let mut http = axum::response::Response::new(Body::from(response.body));
    *http.status_mut() = status;
    let headers = http.headers_mut();
    for (name, value) in response.headers {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let header_value = HeaderValue::from_str(&value)
            .map_err(|_| format!("the value of header `{name}` is not valid"))?;
        headers.append(header_name, header_value);
    }
    Ok(http)
}
