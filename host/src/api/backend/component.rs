//! `/backend/action/{name}/component`: an action's code. `PUT` takes a new
//! component (`application/wasm`) or script (`application/javascript`) as
//! the body — stored content-addressed, then deployed with the action
//! pointing at it, validated like any deploy; `GET` answers it, so the
//! backend can show a script for editing.

use super::deploy::upload_limit;
use super::entities::{Change, write};
use super::resources::actions::ActionScope;
use crate::api::Authorized;
use crate::api::precondition::IfMatch;
use crate::api_error::ApiError;
use crate::runtime::{ActionSpec, Code};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

#[utoipa::path(put, path = "/backend/action/{name}/component", params(("name" = String, Path, description = "~name")),
    request_body(content((Vec<u8> = "application/wasm"), (String = "application/javascript"))),
    responses((status = 200, body = crate::api::answer::Written), (status = 400), (status = 404), (status = 412), (status = 413)),
    security(("bearer" = ["backend.action"])))]
pub(super) async fn replace(
    auth: Authorized<ActionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut spec: ActionSpec = super::entities::served(&state, &name).await?;
    spec.code = code_of(&headers);
    spec.sha256 = state.store.put_component(&body).await?;
    write(&state, &auth.caller, &if_match, Change::Update(name, spec)).await
}

/// What a body is by its media type: JavaScript (`application/javascript`,
/// `text/javascript`) or a component (anything else).
fn code_of(headers: &HeaderMap) -> Code {
    let media = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match media.as_deref() {
        Some("application/javascript" | "text/javascript") => Code::Javascript,
        _ => Code::Component,
    }
}

#[utoipa::path(get, path = "/backend/action/{name}/component", params(("name" = String, Path, description = "~name")),
    responses((status = 200, content((Vec<u8> = "application/wasm"), (String = "application/javascript"))), (status = 404)),
    security(("bearer" = ["backend.action"])))]
pub(super) async fn read(
    _: Authorized<ActionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let spec: ActionSpec = super::entities::served(&state, &name).await?;
    let bytes = state.store.component(&spec.sha256).await?;
    let media = match spec.code {
        Code::Component | Code::Python => "application/wasm",
        Code::Javascript => "application/javascript; charset=utf-8",
    };
    Ok(([(http::header::CONTENT_TYPE, media)], bytes).into_response())
}

pub(super) fn limit() -> axum::extract::DefaultBodyLimit {
    upload_limit()
}
