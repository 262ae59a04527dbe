//! The caller's own account: read, changed, its password changed.

use super::{AccountScope, caller_id};
use crate::api::Authorized;
use crate::api::answer::{Written, bad_request, json};
use crate::api_error::ApiError;
use crate::auth::accounts::{self, AccountError};
use crate::auth::throttle::ClientAddress;
use crate::problem::Problem;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Deserialize;

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

#[utoipa::path(get, path = "/consumer/account",
    responses((status = 200, body = crate::api::backend::UserView), (status = 401), (status = 403)),
    security(("bearer" = ["consumer.account"])))]
pub(super) async fn get_account(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state
        .store
        .user_by_id(caller_id(&auth)?)
        .await?
        .ok_or_else(|| bad_request("the account no longer exists"))?;
    Ok(Json(crate::api::backend::UserView::from(user)))
}

#[utoipa::path(put, path = "/consumer/account", request_body = AccountUpdate,
    responses((status = 200, body = Written), (status = 400), (status = 409)),
    security(("bearer" = ["consumer.account"])))]
pub(super) async fn update_account(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let user = caller_id(&auth)?;
    let form: AccountUpdate = json(&body)?;
    if form.email.parse::<lettre::Address>().is_err() {
        return Err(bad_request("`email` is not an email address").into());
    }
    state.store.set_user_email(user, &form.email).await?;
    Ok(Json(Written::new("the account was updated", user)))
}

#[utoipa::path(put, path = "/consumer/account/change_password", request_body = PasswordChange,
    responses((status = 200, body = Written), (status = 400), (status = 429)),
    security(("bearer" = ["consumer.account"])))]
pub(super) async fn change_password(
    auth: Authorized<AccountScope>,
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let user_id = caller_id(&auth)?;
    let form: PasswordChange = json(&body)?;
    if form.new_password.chars().count() < accounts::MIN_PASSWORD {
        return Err(bad_request(AccountError::WeakPassword.to_string()).into());
    }
    let user = state
        .store
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| bad_request("the account no longer exists"))?;
    match state
        .auth
        .login(&user.name, &form.old_password, address)
        .await?
    {
        crate::auth::Login::Active(_) => {}
        crate::auth::Login::Throttled(throttled) => {
            return Err(Problem::new(StatusCode::TOO_MANY_REQUESTS)
                .detail(throttled.to_string())
                .into());
        }
        _ => return Err(bad_request("`oldPassword` is wrong").into()),
    }
    state
        .auth
        .reset_password(user_id, &form.new_password)
        .await?;
    Ok(Json(Written::new(
        "the password was changed; every session was signed out",
        user_id,
    )))
}
