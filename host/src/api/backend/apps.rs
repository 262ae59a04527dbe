//! `/backend/app`: OAuth2 clients, and the tokens each holds. Switching an
//! app off or changing its scopes revokes its tokens at once; Fusio's own
//! apps cannot be deleted.

use super::tokens::TokenView;
use super::{
    AppScope, FIRST_PARTY, Reference, bad_request, conflict, entity, listing, lookup, updated,
};
use crate::api::answer::{Written, check_app_name, json, respond, store_problem};
use crate::api::precondition::if_match;
use crate::api::{Authorized, Collection, CollectionQuery};
use crate::auth::accounts::{self, AccountError, AppRequest};
use crate::problem::Problem;
use crate::state::AppState;
use crate::store::identity::{App, AppChanges, Status};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// An app as the backend shows it (never the secret or its hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppView {
    id: i64,
    user_id: i64,
    name: String,
    client_id: String,
    #[schema(value_type = String)]
    status: Status,
    /// A public client has no secret.
    public: bool,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
}

impl From<App> for AppView {
    fn from(app: App) -> Self {
        Self {
            id: app.id,
            user_id: app.user_id,
            name: app.name,
            client_id: app.client_id,
            status: app.status,
            public: app.secret_hash.is_none(),
            redirect_uris: app.redirect_uris,
            scopes: app.scopes,
        }
    }
}

/// `POST /backend/app`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewAppBody {
    /// The owner's login name.
    user: String,
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    /// A public client (no secret).
    #[serde(default)]
    public: bool,
}

/// `PUT /backend/app/{id}`: what an administrator may change of an app.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppUpdate {
    name: Option<String>,
    #[schema(value_type = Option<String>)]
    status: Option<Status>,
    scopes: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
}

async fn find(state: &AppState, headers: &HeaderMap, id: &str) -> Result<App, Problem> {
    lookup(headers, "app", id, |reference| async move {
        match reference {
            Reference::Id(n) => state.store.app_by_id(n).await,
            Reference::Name(name) => state.store.app_by_name(name).await,
        }
    })
    .await
}

#[utoipa::path(get, path = "/backend/app", params(CollectionQuery),
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn list(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, AppView, _>(&headers, &query, |page| state.store.list_apps(page)).await
}

#[utoipa::path(get, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = AppView, headers(("ETag" = String))), (status = 404)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn get(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = find(&state, &headers, &id)
        .await
        .map(|app| entity(app.revision, AppView::from(app)));
    respond(&headers, result)
}

#[utoipa::path(get, path = "/backend/app/{id}/token", params(("id" = String, Path, description = "id or ~name"), CollectionQuery),
    responses((status = 200, body = Collection<TokenView>), (status = 404)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn tokens(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    let app = match find(&state, &headers, &id).await {
        Ok(app) => app,
        Err(problem) => return respond::<Response>(&headers, Err(problem)),
    };
    listing::<_, TokenView, _>(&headers, &query, |page| {
        state.store.list_tokens(page, Some(app.id))
    })
    .await
}

#[utoipa::path(post, path = "/backend/app", request_body = NewAppBody,
    responses((status = 201, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn create(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: NewAppBody = json(&body)?;
        check_app_name(&form.name)?;
        let credentials = accounts::add_app(
            &state.store,
            &AppRequest {
                owner: &form.user,
                name: &form.name,
                scopes: &form.scopes,
                redirect_uris: &form.redirect_uris,
                public: form.public,
            },
        )
        .await
        .map_err(|err| match err {
            AccountError::Store(e) => store_problem(&headers, e),
            other => bad_request(other.to_string()),
        })?;
        Ok((
            StatusCode::CREATED,
            Json(
                Written::new(
                    "the app was created; its secret is shown only now",
                    credentials.id,
                )
                .credentials(credentials.client_id, credentials.client_secret),
            ),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = AppUpdate,
    responses((status = 200, body = Written, headers(("ETag" = String))), (status = 400), (status = 404), (status = 409), (status = 412)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn update(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let app = find(&state, &headers, &id).await?;
        let form: AppUpdate = json(&body)?;
        if let Some(name) = &form.name {
            check_app_name(name)?;
        }
        let revision = state
            .auth
            .update_app(
                app.id,
                &AppChanges {
                    name: form.name.as_deref(),
                    status: form.status,
                    redirect_uris: form.redirect_uris.as_deref(),
                    scopes: form.scopes.as_deref(),
                },
                &if_match(&headers),
            )
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(updated("the app was updated", app.id, revision))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Written), (status = 404), (status = 409)),
    security(("bearer" = ["backend.app"])))]
pub(super) async fn delete(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = find(&state, &headers, &id).await?;
        if FIRST_PARTY.contains(&app.client_id.as_str()) {
            return Err(conflict(format!(
                "`{}` is one of Fusio's own apps and cannot be deleted",
                app.client_id
            )));
        }
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
