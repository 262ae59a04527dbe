//! `POST /backend/connection/{name}/test`: does a served connection work,
//! and if not, why (an unreachable host, a wrong password, a refused
//! statement) — answered within seconds, never hanging.

use super::entities::served;
use super::resources::connections::ConnectionScope;
use crate::api::Authorized;
use crate::api_error::ApiError;
use crate::connect::check::check;
use crate::state::AppState;
use crate::store::model::ConnectionRecord;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::Serialize;

/// The outcome of a check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checked {
    /// Whether the connection works.
    ok: bool,
    /// What was done, or why it failed.
    message: String,
}

#[utoipa::path(post, path = "/backend/connection/{name}/test", params(("name" = String, Path, description = "~name")),
    responses((status = 200, body = Checked), (status = 404)),
    security(("bearer" = ["backend.connection"])))]
pub(super) async fn check_connection(
    _: Authorized<ConnectionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let record: ConnectionRecord = served(&state, &name).await?;
    Ok(Json(
        match check(&record, state.deployer.confinement()).await {
            Ok(message) => Checked { ok: true, message },
            Err(reason) => Checked {
                ok: false,
                message: reason.to_string(),
            },
        },
    ))
}
