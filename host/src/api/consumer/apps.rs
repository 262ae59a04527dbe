//! The caller's own apps: listed, created (limited to the scopes the
//! caller holds), changed, deleted, their secrets rotated.

use super::{AppsScope, caller_id};
use crate::api::answer::{Written, bad_request, check_app_name, json};
use crate::api::backend::AppView;
use crate::api::precondition::IfMatch;
use crate::api::{Authorized, Collection};
use crate::api_error::ApiError;
use crate::auth::accounts::{self, AppRequest};
use crate::auth::{scopes, secret};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::Page;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Deserialize;

/// `POST /consumer/app`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewConsumerApp {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
}

#[utoipa::path(get, path = "/consumer/app",
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn list_apps(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let user = caller_id(&auth)?;
    let apps = state.store.apps_of(user).await?;
    let page = Page {
        search: None,
        start: 0,
        count: i64::try_from(apps.len()).unwrap_or(i64::MAX),
    };
    let total = page.count;
    Ok(Json(Collection::new(
        page,
        total,
        apps.into_iter().map(AppView::from).collect(),
    )))
}

#[utoipa::path(post, path = "/consumer/app", request_body = NewConsumerApp,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn create_app(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let user_id = caller_id(&auth)?;
    let form: NewConsumerApp = json(&body)?;
    check_app_name(&form.name)?;
    let max = state.store.settings().await?.consumer_max_apps;
    let owned = state.store.apps_of(user_id).await?.len();
    if owned >= max as usize {
        return Err(Problem::new(StatusCode::CONFLICT)
            .detail(format!(
                "you own {owned} apps, the most this server allows; delete one first"
            ))
            .into());
    }
    if form.scopes.is_empty() {
        return Err(bad_request("`scopes` must name at least one scope").into());
    }
    let held = state.store.user_scopes(user_id).await?;
    if let Some(scope) = form
        .scopes
        .iter()
        .find(|scope| !scopes::any_grants(held.iter().map(String::as_str), scope))
    {
        return Err(Problem::new(StatusCode::FORBIDDEN)
            .detail(format!("you cannot grant the scope `{scope}` to an app"))
            .into());
    }
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| bad_request("the account no longer exists"))?;
    let credentials = accounts::add_app(
        &state.store,
        &AppRequest {
            owner: &user.name,
            name: &form.name,
            scopes: &form.scopes,
            redirect_uris: &form.redirect_uris,
            public: false,
        },
    )
    .await?;
    let written = Written::new(
        "the app was created; its secret is shown only now",
        credentials.id,
    );
    let written = written.credentials(credentials.client_id, credentials.client_secret);
    Ok((StatusCode::CREATED, Json(written)))
}

/// The caller's own app `id`, or 404 (another's app is not told apart
/// from a missing one).
pub(super) async fn own_app(
    state: &AppState,
    owner: i64,
    id: &str,
) -> Result<crate::store::identity::App, ApiError> {
    let missing = || Problem::new(StatusCode::NOT_FOUND).detail(format!("you have no app `{id}`"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    let app = state.store.app_by_id(id).await?;
    Ok(app.filter(|app| app.user_id == owner).ok_or_else(missing)?)
}

/// `PUT /consumer/app/{id}`: what a developer may change of an app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumerAppUpdate {
    name: Option<String>,
    scopes: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
}

#[utoipa::path(put, path = "/consumer/app/{id}", params(("id" = String, Path)), request_body = ConsumerAppUpdate,
    responses((status = 200, body = Written), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn update_app(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    if_match: IfMatch,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let owner = caller_id(&auth)?;
    let app = own_app(&state, owner, &id).await?;
    let form: ConsumerAppUpdate = json(&body)?;
    if let Some(name) = &form.name {
        check_app_name(name)?;
    }
    if let Some(scopes) = &form.scopes {
        let held = state.store.user_scopes(owner).await?;
        if scopes.is_empty() {
            return Err(bad_request("`scopes` must name at least one scope").into());
        }
        if let Some(scope) = scopes
            .iter()
            .find(|scope| !scopes::any_grants(held.iter().map(String::as_str), scope))
        {
            return Err(Problem::new(StatusCode::FORBIDDEN)
                .detail(format!("you cannot grant the scope `{scope}` to an app"))
                .into());
        }
    }
    state
        .auth
        .update_app(
            app.id,
            &crate::store::identity::AppChanges {
                name: form.name.as_deref(),
                status: None,
                redirect_uris: form.redirect_uris.as_deref(),
                scopes: form.scopes.as_deref(),
            },
            &if_match.expected(),
        )
        .await?;
    Ok(Json(Written::new("the app was updated", app.id)))
}

#[utoipa::path(delete, path = "/consumer/app/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn delete_app(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let app = own_app(&state, caller_id(&auth)?, &id).await?;
    state.auth.delete_app(app.id).await?;
    Ok(Json(Written::new(
        "the app and its tokens were deleted",
        app.id,
    )))
}

#[utoipa::path(post, path = "/consumer/app/{id}/secret", params(("id" = String, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn rotate_secret(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let app = own_app(&state, caller_id(&auth)?, &id).await?;
    if app.secret_hash.is_none() {
        return Err(bad_request("a public client has no secret").into());
    }
    let secret = secret::generate();
    state
        .store
        .set_app_secret(app.id, &secret::hash(&secret))
        .await?;
    let written = Written::new("the secret was replaced; it is shown only now", app.id)
        .credentials(app.client_id, Some(secret));
    Ok(Json(written))
}
