//! `PUT /backend/action/{name}/component`: a new component for an action,
//! the bytes as the body — stored content-addressed, then deployed with the
//! action pointing at it, validated like any deploy.

use super::deploy::upload_limit;
use super::entities::{Change, write};
use super::resources::actions::ActionScope;
use crate::api::Authorized;
use crate::api::answer::{respond, store_problem};
use crate::runtime::ActionSpec;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::HeaderMap;

#[utoipa::path(put, path = "/backend/action/{name}/component", params(("name" = String, Path, description = "~name")),
    request_body(content = Vec<u8>, content_type = "application/wasm"),
    responses((status = 200, body = crate::api::answer::Written), (status = 400), (status = 404), (status = 412), (status = 413)),
    security(("bearer" = ["backend.action"])))]
pub(super) async fn replace(
    auth: Authorized<ActionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stored = async {
        let mut spec: ActionSpec = super::entities::served(&state, &headers, &name).await?;
        spec.sha256 = state
            .store
            .put_component(&body)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(spec)
    }
    .await;
    match stored {
        Ok(spec) => write(&state, &auth.caller, &headers, Change::Update(name, spec)).await,
        Err(problem) => respond::<Response>(&headers, Err(problem)),
    }
}

/// The body limit of the upload (components are larger than JSON).
pub(super) fn limit() -> axum::extract::DefaultBodyLimit {
    upload_limit()
}
