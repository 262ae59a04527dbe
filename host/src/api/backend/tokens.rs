//! `/backend/token`: every issued token, to see and to revoke.

use super::{TokenScope, listing};
use crate::api::answer::Written;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::api_error::ApiError;
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::identity::TokenRecord;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Serialize;

/// An issued token (never the token or its refresh token).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    jti: String,
    app_id: i64,
    user_id: Option<i64>,
    scope: String,
    expires_at: i64,
    revoked: bool,
}

impl From<TokenRecord> for TokenView {
    fn from(token: TokenRecord) -> Self {
        Self {
            jti: token.jti,
            app_id: token.app_id,
            user_id: token.user_id,
            scope: token.scope,
            expires_at: token.expires_at,
            revoked: token.revoked,
        }
    }
}

#[utoipa::path(get, path = "/backend/token", params(CollectionQuery),
    responses((status = 200, body = Collection<TokenView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.token"])))]
pub(super) async fn list(
    _: Authorized<TokenScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    listing::<_, TokenView, _, _>(&query, |page| state.store.list_tokens(page, None)).await
}

#[utoipa::path(delete, path = "/backend/token/{jti}", params(("jti" = String, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["backend.token"])))]
pub(super) async fn revoke(
    _: Authorized<TokenScope>,
    State(state): State<AppState>,
    Path(jti): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state
        .store
        .token_by_jti(&jti)
        .await?
        .ok_or_else(|| Problem::new(StatusCode::NOT_FOUND).detail(format!("no token `{jti}`")))?;
    state.auth.revoke_token(&jti).await?;
    Ok(Json(Written::new("the token was revoked", &jti)))
}
