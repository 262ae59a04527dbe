//! The gateway: every request that is not a system path. It routes with the
//! current snapshot, turns HTTP into the WIT request, invokes the action and
//! turns its answer, or the reason it gave none, into HTTP.
//!
//! Only the gateway turns action and runtime errors into HTTP responses.

mod error;
mod exchange;
mod version;

pub use error::GatewayError;
pub use exchange::CREDENTIAL_HEADERS;

use crate::auth::{self, Auth};
use crate::journal::RequestLog;
use crate::limit::{Limiter, Verdict, Who};
use crate::request_id::request_id;
use crate::runtime::Runtime;
use crate::snapshot::{Access, LiveSnapshot};
use crate::store::request_log::RequestRecord;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use std::sync::Arc;

/// The largest request body an action receives.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the gateway needs of the application: the served snapshot, the
/// runtime that runs actions and the token checker. The application builds
/// it from its own state (`FromRef`), so the gateway knows nothing else.
#[derive(Clone)]
pub struct GatewayState {
    /// The snapshot being served.
    pub live: Arc<LiveSnapshot>,
    /// The WebAssembly runtime.
    pub runtime: Runtime,
    /// Checks access tokens.
    pub auth: Auth,
    /// Counts requests against their rates.
    pub limiter: Limiter,
    /// Logs requests (`None`: off).
    pub journal: Option<RequestLog>,
}

/// What the request path learned that the answer still needs: the route
/// (for the metrics) and the rate verdict (for the headers).
#[derive(Default)]
struct Trace {
    route: Option<String>,
    verdict: Option<Verdict>,
    /// The selected version's `Sunset` date, and whether it is deprecated:
    /// said on every answer of that version, errors too.
    sunset: Option<HeaderValue>,
    deprecated: bool,
    /// What only the request log needs (filled when it is on).
    version: Option<u32>,
    holder: Option<Arc<crate::store::identity::TokenHolder>>,
    body: Option<String>,
}

/// Serves one user route.
pub async fn handle(State(state): State<GatewayState>, request: Request) -> Response {
    let started = std::time::Instant::now();
    let request_id = request_id(request.headers()).map(str::to_owned);
    let method = request.method().clone();
    let arrival = state
        .journal
        .as_ref()
        .map(|journal| Arrival::of(journal, &request));
    let mut trace = Trace::default();
    let answer = route_and_invoke(&state, request, request_id.as_deref(), &mut trace).await;
    // Let the other requests that are ready run their actions before this
    // answer is written. Under load the answers then leave back to back, and
    // a client that sleeps between answers is woken once per batch instead
    // of once per answer; an idle server resumes this task at once
    // (BENCHMARKS.md: 0.26x to 0.31x the bare axum baseline).
    tokio::task::yield_now().await;
    let mut failure = None;
    let mut response = match answer {
        Ok(response) => response,
        Err(err) => {
            if arrival.is_some() {
                failure = err.failure();
            }
            err.into_problem(request_id.as_deref()).into_response()
        }
    };
    if let Some(verdict) = &trace.verdict {
        verdict.write_headers(response.headers_mut());
    }
    if let Some(sunset) = &trace.sunset {
        response.headers_mut().insert("sunset", sunset.clone());
    }
    if trace.deprecated {
        // The version still answers, but clients should move on (the
        // `Deprecation` header of RFC 9745's drafts).
        response
            .headers_mut()
            .insert("deprecation", HeaderValue::from_static("true"));
    }
    crate::telemetry::request(
        trace.route.as_deref().unwrap_or("-"),
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    if let (Some(journal), Some(arrival)) = (&state.journal, arrival) {
        journal.record(arrival.into_record(
            request_id.unwrap_or_default(),
            method,
            trace,
            response.status().as_u16(),
            started.elapsed(),
            failure,
        ));
    }
    response
}

/// What the request log keeps of a request from before it is routed.
struct Arrival {
    at: std::time::SystemTime,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl Arrival {
    fn of(journal: &RequestLog, request: &Request) -> Self {
        let (ip, user_agent) = crate::journal::client_of(request);
        Self {
            at: std::time::SystemTime::now(),
            path: request.uri().path().to_owned(),
            query: journal.query(request.uri().query().unwrap_or_default()),
            headers: journal.headers(request.headers()),
            ip,
            user_agent,
        }
    }

    fn into_record(
        self,
        request_id: String,
        method: Method,
        trace: Trace,
        status: u16,
        took: std::time::Duration,
        error: Option<crate::store::request_log::Failure>,
    ) -> RequestRecord {
        RequestRecord {
            id: 0,
            request_id,
            system: false,
            route: trace.route,
            version: trace.version.map(i64::from),
            method: method.as_str().to_owned(),
            path: self.path,
            query: self.query,
            app: trace.holder.as_ref().map(|h| h.app.clone()),
            user: trace
                .holder
                .as_ref()
                .map(|h| h.user.clone())
                .filter(|u| !u.is_empty()),
            ip: self.ip,
            user_agent: self.user_agent,
            status: i64::from(status),
            duration_us: i64::try_from(took.as_micros()).unwrap_or(i64::MAX),
            headers: self.headers,
            body: trace.body,
            error,
            created_at: crate::store::request_log::timestamp(self.at),
        }
    }
}

async fn route_and_invoke(
    state: &GatewayState,
    request: Request,
    request_id: Option<&str>,
    trace: &mut Trace,
) -> Result<Response, GatewayError> {
    let snapshot = state.live.current();
    let path = request.uri().path().to_owned();
    let matched = snapshot
        .routes
        .match_request(&path)
        .ok_or(GatewayError::NotFound)?;
    if crate::telemetry::enabled() || state.journal.is_some() {
        trace.route = Some(matched.path.as_str().to_owned());
    }
    let selected = version::select(matched.value, request.headers())?;
    trace.version = Some(selected.version);
    trace.sunset = selected.sunset.clone();
    trace.deprecated = selected.status == crate::store::model::VersionStatus::Deprecated;
    let methods = &selected.methods;
    let endpoint = match methods.get(request.method()) {
        Some(endpoint) => endpoint,
        // HEAD runs the GET action; hyper sends no body for it.
        None if request.method() == Method::HEAD && methods.contains_key(&Method::GET) => {
            &methods[&Method::GET]
        }
        None if request.method() == Method::OPTIONS => {
            return Ok((
                StatusCode::NO_CONTENT,
                [(header::ALLOW, allow_header(selected))],
            )
                .into_response());
        }
        None => return Err(GatewayError::MethodNotAllowed(allow_header(selected))),
    };
    let caller = match &endpoint.access {
        Access::Public => None,
        Access::Scopes(required) => {
            let caller = state.auth.authenticate(request.headers()).await?;
            if !required
                .iter()
                .any(|scope| auth::scopes::any_grants(caller.scopes(), scope))
            {
                return Err(GatewayError::Forbidden(required.clone()));
            }
            if state.journal.is_some() {
                trace.holder = Some(caller.holder.clone());
            }
            Some(caller)
        }
    };
    if let Some(rate) = endpoint.rates.pick(Who {
        holder: caller
            .as_ref()
            .map(|c| (c.holder.app.as_str(), c.holder.user.as_str())),
    }) {
        let counted = subject(caller.as_ref(), &request);
        let verdict = state.limiter.check(rate, counted).await;
        let allowed = verdict.allowed;
        trace.verdict = Some(verdict);
        if !allowed {
            return Err(GatewayError::TooManyRequests(rate.clone()));
        }
    }
    if let Some(query) = &endpoint.query {
        query.check(request.uri().query().unwrap_or_default())?;
    }
    let client = crate::peer::address(request.extensions());
    let wit_request = exchange::to_wit(
        request,
        exchange::Routed {
            route: matched.path.as_str(),
            version: selected.version,
            params: matched.params,
            request_id: request_id.unwrap_or_default(),
            caller: caller.as_ref(),
            forward: &endpoint.action.spec().forward_headers,
        },
    )
    .await?;
    if let Some(journal) = &state.journal
        && journal.body_limit() > 0
        && !wit_request.body.is_empty()
    {
        let kept = &wit_request.body[..wit_request.body.len().min(journal.body_limit())];
        trace.body = Some(String::from_utf8_lossy(kept).into_owned());
    }
    if let Some(accepted) = &endpoint.content_types
        && !wit_request.body.is_empty()
    {
        let content_type = wit_request
            .headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.as_str());
        let essence = crate::media::essence(content_type);
        if !crate::media::accepts(accepted, &essence) {
            return Err(GatewayError::UnsupportedMediaType {
                got: essence,
                accepted: accepted.clone(),
            });
        }
    }
    if let Some(schema) = &endpoint.request_schema {
        schema.check(&wit_request.body)?;
    }
    let mut response = run_action(
        &state.runtime,
        &endpoint.action,
        wit_request,
        snapshot.capabilities.clone(),
        client,
    )
    .await?;
    if let Some(schemas) = &endpoint.response_schemas {
        response = check_response(response, schemas, request_id).await;
    }
    Ok(response)
}

/// Checks an answer of a version in development against the schema
/// declared for its status, when there is one and the answer is JSON; a
/// mismatch is logged with the request id and the answer goes out as it is.
async fn check_response(
    response: Response,
    schemas: &std::collections::BTreeMap<u16, std::sync::Arc<crate::schema::Schema>>,
    request_id: Option<&str>,
) -> Response {
    let status = response.status().as_u16();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json") || t.contains("+json"));
    let Some(schema) = schemas.get(&status).filter(|_| json) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    if let Err(mismatch) = schema.check(&bytes) {
        tracing::warn!(
            request_id,
            status,
            schema = schema.name(),
            mismatch = %mismatch,
            "the answer does not match its declared response schema"
        );
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Runs `action` on `request` in a fresh instance and turns its answer, or
/// the reason there is none, into HTTP. The backend's execute uses it too.
pub async fn run_action(
    runtime: &crate::runtime::Runtime,
    action: &crate::runtime::LoadedAction,
    request: crate::runtime::Request,
    capabilities: std::sync::Arc<dyn crate::runtime::Capabilities>,
    client: Option<std::net::IpAddr>,
) -> Result<Response, GatewayError> {
    let started = std::time::Instant::now();
    let answer = runtime.invoke(action, request, capabilities, client).await;
    let outcome = match &answer {
        Ok(_) => "answered",
        Err(crate::runtime::InvokeError::Timeout(_)) => "timeout",
        Err(crate::runtime::InvokeError::Trap(_)) => "trap",
        Err(crate::runtime::InvokeError::PoolExhausted(_)) => "pool_exhausted",
        Err(crate::runtime::InvokeError::Instantiate(_)) => "instantiate",
    };
    crate::telemetry::invocation(action.name(), outcome, started.elapsed());
    let answer = answer.map_err(|err| GatewayError::Invoke {
        action: action.name().to_owned(),
        source: err,
    })?;
    match answer {
        Ok(response) => exchange::from_wit(response).map_err(|reason| GatewayError::BadResponse {
            action: action.name().to_owned(),
            reason,
        }),
        Err(error) => Err(GatewayError::Action {
            action: action.name().to_owned(),
            error,
        }),
    }
}

/// Who a request is counted for: the app for a token the app holds for
/// itself, the user for a user's token, the client address for anonymous
/// callers (one shared count when the server does not know it).
fn subject(caller: Option<&auth::Caller>, request: &Request) -> String {
    match caller {
        Some(caller) if caller.claims.client_only => format!("app:{}", caller.claims.client_id),
        Some(caller) => format!("user:{}", caller.claims.sub),
        None => match crate::peer::address(request.extensions()) {
            Some(ip) => format!("ip:{ip}"),
            None => "ip:unknown".to_owned(),
        },
    }
}

/// The methods a route answers: its own, HEAD where it has GET, and OPTIONS.
fn allow_header(methods: &crate::snapshot::RouteMethods) -> HeaderValue {
    let mut names: Vec<&str> = methods.methods.keys().map(|m| m.as_str()).collect();
    if methods.methods.contains_key(&Method::GET) {
        names.push(Method::HEAD.as_str());
    }
    names.push(Method::OPTIONS.as_str());
    names.sort_unstable();
    names.dedup();
    HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static(""))
}
