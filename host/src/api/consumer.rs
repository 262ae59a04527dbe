//! `/consumer`: the developer portal's API. Registration with an activation
//! mail, login, and the caller's own apps, limited to the scopes the caller
//! holds.

use super::answer::{Written, bad_request, check_app_name, json, respond, store_problem};
use super::backend::AppView;
use super::precondition::if_match;
use super::{Authorized, Collection, RequiredScope};
use crate::auth::accounts::{self, AccountError, AppRequest};
use crate::auth::{scopes, secret, throttle::ClientAddress, unix_now};
use crate::problem::Problem;
use crate::request_id::request_id;
use crate::state::AppState;
use crate::store::Page;
use crate::store::identity::{NewUser, Status};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::bootstrap::PORTAL_CLIENT_ID;
/// How long an activation link works.
const ACTIVATION_LIFETIME: i64 = 24 * 3600;

/// The scope `consumer.account`.
#[derive(Debug)]
pub struct AccountScope;
impl RequiredScope for AccountScope {
    const SCOPE: &'static str = "consumer.account";
}

/// `PUT /consumer/account`: what a developer may change of their account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    email: String,
}

/// `PUT /consumer/account/change_password`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PasswordChange {
    old_password: String,
    new_password: String,
}

/// The scope `consumer.grant`.
#[derive(Debug)]
pub struct GrantsScope;
impl RequiredScope for GrantsScope {
    const SCOPE: &'static str = "consumer.grant";
}

/// The scope `consumer.app`.
#[derive(Debug)]
pub struct AppsScope;
impl RequiredScope for AppsScope {
    const SCOPE: &'static str = "consumer.app";
}

/// Every `/consumer` route, with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(activate))
        .routes(routes!(login, refresh))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(list_apps, create_app))
        .routes(routes!(get_account, update_account))
        .routes(routes!(update_app, delete_app))
        .routes(routes!(rotate_secret))
        .routes(routes!(list_grants))
        .routes(routes!(provider_login))
        .routes(routes!(provider_callback))
        .routes(routes!(revoke_grant))
        .routes(routes!(change_password))
}

/// `POST /consumer/register`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    name: String,
    email: String,
    password: String,
}

/// `POST /consumer/activate`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Activation {
    token: String,
}

/// `POST /consumer/password_reset`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    email: String,
}

/// `POST /consumer/password_reset/confirm`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmation {
    token: String,
    password: String,
}

/// How long a password-reset link works.
const RESET_LIFETIME: i64 = 3600;

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

/// `POST /consumer/app`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewConsumerApp {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
}

fn valid_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

#[utoipa::path(post, path = "/consumer/register", request_body = Registration,
    responses((status = 201, body = Written), (status = 400), (status = 403), (status = 409)))]
async fn register(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let settings = state
            .store
            .settings()
            .await
            .map_err(|e| store_problem(&headers, e))?;
        if !state.registration || !settings.registration_open {
            return Err(Problem::new(StatusCode::FORBIDDEN).detail("registration is switched off"));
        }
        let form: Registration = json(&body)?;
        if !valid_name(&form.name) {
            return Err(bad_request("`name` must have 3 to 64 letters, digits, `.`, `_` or `-`"));
        }
        if form.email.parse::<lettre::Address>().is_err() {
            return Err(bad_request("`email` is not an email address"));
        }
        if form.password.chars().count() < accounts::MIN_PASSWORD {
            return Err(bad_request(AccountError::WeakPassword.to_string()));
        }
        let hash = crate::auth::password::hash(&form.password);
        let user = state
            .store
            .create_user(&NewUser {
                name: &form.name,
                email: Some(&form.email),
                status: Status::Pending,
                password_hash: Some(&hash),
                role: crate::auth::bootstrap::CONSUMER,
                scopes: &[],
            })
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let token = secret::generate();
        state
            .store
            .insert_user_token(user, "activate", &secret::hash(&token), unix_now() + ACTIVATION_LIFETIME)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let link = format!("{}/developer/activate?token={token}", state.auth.jwt().issuer());
        let text = format!(
            "Hello {},\n\nactivate your account within 24 hours:\n\n{link}\n\nor enter this token: {token}\n",
            form.name
        );
        if let Err(err) = state
            .mailer
            .send(&form.email, &settings.activation_mail_subject, &text)
            .await {
            tracing::error!(request_id = request_id(&headers), error = %err, "registration: the activation mail failed");
            // Without the mail the account could never be activated: undo it,
            // so that the same name can register again.
            if let Err(err) = state.store.delete_user(user).await {
                tracing::error!(request_id = request_id(&headers), error = %err, "registration: cannot undo the account");
            }
            return Err(Problem::new(StatusCode::BAD_GATEWAY).detail("the activation mail could not be sent"));
        }
        Ok((
            StatusCode::CREATED,
            Json(Written::new("registered; the activation link is on its way", user)),
        ))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/activate", request_body = Activation,
    responses((status = 200, body = Written), (status = 400)))]
async fn activate(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let form: Activation = json(&body)?;
        let user = state
            .store
            .take_user_token("activate", &secret::hash(&form.token), unix_now())
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| bad_request("the activation token is unknown, used or expired"))?;
        state
            .store
            .set_user_status(user, Status::Active)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new("the account is active", user)))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/password_reset", request_body = ResetRequest,
    responses((status = 200, body = Written), (status = 400)))]
async fn request_password_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: ResetRequest = json(&body)?;
        // The same answer whether or not the address is known, so the
        // endpoint tells nobody which addresses have accounts.
        let answer = Json(Written::new("if the address has an account, a reset link is on its way", ""));
        let Some(user) = state
            .store
            .user_by_email(&form.email)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .filter(|user| user.status == Status::Active)
        else {
            return Ok(answer);
        };
        let token = secret::generate();
        state
            .store
            .insert_user_token(user.id, "password_reset", &secret::hash(&token), unix_now() + RESET_LIFETIME)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        let subject = state
            .store
            .settings()
            .await
            .map_err(|e| store_problem(&headers, e))?
            .reset_mail_subject;
        let link = format!("{}/developer/password_reset?token={token}", state.auth.jwt().issuer());
        let text = format!(
            "Hello {},\n\nset a new password within an hour:\n\n{link}\n\nor enter this token: {token}\n\n\
             If you did not ask for this, ignore this mail.\n",
            user.name
        );
        if let Err(err) = state
            .mailer
            .send(&form.email, &subject, &text)
            .await {
            tracing::error!(request_id = request_id(&headers), error = %err, "password reset: the mail failed");
        }
        Ok(answer)
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/password_reset/confirm", request_body = ResetConfirmation,
    responses((status = 200, body = Written), (status = 400)))]
async fn confirm_password_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let form: ResetConfirmation = json(&body)?;
        if form.password.chars().count() < accounts::MIN_PASSWORD {
            return Err(bad_request(AccountError::WeakPassword.to_string()));
        }
        let user = state
            .store
            .take_user_token("password_reset", &secret::hash(&form.token), unix_now())
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| bad_request("the reset token is unknown, used or expired"))?;
        state
            .auth
            .reset_password(user, &form.password)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new(
            "the password was changed; every session was signed out",
            user,
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(post, path = "/consumer/login", request_body = Login,
    responses((status = 200, description = "an OAuth2 token response"), (status = 400), (status = 429)))]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: Login = match json(&body) {
        Ok(form) => form,
        Err(problem) => return respond::<Response>(&headers, Err(problem)),
    };
    // The OAuth2 password grant through the portal's public client: the
    // answer (and its errors) are the token endpoint's.
    state
        .auth
        .first_party_login(PORTAL_CLIENT_ID, &form.username, &form.password, address)
        .await
}

#[utoipa::path(put, path = "/consumer/login", request_body = Refresh,
    responses((status = 200, description = "an OAuth2 token response"), (status = 400)))]
async fn refresh(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: Refresh = match json(&body) {
        Ok(form) => form,
        Err(problem) => return respond::<Response>(&headers, Err(problem)),
    };
    // The refresh grant through the portal's client: a refresh token works
    // once, and a replayed one ends the session.
    state
        .auth
        .first_party_refresh(PORTAL_CLIENT_ID, &form.refresh_token)
        .await
}

#[utoipa::path(get, path = "/consumer/app",
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.app"])))]
async fn list_apps(
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
async fn create_app(
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

#[utoipa::path(get, path = "/consumer/account",
    responses((status = 200, body = super::backend::UserView), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.account"])))]
async fn get_account(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let user = state
            .store
            .user_by_id(caller_id(&auth)?)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| bad_request("the account no longer exists"))?;
        Ok(Json(super::backend::UserView::from(user)))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/consumer/account", request_body = AccountUpdate,
    responses((status = 200, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["consumer.account"])))]
async fn update_account(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = caller_id(&auth)?;
        let form: AccountUpdate = json(&body)?;
        if form.email.parse::<lettre::Address>().is_err() {
            return Err(bad_request("`email` is not an email address"));
        }
        state
            .store
            .set_user_email(user, &form.email)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new("the account was updated", user)))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(put, path = "/consumer/account/change_password", request_body = PasswordChange,
    responses((status = 200, body = Written), (status = 400), (status = 429)),
    security(("bearer" = ["consumer.account"])))]
async fn change_password(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user_id = caller_id(&auth)?;
        let form: PasswordChange = json(&body)?;
        if form.new_password.chars().count() < accounts::MIN_PASSWORD {
            return Err(bad_request(AccountError::WeakPassword.to_string()));
        }
        let user = state
            .store
            .user_by_id(user_id)
            .await
            .map_err(|e| store_problem(&headers, e))?
            .ok_or_else(|| bad_request("the account no longer exists"))?;
        match state
            .auth
            .login(&user.name, &form.old_password, address)
            .await
            .map_err(|e| store_problem(&headers, e))?
        {
            crate::auth::Login::Active(_) => {}
            crate::auth::Login::Throttled(throttled) => {
                return Err(
                    Problem::new(StatusCode::TOO_MANY_REQUESTS).detail(throttled.to_string())
                );
            }
            _ => return Err(bad_request("`oldPassword` is wrong")),
        }
        state
            .auth
            .reset_password(user_id, &form.new_password)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        Ok(Json(Written::new(
            "the password was changed; every session was signed out",
            user_id,
        )))
    }
    .await;
    respond(&headers, result)
}

/// The caller's own app `id`, or 404 (another's app is not told apart
/// from a missing one).
async fn own_app(
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
async fn update_app(
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
async fn delete_app(
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
async fn rotate_secret(
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

#[utoipa::path(get, path = "/consumer/grant",
    responses((status = 200, body = Collection<AppView>), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.grant"])))]
async fn list_grants(
    auth: Authorized<GrantsScope>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let apps = state
            .store
            .grants_of(caller_id(&auth)?)
            .await
            .map_err(|e| store_problem(&headers, e))?;
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
    .await;
    respond(&headers, result)
}

#[utoipa::path(delete, path = "/consumer/grant/{app}", params(("app" = i64, Path)),
    responses((status = 200, body = Written), (status = 404)),
    security(("bearer" = ["consumer.grant"])))]
async fn revoke_grant(
    auth: Authorized<GrantsScope>,
    State(state): State<AppState>,
    axum::extract::Path(app): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let missing = || {
            Problem::new(StatusCode::NOT_FOUND)
                .detail(format!("you have not authorized an app `{app}`"))
        };
        let app_id: i64 = app.parse().map_err(|_| missing())?;
        let revoked = state
            .auth
            .revoke_grant(caller_id(&auth)?, app_id)
            .await
            .map_err(|e| store_problem(&headers, e))?;
        if revoked == 0 {
            return Err(missing());
        }
        Ok(Json(Written::new(
            format!("{revoked} tokens were revoked"),
            app_id,
        )))
    }
    .await;
    respond(&headers, result)
}

#[utoipa::path(get, path = "/consumer/provider/{name}", params(("name" = String, Path)),
    responses((status = 303, description = "to the provider's login"), (status = 404)))]
async fn provider_login(
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
async fn provider_callback(
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

fn caller_id<S: RequiredScope>(auth: &Authorized<S>) -> Result<i64, Problem> {
    auth.caller
        .claims
        .sub
        .parse()
        .map_err(|_| Problem::new(StatusCode::FORBIDDEN).detail("the token names no user"))
}
