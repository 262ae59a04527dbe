//! The caller's own apps: listed, created (limited to the scopes the
//! caller holds), changed, deleted, their secrets rotated.

use super::{AppsScope, caller_id};
use crate::api::answer::{Written, bad_request, check_app_name, json, respond, store_problem};
use crate::api::backend::AppView;
use crate::api::precondition::if_match;
use crate::api::{Authorized, Collection};
use crate::auth::accounts::{self, AccountError, AppRequest};
use crate::auth::{scopes, secret};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::Page;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
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
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = caller_id(&auth)?;
        let apps = state
            .store
            .apps_of(user)
            .await
            .map_err(|e| store_problem(&headers, e))?;
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
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/app", request_body = NewConsumerApp,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn create_app(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user_id = caller_id(&auth)?;
        let form: NewConsumerApp = json(&body)?;
        check_app_name(&form.name)?;
        let max = state
            .store
            .settings()
            .await
            .map_err(|e| store_problem(&headers, e))?
            .consumer_max_apps;
        let owned = state
            .store
            .apps_of(user_id)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .len();
        if owned >= max as usize {
            return Err(Problem::new(StatusCode::CONFLICT).detail(format!(
                "you own {owned} apps, the most this server allows; delete one first"
            )));
        }
        if form.scopes.is_empty() {
            return Err(bad_request("`scopes` must name at least one scope"));
        }
        let held = state
            .store
            .user_scopes(user_id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        if let Some(scope) = form
            .scopes
            .iter()
            .find(|scope| !scopes::any_grants(held.iter().map(String::as_str), scope))
        {
            return Err(Problem::new(StatusCode::FORBIDDEN)
                .detail(format!("you cannot grant the scope `{scope}` to an app")));
        }
        let user = state
            .store
            .user_by_id(user_id)
            .await
            .map_err(|e| store_problem(&headers, e))?
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
        .await
        .map_err(|err| match err {
            AccountError::Store(e) => store_problem(&headers, e),
            other => bad_request(other.to_string()),
        })?;
        let written = Written::new(
            "the app was created; its secret is shown only now",
            credentials.id,
        );
        let written = written.credentials(credentials.client_id, credentials.client_secret);
        Ok((StatusCode::CREATED, Json(written)))
    }
    .await;
    respond(&headers, result)
}

/// The caller's own app `id`, or 404 (another's app is not told apart
/// from a missing one).
pub(super) async fn own_app(
    state: &AppState,
    headers: &HeaderMap,
    owner: i64,
    id: &str,
) -> Result<crate::store::identity::App, Problem> {
    let missing = || Problem::new(StatusCode::NOT_FOUND).detail(format!("you have no app `{id}`"));
    let id: i64 = id.parse().map_err(|_| missing())?;
    state
        .store
        .app_by_id(id)
        .await
        .map_err(|e| store_problem(headers, e))?
        .filter(|app| app.user_id == owner)
        .ok_or_else(missing)
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
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let owner = caller_id(&auth)?;
        let app = own_app(&state, &headers, owner, &id).await?;
        let form: ConsumerAppUpdate = json(&body)?;
        if let Some(name) = &form.name {
            check_app_name(name)?;
        }
        if let Some(scopes) = &form.scopes {
            let held = state
                .store
                .user_scopes(owner)
                .await
                .map_err(|e| store_problem(&headers, e))?;
            if scopes.is_empty() {
                return Err(bad_request("`scopes` must name at least one scope"));
            }
            if let Some(scope) = scopes
                .iter()
                .find(|scope| !scopes::any_grants(held.iter().map(String::as_str), scope))
            {
                return Err(Problem::new(StatusCode::FORBIDDEN)
                    .detail(format!("you cannot grant the scope `{scope}` to an app")));
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
                &if_match(&headers),
            )
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new("the app was updated", app.id)))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/consumer/app/{id}", params(("id" = String, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn delete_app(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = own_app(&state, &headers, caller_id(&auth)?, &id).await?;
        state
            .auth
            .delete_app(app.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new(
            "the app and its tokens were deleted",
            app.id,
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/app/{id}/secret", params(("id" = String, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.app"])))]
pub(super) async fn rotate_secret(
    auth: Authorized<AppsScope>,
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = own_app(&state, &headers, caller_id(&auth)?, &id).await?;
        if app.secret_hash.is_none() {
            return Err(bad_request("a public client has no secret"));
        }
        let secret = secret::generate();
        state
            .store
            .set_app_secret(app.id, &secret::hash(&secret))
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let written = Written::new("the secret was replaced; it is shown only now", app.id)
            .credentials(app.client_id, Some(secret));
        Ok(Json(written))
    }
    .await;
    respond(&headers, result)
}
