//! Login through an external identity provider (OAuth2 / OpenID Connect).

use crate::api::answer::{bad_request, respond, store_problem};
use crate::auth::bootstrap::PORTAL_CLIENT_ID;
use crate::problem::Problem;
use crate::request_id::request_id;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;

#[utoipa::path(get, path = "/consumer/provider/{name}", params(("name" = String, Path)),
    responses((status = 303, description = "to the provider's login"), (status = 404)))]
pub(super) async fn provider_login(
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = state
        .providers
        .start(&name)
        .map(|url| axum::response::Redirect::to(&url))
        .map_err(|err| Problem::new(StatusCode::NOT_FOUND).detail(err.to_string()));
    respond(&headers, result)
}

/// The provider's redirect back.
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
    headers: HeaderMap,
) -> Response {
    use crate::auth::social::SocialError;
    let user = async {
        if let Some(error) = &callback.error {
            return Err(bad_request(format!("the identity provider answered `{error}`")));
        }
        let (Some(code), Some(login_state)) = (&callback.code, &callback.state) else {
            return Err(bad_request("`code` and `state` are required"));
        };
        state
            .providers
            .finish(&state.store, &name, code, login_state)
            .await
            .map_err(|err| match err {
                SocialError::Store(e) => store_problem(&headers, e),
                SocialError::Provider(reason) => {
                    tracing::warn!(request_id = request_id(&headers), provider = %name, reason, "social login failed");
                    Problem::new(StatusCode::BAD_GATEWAY).detail("the identity provider did not confirm the login")
                }
                unverified @ SocialError::UnverifiedEmail(_) => {
                    Problem::new(StatusCode::CONFLICT).detail(unverified.to_string())
                }
                other => bad_request(other.to_string()),
            })
    }
    .await;
    match user {
        Ok(user) => {
            state
                .auth
                .first_party_token(PORTAL_CLIENT_ID, user.id)
                .await
        }
        Err(problem) => respond::<Response>(&headers, Err(problem)),
    }
}
