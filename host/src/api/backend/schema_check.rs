//! `POST /backend/schema/{name}/check`: the preview of a served schema —
//! send an example document and see whether the schema accepts it, and
//! where not, as a request body would be judged.

use super::entities::served;
use super::resources::schemas::SchemaScope;
use crate::api::Authorized;
use crate::api_error::ApiError;
use crate::problem::Problem;
use crate::schema::{BodyError, SchemaSet, Violation};
use crate::state::AppState;
use crate::store::model::SchemaRecord;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Serialize;

/// Whether the example matches.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Checked {
    valid: bool,
    violations: Vec<Violation>,
}

#[utoipa::path(post, path = "/backend/schema/{name}/check", params(("name" = String, Path, description = "~name")),
    request_body = Object,
    responses((status = 200, body = Checked), (status = 400), (status = 404)),
    security(("bearer" = ["backend.schema"])))]
pub(super) async fn check(
    _: Authorized<SchemaScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let record: SchemaRecord = served(&state, &name).await?;
    let project = state.store.current().await?.project;
    let set = SchemaSet::compile(
        project
            .schemas
            .iter()
            .map(|schema| (schema.name.as_str(), &schema.document)),
    )
    .map_err(|refused| {
        let reasons: Vec<String> = refused.iter().map(|(n, r)| format!("{n}: {r}")).collect();
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR).detail(reasons.join("; "))
    })?;
    let schema = set
        .get(&record.name)
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND).detail(format!("no schema `{name}`")))?;
    match schema.check(&body) {
        Ok(()) => Ok(Json(Checked {
            valid: true,
            violations: Vec::new(),
        })),
        Err(BodyError::Invalid { violations, .. }) => Ok(Json(Checked {
            valid: false,
            violations,
        })),
        Err(err @ BodyError::NotJson(_)) => {
            Err(crate::api::answer::bad_request(err.to_string()).into())
        }
    }
}
