//! `/backend`: the administration API. So far the identity resources —
//! users, apps, scopes and tokens — to read, and tokens to revoke; each
//! needs its `backend.*` scope.

use super::answer::{check_app_name, json, respond, store_problem};
use super::{Authorized, Collection, CollectionQuery, RequiredScope};
use crate::app::AppState;
use crate::problem::Problem;
use crate::store::StoreError;
use crate::store::identity::{App, Page, Scope, Status, TokenRecord, User};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

macro_rules! scope {
    ($name:ident, $scope:literal) => {
        #[doc = concat!("The scope `", $scope, "`.")]
        #[derive(Debug)]
        pub struct $name;
        impl RequiredScope for $name {
            const SCOPE: &'static str = $scope;
        }
    };
}
scope!(UserScope, "backend.user");
scope!(AppScope, "backend.app");
scope!(ScopeScope, "backend.scope");
scope!(TokenScope, "backend.token");
scope!(RoleScope, "backend.role");

/// Every `/backend` route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_app, update_app, delete_app))
        .routes(routes!(list_scopes, create_scope))
        .routes(routes!(delete_scope))
        .routes(routes!(list_tokens))
        .routes(routes!(list_roles))
        .routes(routes!(revoke_token))
}

/// The OpenAPI document of `/backend`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}

/// A user as the backend shows it (never the password hash).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    id: i64,
    name: String,
    email: Option<String>,
    #[schema(value_type = String)]
    status: Status,
    role: String,
}

impl From<User> for UserView {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            name: user.name,
            email: user.email,
            status: user.status,
            role: user.role,
        }
    }
}

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

/// A scope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeView {
    id: i64,
    name: String,
    description: String,
    system: bool,
}

impl From<Scope> for ScopeView {
    fn from(scope: Scope) -> Self {
        Self {
            id: scope.id,
            name: scope.name,
            description: scope.description,
            system: scope.system,
        }
    }
}

/// A role and the scopes its users get by default.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleView {
    name: String,
    scopes: Vec<String>,
}

#[utoipa::path(get, path = "/backend/role",
    responses((status = 200, body = Collection<RoleView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.role"])))]
async fn list_roles(
    _: Authorized<RoleScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let roles = state
            .store
            .list_roles()
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let count = i64::try_from(roles.len()).unwrap_or(i64::MAX);
        let entry = roles
            .into_iter()
            .map(|(name, scopes)| RoleView { name, scopes })
            .collect();
        Ok(Json(Collection::new(
            Page {
                search: None,
                start: 0,
                count,
            },
            count,
            entry,
        )))
    }
    .await;
    respond(&headers, result)
}

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

/// The answer of a write (DESIGN.md 6).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Message {
    success: bool,
    message: String,
    id: String,
}

impl Message {
    /// A successful write of the entity `id`.
    fn new(message: &str, id: String) -> Self {
        Self {
            success: true,
            message: message.to_owned(),
            id,
        }
    }
}

/// A listing: checks the page, fetches it and wraps it in the envelope.
async fn listing<'q, T, V, Fut>(
    headers: &HeaderMap,
    query: &'q CollectionQuery,
    fetch: impl FnOnce(Page<'q>) -> Fut,
) -> Response
where
    Fut: Future<Output = Result<(i64, Vec<T>), StoreError>>,
    V: From<T> + Serialize,
{
    let result = async {
        let page = query.page()?;
        let (total, rows) = fetch(page).await.map_err(|e| store_problem(headers, e))?;
        Ok(Json(Collection::new(
            page,
            total,
            rows.into_iter().map(V::from).collect::<Vec<V>>(),
        )))
    }
    .await;
    respond(headers, result)
}

/// An entity reference: a store id, or `~name`.
enum Reference<'a> {
    Id(i64),
    Name(&'a str),
}

fn reference(text: &str) -> Result<Reference<'_>, Problem> {
    match text.strip_prefix('~') {
        Some(name) if !name.is_empty() => Ok(Reference::Name(name)),
        _ => text.parse().map(Reference::Id).map_err(|_| {
            Problem::new(StatusCode::BAD_REQUEST)
                .detail(format!("`{text}` is neither an id nor a ~name"))
        }),
    }
}

fn not_found(what: &str, text: &str) -> Problem {
    Problem::new(StatusCode::NOT_FOUND).detail(format!("no {what} `{text}`"))
}

#[utoipa::path(get, path = "/backend/user", params(CollectionQuery),
    responses((status = 200, body = Collection<UserView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.user"])))]
async fn list_users(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, UserView, _>(&headers, &query, |page| state.store.list_users(page)).await
}

#[utoipa::path(get, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = UserView), (status = 404)),
    security(("bearer" = ["backend.user"])))]
async fn get_user(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = user_by_reference(&state, &headers, &id)
        .await
        .map(|user| Json(UserView::from(user)));
    respond(&headers, result)
}

/// `POST /backend/user`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    name: String,
    email: Option<String>,
    password: String,
    role: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// `PUT /backend/user/{id}`: what an administrator may change.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[schema(value_type = Option<String>)]
    status: Option<Status>,
    role: Option<String>,
}

async fn user_by_reference(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<User, Problem> {
    match reference(id)? {
        Reference::Id(n) => state.store.user_by_id(n).await,
        Reference::Name(name) => state.store.user_by_name(name).await,
    }
    .map_err(|e| store_problem(headers, e))?
    .ok_or_else(|| not_found("user", id))
}

#[utoipa::path(post, path = "/backend/user", request_body = NewUserBody,
    responses((status = 201, body = Message), (status = 400), (status = 409)),
    security(("bearer" = ["backend.user"])))]
async fn create_user(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let form: NewUserBody = json(&body)?;
        let id = crate::auth::accounts::add_user(
            &state.store,
            &crate::auth::accounts::Account {
                name: &form.name,
                email: form.email.as_deref(),
                password: &form.password,
                role: &form.role,
                scopes: &form.scopes,
            },
        )
        .await
        .map_err(|err| match err {
            crate::auth::accounts::AccountError::Store(e) => store_problem(&headers, e),
            other => Problem::new(StatusCode::BAD_REQUEST).detail(other.to_string()),
        })?;
        Ok((
            StatusCode::CREATED,
            Json(Message::new("the user was created", id.to_string())),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = UserUpdate,
    responses((status = 200, body = Message), (status = 400), (status = 404)),
    security(("bearer" = ["backend.user"])))]
async fn update_user(
    _: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let form: UserUpdate = json(&body)?;
        let user = user_by_reference(&state, &headers, &id).await?;
        if let Some(role) = &form.role {
            state
                .store
                .set_user_role(user.id, role)
                .await
                .map_err(|e| store_problem(&headers, e))?;
        }
        if let Some(status) = form.status {
            state
                .auth
                .set_user_status(user.id, status)
                .await
                .map_err(|e| store_problem(&headers, e))?;
        }
        Ok(Json(Message::new(
            "the user was updated",
            user.id.to_string(),
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/user/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Message), (status = 404), (status = 409)),
    security(("bearer" = ["backend.user"])))]
async fn delete_user(
    auth: Authorized<UserScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = user_by_reference(&state, &headers, &id).await?;
        if auth.caller.claims.sub == user.id.to_string() {
            return Err(
                Problem::new(StatusCode::CONFLICT).detail("you cannot delete your own account")
            );
        }
        let owns_first_party = state
            .store
            .apps_of(user.id)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .iter()
            .any(|app| FIRST_PARTY.contains(&app.client_id.as_str()));
        if owns_first_party {
            return Err(Problem::new(StatusCode::CONFLICT).detail(
                "this user owns Fusio's own apps (`fusio`, `developer`) and cannot be deleted",
            ));
        }
        state
            .auth
            .delete_user(user.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Message::new(
            "the user, their apps and their tokens were deleted",
            user.id.to_string(),
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(get, path = "/backend/app", params(CollectionQuery),
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.app"])))]
async fn list_apps(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, AppView, _>(&headers, &query, |page| state.store.list_apps(page)).await
}

#[utoipa::path(get, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = AppView), (status = 404)),
    security(("bearer" = ["backend.app"])))]
async fn get_app(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = app_by_reference(&state, &headers, &id)
        .await
        .map(|app| Json(AppView::from(app)));
    respond(&headers, result)
}

async fn app_by_reference(state: &AppState, headers: &HeaderMap, id: &str) -> Result<App, Problem> {
    match reference(id)? {
        Reference::Id(n) => state.store.app_by_id(n).await,
        Reference::Name(name) => state.store.app_by_name(name).await,
    }
    .map_err(|e| store_problem(headers, e))?
    .ok_or_else(|| not_found("app", id))
}

/// `POST /backend/app`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
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

/// A created app's credentials; the secret is shown only here.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppCreated {
    success: bool,
    message: String,
    id: String,
    client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
}

#[utoipa::path(post, path = "/backend/app", request_body = NewAppBody,
    responses((status = 201, body = AppCreated), (status = 400), (status = 409)),
    security(("bearer" = ["backend.app"])))]
async fn create_app(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let form: NewAppBody = json(&body)?;
        check_app_name(&form.name)?;
        let credentials = crate::auth::accounts::add_app(
            &state.store,
            &crate::auth::accounts::AppRequest {
                owner: &form.user,
                name: &form.name,
                scopes: &form.scopes,
                redirect_uris: &form.redirect_uris,
                public: form.public,
            },
        )
        .await
        .map_err(|err| match err {
            crate::auth::accounts::AccountError::Store(e) => store_problem(&headers, e),
            other => Problem::new(StatusCode::BAD_REQUEST).detail(other.to_string()),
        })?;
        Ok((
            StatusCode::CREATED,
            Json(AppCreated {
                success: true,
                message: "the app was created; its secret is shown only now".into(),
                id: credentials.id.to_string(),
                client_id: credentials.client_id,
                client_secret: credentials.client_secret,
            }),
        ))
    }
    .await;
    respond(&headers, result)
}

/// `PUT /backend/app/{id}`: what an administrator may change of an app.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppUpdate {
    name: Option<String>,
    #[schema(value_type = Option<String>)]
    status: Option<Status>,
    scopes: Option<Vec<String>>,
    redirect_uris: Option<Vec<String>>,
}

#[utoipa::path(put, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    request_body = AppUpdate,
    responses((status = 200, body = Message), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = ["backend.app"])))]
async fn update_app(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let app = app_by_reference(&state, &headers, &id).await?;
        let form: AppUpdate = json(&body)?;
        if let Some(name) = &form.name {
            check_app_name(name)?;
        }
        state
            .auth
            .update_app(
                app.id,
                &crate::store::identity::AppChanges {
                    name: form.name.as_deref(),
                    status: form.status,
                    redirect_uris: form.redirect_uris.as_deref(),
                    scopes: form.scopes.as_deref(),
                },
            )
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Message::new(
            "the app was updated",
            app.id.to_string(),
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/app/{id}", params(("id" = String, Path, description = "id or ~name")),
    responses((status = 200, body = Message), (status = 404), (status = 409)),
    security(("bearer" = ["backend.app"])))]
async fn delete_app(
    _: Authorized<AppScope>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let app = app_by_reference(&state, &headers, &id).await?;
        if FIRST_PARTY.contains(&app.client_id.as_str()) {
            return Err(Problem::new(StatusCode::CONFLICT).detail(format!(
                "`{}` is one of Fusio's own apps and cannot be deleted",
                app.client_id
            )));
        }
        state
            .auth
            .delete_app(app.id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Message::new(
            "the app and its tokens were deleted",
            app.id.to_string(),
        )))
    }
    .await;
    respond(&headers, result)
}

/// The client ids of Fusio's own apps, which the backend and portal need.
const FIRST_PARTY: [&str; 2] = [
    crate::auth::bootstrap::BACKEND_CLIENT_ID,
    super::consumer::PORTAL_CLIENT_ID,
];

#[utoipa::path(get, path = "/backend/scope", params(CollectionQuery),
    responses((status = 200, body = Collection<ScopeView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.scope"])))]
async fn list_scopes(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, ScopeView, _>(&headers, &query, |page| state.store.list_scopes(page)).await
}

/// `POST /backend/scope`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewScopeBody {
    name: String,
    #[serde(default)]
    description: String,
}

#[utoipa::path(post, path = "/backend/scope", request_body = NewScopeBody,
    responses((status = 201, body = Message), (status = 400), (status = 409)),
    security(("bearer" = ["backend.scope"])))]
async fn create_scope(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let form: NewScopeBody = json(&body)?;
        if !crate::auth::scopes::is_valid_name(&form.name) {
            return Err(Problem::new(StatusCode::BAD_REQUEST)
                .detail(format!("`{}` is not a valid scope name", form.name)));
        }
        if crate::auth::scopes::is_system(&form.name) {
            return Err(Problem::new(StatusCode::BAD_REQUEST)
                .detail(format!("`{}` lies below a system scope", form.name)));
        }
        let id = state
            .store
            .create_scope(&form.name, &form.description)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok((
            StatusCode::CREATED,
            Json(Message::new("the scope was created", id.to_string())),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/backend/scope/{name}", params(("name" = String, Path, description = "~name")),
    responses((status = 200, body = Message), (status = 404), (status = 409)),
    security(("bearer" = ["backend.scope"])))]
async fn delete_scope(
    _: Authorized<ScopeScope>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let key = name.strip_prefix('~').unwrap_or(&name);
        let (scope, granted_on) = state
            .store
            .scope_by_name(key)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| not_found("scope", &name))?;
        if scope.system {
            return Err(Problem::new(StatusCode::CONFLICT).detail("a system scope cannot be deleted"));
        }
        if granted_on > 0 {
            return Err(Problem::new(StatusCode::CONFLICT).detail(format!(
                "the scope is granted on {granted_on} route methods; remove it from the project first"
            )));
        }
        state.store.delete_scope(scope.id).await.map_err(|e| store_problem(&headers, e))?;
        state.auth.forget_verified();
        Ok(Json(Message::new("the scope was deleted", scope.id.to_string())))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(get, path = "/backend/token", params(CollectionQuery),
    responses((status = 200, body = Collection<TokenView>), (status = 401), (status = 403)),
    security(("bearer" = ["backend.token"])))]
async fn list_tokens(
    _: Authorized<TokenScope>,
    State(state): State<AppState>,
    Query(query): Query<CollectionQuery>,
    headers: HeaderMap,
) -> Response {
    listing::<_, TokenView, _>(&headers, &query, |page| state.store.list_tokens(page)).await
}

#[utoipa::path(delete, path = "/backend/token/{jti}", params(("jti" = String, Path)),
    responses((status = 200, body = Message), (status = 404)),
    security(("bearer" = ["backend.token"])))]
async fn revoke_token(
    _: Authorized<TokenScope>,
    State(state): State<AppState>,
    Path(jti): Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        state
            .store
            .token_by_jti(&jti)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| not_found("token", &jti))?;
        state
            .auth
            .revoke_token(&jti)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Message::new("the token was revoked", jti.clone())))
    }
    .await;
    respond(&headers, result)
}
