//! The request log of the system API: each request to `/backend`,
//! `/consumer`, `/authorization`, `/doc` or `/export` is logged marked
//! `system`, with its route pattern, the caller a handler's scope check
//! found, credentials hidden, the query's names without their values and
//! never a body (system bodies and queries carry passwords, codes and
//! secrets: a provider's `code` comes back in a query). `/system/*` (health
//! checks, scrapes) is not logged.

use crate::journal::CallerSlot;
use crate::state::AppState;
use crate::store::request_log::{RequestRecord, timestamp};
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// `query` with every value shown as hidden: `code=(hidden)&state=(hidden)`.
fn names_only(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(name, _)| name);
            format!("{name}={}", crate::journal::HIDDEN)
        })
        .collect::<Vec<_>>()
        .join("&")
}

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
        query: names_only(request.uri().query().unwrap_or_default()),
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
