//! `/backend/log`: the request log, filtered (`from`, `to`, `route`, `app`,
//! `user`, `ip`, `status`, `method`, `search`), newest first; one request
//! with what its action logged; the error log (the requests the server or
//! the action failed); and the action log itself. The request id of a
//! problem response is a `search` away.

use super::log_filter::LogQuery;
use crate::api::{Authorized, Collection, CollectionQuery, RequiredScope};
use crate::api_error::ApiError;
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::log::LogEntry;
use crate::store::request_log::RequestRecord;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Serialize;

/// The scope `backend.log`.
#[derive(Debug)]
pub struct LogScope;
impl RequiredScope for LogScope {
    const SCOPE: &'static str = "backend.log";
}

/// A line an action logged.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogView {
    id: i64,
    request_id: String,
    action: String,
    level: String,
    message: String,
    fields: Vec<(String, String)>,
    created_at: String,
}

impl From<LogEntry> for LogView {
    fn from(entry: LogEntry) -> Self {
        Self {
            id: entry.id,
            request_id: entry.request_id,
            action: entry.action,
            level: entry.level,
            message: entry.message,
            fields: entry.fields,
            created_at: entry.created_at,
        }
    }
}

/// What failed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FailureView {
    /// `trap`, `timeout`, `pool_exhausted`, `instantiate`, `action` or
    /// `bad_response`.
    kind: String,
    /// The whole message, with the guest backtrace of a trap.
    message: String,
}

/// A logged request.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestView {
    id: i64,
    request_id: String,
    /// Whether it went to the system API.
    system: bool,
    route: Option<String>,
    version: Option<i64>,
    method: String,
    path: String,
    query: String,
    app: Option<String>,
    user: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    status: i64,
    /// Microseconds from arrival to answer.
    duration: i64,
    /// Name and value; credentials show as `(hidden)`.
    headers: Vec<(String, String)>,
    body: Option<String>,
    error: Option<FailureView>,
    created_at: String,
}

impl From<RequestRecord> for RequestView {
    fn from(record: RequestRecord) -> Self {
        Self {
            id: record.id,
            request_id: record.request_id,
            system: record.system,
            route: record.route,
            version: record.version,
            method: record.method,
            path: record.path,
            query: record.query,
            app: record.app,
            user: record.user,
            ip: record.ip,
            user_agent: record.user_agent,
            status: record.status,
            duration: record.duration_us,
            headers: record.headers,
            body: record.body,
            error: record.error.map(|failure| FailureView {
                kind: failure.kind,
                message: failure.message,
            }),
            created_at: record.created_at,
        }
    }
}

/// A logged request with what its action logged.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestDetail {
    #[serde(flatten)]
    request: RequestView,
    /// The action's log lines of this request, in order.
    action_log: Vec<LogView>,
}

async fn listed(
    state: &AppState,
    query: &LogQuery,
    errors_only: bool,
) -> Result<Json<Collection<RequestView>>, ApiError> {
    let (filter, page) = query.filter(errors_only)?;
    let (total, records) = state
        .store
        .list_requests(&filter, page.start, page.count)
        .await?;
    Ok(Json(Collection::new(
        page,
        total,
        records.into_iter().map(RequestView::from).collect(),
    )))
}

async fn detail(
    state: &AppState,
    id: &str,
    errors_only: bool,
) -> Result<Json<RequestDetail>, ApiError> {
    let what = if errors_only { "error" } else { "request" };
    let missing = || Problem::new(StatusCode::NOT_FOUND).detail(format!("no logged {what} {id}"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let record = state
        .store
        .request_by_id(id)
        .await?
        .filter(|record| !errors_only || record.error.is_some())
        .ok_or_else(missing)?;
    let lines = state.store.log_of_request(&record.request_id).await?;
    Ok(Json(RequestDetail {
        request: record.into(),
        action_log: lines.into_iter().map(LogView::from).collect(),
    }))
}

#[utoipa::path(get, path = "/backend/log", params(LogQuery),
    responses((status = 200, body = Collection<RequestView>), (status = 400)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn list(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Query(query): Query<LogQuery>,
) -> Result<impl IntoResponse, ApiError> {
    listed(&state, &query, false).await
}

#[utoipa::path(get, path = "/backend/log/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = RequestDetail), (status = 404)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn get(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    detail(&state, &id, false).await
}

#[utoipa::path(get, path = "/backend/log/error", params(LogQuery),
    responses((status = 200, body = Collection<RequestView>), (status = 400)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn errors(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Query(query): Query<LogQuery>,
) -> Result<impl IntoResponse, ApiError> {
    listed(&state, &query, true).await
}

#[utoipa::path(get, path = "/backend/log/error/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = RequestDetail), (status = 404)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn error(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    detail(&state, &id, true).await
}

#[utoipa::path(get, path = "/backend/log/action", params(CollectionQuery),
    responses((status = 200, body = Collection<LogView>)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn action(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    super::listing::<_, LogView, _, _>(&query, |page| state.store.list_log(page)).await
}
