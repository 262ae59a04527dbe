//! The request log of the system API: each request to `/backend`,
//! `/consumer`, `/authorization`, `/doc` or `/export` is logged marked
//! `system`, with its route pattern, the caller a handler's scope check
//! found, credentials hidden and never a body (system bodies carry
//! passwords and secrets). `/system/*` (health checks, scrapes) is not.

use crate::journal::CallerSlot;
use crate::state::AppState;
use crate::store::request_log::{RequestRecord, timestamp};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Logs the system request that `next` answers.
pub async fn system_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(journal) = state.journal.clone() else {
        return next.run(request).await;
    };
    if request.uri().path().starts_with("/system/") {
        return next.run(request).await;
    }
    let at = std::time::SystemTime::now();
    let started = std::time::Instant::now();
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let (ip, user_agent) = crate::journal::client_of(&request);
    let mut record = RequestRecord {
        request_id: crate::request_id::request_id(request.headers())
            .unwrap_or_default()
            .to_owned(),
        system: true,
        route: request
            .extensions()
            .get::<MatchedPath>()
            .map(|matched| matched.as_str().to_owned()),
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or_default().to_owned(),
        ip,
        user_agent,
        headers: journal.headers(request.headers()),
        created_at: timestamp(at),
        ..RequestRecord::default()
    };
    let response = next.run(request).await;
    record.status = i64::from(response.status().as_u16());
    record.duration_us = i64::try_from(started.elapsed().as_micros()).unwrap_or(i64::MAX);
    if let Some(holder) = slot.holder() {
        record.app = Some(holder.app.clone());
        record.user = Some(holder.user.clone()).filter(|u| !u.is_empty());
    }
    journal.record(record);
    response
}
