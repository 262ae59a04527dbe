//! Login through an external identity provider (OAuth2 / OpenID Connect).

use crate::api::answer::bad_request;
use crate::api_error::ApiError;
use crate::auth::bootstrap::PORTAL_CLIENT_ID;
use crate::auth::social::SocialError;
use crate::problem::Problem;
use crate::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;

#[utoipa::path(get, path = "/consumer/provider/{name}", params(("name" = String, Path)),
    responses((status = 303, description = "to the provider's login"), (status = 404)))]
pub(super) async fn provider_login(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let url = state
        .providers
        .start(&name)
        .map_err(|err| Problem::new(StatusCode::NOT_FOUND).detail(err.to_string()))?;
    Ok(axum::response::Redirect::to(&url))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProviderCallback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[utoipa::path(get, path = "/consumer/provider/{name}/callback",
    params(("name" = String, Path), ProviderCallback),
    responses((status = 200, description = "an OAuth2 token response for the portal"), (status = 400), (status = 502)))]
pub(super) async fn provider_callback(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    axum::extract::Query(callback): axum::extract::Query<ProviderCallback>,
) -> Result<Response, ApiError> {
    if let Some(error) = &callback.error {
        return Err(bad_request(format!("the identity provider answered `{error}`")).into());
    }
    let (Some(code), Some(login_state)) = (&callback.code, &callback.state) else {
        return Err(bad_request("`code` and `state` are required").into());
    };
    let user = state
        .providers
        .finish(&state.store, &name, code, login_state)
        .await
        .map_err(|err| match err {
            SocialError::Store(e) => e.into(),
            SocialError::Provider(reason) => ApiError::upstream(
                "the identity provider did not confirm the login",
                format!("social login with {name} failed: {reason}"),
            ),
            unverified @ SocialError::UnverifiedEmail(_) => Problem::new(StatusCode::CONFLICT)
                .detail(unverified.to_string())
                .into(),
            other => bad_request(other.to_string()).into(),
        })?;
    Ok(state
        .auth
        .first_party_token(PORTAL_CLIENT_ID, user.id)
        .await)
}
