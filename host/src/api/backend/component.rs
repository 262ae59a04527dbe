//! `PUT /backend/action/{name}/component`: a new component for an action,
//! the bytes as the body — stored content-addressed, then deployed with the
//! action pointing at it, validated like any deploy.

use super::deploy::upload_limit;
use super::entities::{Change, write};
use super::resources::actions::ActionScope;
use crate::api::Authorized;
use crate::api::precondition::IfMatch;
use crate::api_error::ApiError;
use crate::runtime::ActionSpec;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;

#[utoipa::path(put, path = "/backend/action/{name}/component", params(("name" = String, Path, description = "~name")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 200, body = crate::api::answer::Written), (status = 400), (status = 404), (status = 412), (status = 413)),
    security(("bearer" = ["backend.action"])))]
pub(super) async fn replace(
    auth: Authorized<ActionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut spec: ActionSpec = super::entities::served(&state, &name).await?;
    spec.sha256 = state.store.put_component(&body).await?;
    write(&state, &auth.caller, &if_match, Change::Update(name, spec)).await
}

pub(super) fn limit() -> axum::extract::DefaultBodyLimit {
    upload_limit()
}
