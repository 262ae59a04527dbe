//! The apps the caller granted access to, and taking a grant back.

use super::{GrantsScope, caller_id};
use crate::api::answer::Written;
use crate::api::backend::AppView;
use crate::api::{Authorized, Collection};
use crate::api_error::ApiError;
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::Page;
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;

#[utoipa::path(get, path = "/consumer/grant",
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.grant"])))]
pub(super) async fn list_grants(
    auth: Authorized<GrantsScope>,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let apps = state.store.grants_of(caller_id(&auth)?).await?;
    let count = i64::try_from(apps.len()).unwrap_or(i64::MAX);
    let page = Page {
        search: None,
        start: 0,
        count,
    };
    Ok(Json(Collection::new(
        page,
        count,
        apps.into_iter().map(AppView::from).collect(),
    )))
}

#[utoipa::path(delete, path = "/consumer/grant/{app}", params(("app" = i64, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.grant"])))]
pub(super) async fn revoke_grant(
    auth: Authorized<GrantsScope>,
    State(state): State<AppState>,
    axum::extract::Path(app): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let missing = || {
        Problem::new(StatusCode::NOT_FOUND)
            .detail(format!("you have not authorized an app `{app}`"))
    };
    let app_id: i64 = app.parse().map_err(|_| missing())?;
    let revoked = state.auth.revoke_grant(caller_id(&auth)?, app_id).await?;
    if revoked == 0 {
        return Err(missing().into());
    }
    Ok(Json(Written::new(
        format!("{revoked} tokens were revoked"),
        app_id,
    )))
}
