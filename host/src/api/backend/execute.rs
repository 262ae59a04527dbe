//! `POST /backend/action/execute/{name}`: try a served action with a request
//! made up in the backend (method, URI parameters, query, headers, body) and
//! see its status, headers and body — as a client would, errors included —
//! without a route for it.

use super::resources::actions::ActionScope;
use crate::api::Authorized;
use crate::api::answer::json;
use crate::api_error::ApiError;
use crate::gateway::run_action;
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::runtime::{Context, Request};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The request to run the action with.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Execution {
    /// Upper-case HTTP method; `GET` unless said.
    method: Option<String>,
    /// The path the action sees; `/` unless said.
    path: Option<String>,
    /// Values of route placeholders.
    uri_params: BTreeMap<String, String>,
    /// Query parameters.
    query: BTreeMap<String, String>,
    /// Request headers.
    headers: BTreeMap<String, String>,
    /// The body, as text.
    body: String,
}

/// What the action answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Executed {
    status: u16,
    headers: BTreeMap<String, String>,
    /// The body as text (lossy for binary bodies).
    body: String,
}

#[utoipa::path(post, path = "/backend/action/execute/{name}", params(("name" = String, Path, description = "~name")),
    request_body = Execution,
    responses((status = 200, body = Executed), (status = 400), (status = 404)),
    security(("bearer" = ["backend.action"])))]
pub(super) async fn execute(
    auth: Authorized<ActionScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    request_id: RequestId,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let execution: Execution = if body.is_empty() {
        Execution::default()
    } else {
        json(&body)?
    };
    let name = name.strip_prefix('~').unwrap_or(&name);
    let snapshot = state.live.current();
    let action = snapshot.actions.get(name).ok_or_else(|| {
        Problem::new(StatusCode::NOT_FOUND).detail(format!("no served action `{name}`"))
    })?;
    let request_id = request_id.as_deref().unwrap_or_default().to_owned();
    let claims = &auth.caller.claims;
    let request = Request {
        method: execution.method.unwrap_or_else(|| "GET".into()),
        path: execution.path.unwrap_or_else(|| "/".into()),
        uri_params: execution.uri_params.into_iter().collect(),
        query: execution.query.into_iter().collect(),
        headers: execution
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body: execution.body.into_bytes(),
        context: Context {
            request_id: request_id.clone(),
            route: format!("backend:execute:{name}"),
            version: 0,
            app: Some(claims.client_id.clone()),
            user: Some(claims.sub.clone()),
            scopes: Vec::new(),
        },
    };
    let capabilities = snapshot.capabilities.clone();
    // A run by an admin serves no client of the API: no client address.
    let response = match run_action(&state.runtime, action, request, capabilities, None).await {
        Ok(response) => response,
        Err(err) => err.into_problem(Some(&request_id)).into_response(),
    };
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, crate::gateway::MAX_BODY)
        .await
        .unwrap_or_default();
    Ok(Json(Executed {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }))
}
