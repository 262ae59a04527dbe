//! The portal's login: a password grant for the portal's own client, and
//! its refresh.

use crate::api::answer::json;
use crate::api_error::ApiError;
use crate::auth::bootstrap::PORTAL_CLIENT_ID;
use crate::auth::throttle::ClientAddress;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

/// `POST /consumer/login`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    username: String,
    password: String,
}

/// `PUT /consumer/login`: a new token for a refresh token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Refresh {
    refresh_token: String,
}

#[utoipa::path(post, path = "/consumer/login", request_body = Login,
    responses((status = 200, description = "an OAuth2 token response"), (status = 400), (status = 429)))]
pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form: Login = json(&body)?;
    // The OAuth2 password grant through the portal's public client: the
    // answer (and its errors) are the token endpoint's.
    Ok(state
        .auth
        .first_party_login(PORTAL_CLIENT_ID, &form.username, &form.password, address)
        .await)
}

#[utoipa::path(put, path = "/consumer/login", request_body = Refresh,
    responses((status = 200, description = "an OAuth2 token response"), (status = 400)))]
pub(super) async fn refresh(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form: Refresh = json(&body)?;
    // The refresh grant through the portal's client: a refresh token works
    // once, and a replayed one ends the session.
    Ok(state
        .auth
        .first_party_refresh(PORTAL_CLIENT_ID, &form.refresh_token)
        .await)
}
