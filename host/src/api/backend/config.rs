//! `/backend/config`: the runtime settings, typed; a change names only the
//! settings it changes, honours `If-Match`, and is audited.

use super::deploy::actor;
use crate::api::answer::{Written, bad_request, json};
use crate::api::precondition::{IfMatch, etag_of};
use crate::api::{Authorized, RequiredScope};
use crate::api_error::ApiError;
use crate::settings::Settings;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;

/// The scope `backend.config`.
#[derive(Debug)]
pub struct ConfigScope;
impl RequiredScope for ConfigScope {
    const SCOPE: &'static str = "backend.config";
}

#[utoipa::path(get, path = "/backend/config",
    responses((status = 200, body = Settings, headers(("ETag" = String)))),
    security(("bearer" = ["backend.config"])))]
pub(super) async fn get(
    _: Authorized<ConfigScope>,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let settings = state.store.settings().await?;
    Ok((etag_of(&settings.tag()), Json(settings)))
}

#[utoipa::path(put, path = "/backend/config", request_body = Object,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 412)),
    security(("bearer" = ["backend.config"])))]
pub(super) async fn update(
    auth: Authorized<ConfigScope>,
    State(state): State<AppState>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let changes: serde_json::Map<String, serde_json::Value> = json(&body)?;
    let current = state.store.settings().await?;
    let next = current
        .with(&changes)
        .map_err(|e| bad_request(e.to_string()))?;
    let tags = if_match.tags().map(<[String]>::to_vec);
    state
        .store
        .save_settings(&next, tags.as_deref(), &actor(&state, &auth.caller).await)
        .await?;
    Ok((
        etag_of(&next.tag()),
        Json(Written::new("the settings were saved", "settings")),
    ))
}
