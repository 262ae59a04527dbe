//! `GET /backend/log`: what actions logged through `fusio:action/logger`,
//! newest first, searchable by message, action or request id — the request
//! id of a problem response leads here.

use super::listing;
use crate::api::{Authorized, Collection, CollectionQuery, RequiredScope};
use crate::api_error::ApiError;
use crate::state::AppState;
use crate::store::log::LogEntry;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Serialize;

/// The scope `backend.log`.
#[derive(Debug)]
pub struct LogScope;
impl RequiredScope for LogScope {
    const SCOPE: &'static str = "backend.log";
}

/// A log entry.
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

#[utoipa::path(get, path = "/backend/log", params(CollectionQuery),
    responses((status = 200, body = Collection<LogView>)),
    security(("bearer" = ["backend.log"])))]
pub(super) async fn list(
    _: Authorized<LogScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    listing::<_, LogView, _, _>(&query, |page| state.store.list_log(page)).await
}
