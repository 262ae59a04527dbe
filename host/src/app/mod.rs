//! The application as a function: `router(state)` builds the whole HTTP
//! surface, so tests call it in-process without a server. The layer order is
//! written down here once.

use crate::api_error::ApiError;
mod cors;
mod logged;

use crate::auth;
use crate::gateway;
pub use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Json;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The whole HTTP surface. Layers, outermost first: request id (set, then
/// echoed on the response); CORS (preflights answered here, before any
/// token is checked); then the system routes (`/system`,
/// `/authorization`, `/backend`, `/consumer`, whose plain-text rejections
/// become problems), and the gateway for every other path.
pub fn router(state: AppState) -> Router {
    let cors = state.cors.clone();
    let live = state.live.clone();
    let trusted_proxies = state.trusted_proxies.clone();
    let (backend, _) = crate::api::backend::routes().split_for_parts();
    let (consumer, _) = crate::api::consumer::routes().split_for_parts();
    // Errors of the system API are problems even before a handler runs; the
    // gateway's answers are the actions' own and stay as they are.
    let system = Router::new()
        .merge(auth::endpoints::router().with_state(state.auth.clone()))
        .merge(backend)
        .merge(consumer)
        .merge(crate::api::doc::routes())
        .merge(crate::api::export::routes())
        .route("/system/health", get(health))
        .route("/system/metrics", get(metrics))
        .layer(axum::middleware::from_fn(
            crate::api::rejections::as_problems,
        ))
        .layer(axum::middleware::from_fn(crate::api_error::finish))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            logged::system_requests,
        ));
    Router::new()
        .merge(system)
        .fallback(gateway::handle)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                // First of all: who the client is, for everything after.
                .layer(axum::middleware::from_fn_with_state(
                    trusted_proxies,
                    crate::peer::resolve,
                ))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(cors::CrossOriginLayer::new(&cors, live)),
        )
}

/// `GET /system/metrics`: Prometheus' text format, for who may read it.
async fn metrics(
    State(state): State<AppState>,
    headers: http::HeaderMap,
) -> Result<axum::response::Response, ApiError> {
    use crate::telemetry::MetricsAccess;
    use axum::response::IntoResponse;
    let allowed = match &state.metrics {
        MetricsAccess::Off => {
            return Err(crate::problem::Problem::new(http::StatusCode::NOT_FOUND)
                .detail("metrics are off (see --metrics-token)")
                .into());
        }
        MetricsAccess::Public => true,
        MetricsAccess::Token(token) => headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| crate::auth::secret::equal(given, token)),
    };
    if !allowed {
        return Err(crate::problem::Problem::new(http::StatusCode::UNAUTHORIZED)
            .detail("the metrics need the configured bearer token")
            .header(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer realm=\"Fusio metrics\""),
            )
            .into());
    }
    crate::telemetry::dropped_log_entries(state.runtime.dropped_log_entries());
    let usage = state.runtime.usage();
    crate::telemetry::runtime_usage(usage.live, usage.max, &usage.calls);
    Ok((
        [(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        crate::telemetry::render(),
    )
        .into_response())
}

/// `GET /system/health`: 200 when the store answers, 503 when it does not;
/// says which revision is served and how the runtime runs.
async fn health(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let snapshot = state.live.current();
    let body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "revision": snapshot.revision,
        "routes": snapshot.routes.len(),
        "store": state.store.backend(),
        "allocator": state.runtime.pooling(),
        "epochTicker": state.runtime.ticker_priority(),
        "precompileCache": state.runtime.precompile_stats(),
        "droppedLogEntries": state.runtime.dropped_log_entries(),
        "requestLog": state.journal.as_ref().map(crate::journal::RequestLog::stats),
        "actionLog": state.deployer.pools().action_log_stats(),
        "rateLimit": {
            "counting": state.limiter.counting(),
            "localCallers": state.limiter.local_callers(),
        },
    });
    state
        .store
        .ping()
        .await
        .map_err(|err| ApiError::unavailable("the system store does not answer", &err))?;
    Ok(Json(body))
}
