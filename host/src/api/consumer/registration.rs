//! Registration with an activation mail, and the password reset by mail.

use super::valid_name;
use crate::api::answer::{Written, bad_request, json};
use crate::api_error::ApiError;
use crate::auth::accounts::{self, AccountError};
use crate::auth::{secret, unix_now};
use crate::problem::Problem;
use crate::request_id::RequestId;
use crate::state::AppState;
use crate::store::identity::{NewUser, Status};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;
use http::StatusCode;
use serde::Deserialize;

/// How long an activation link works.
const ACTIVATION_LIFETIME: i64 = 24 * 3600;

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

#[utoipa::path(post, path = "/consumer/register", request_body = Registration,
    responses((status = 201, body = Written), (status = 400), (status = 403), (status = 409)))]
pub(super) async fn register(
    State(state): State<AppState>,
    request_id: RequestId,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let settings = state.store.settings().await?;
    if !state.registration || !settings.registration_open {
        return Err(Problem::new(StatusCode::FORBIDDEN)
            .detail("registration is switched off")
            .into());
    }
    let form: Registration = json(&body)?;
    if !valid_name(&form.name) {
        return Err(
            bad_request("`name` must have 3 to 64 letters, digits, `.`, `_` or `-`").into(),
        );
    }
    if form.email.parse::<lettre::Address>().is_err() {
        return Err(bad_request("`email` is not an email address").into());
    }
    if form.password.chars().count() < accounts::MIN_PASSWORD {
        return Err(bad_request(AccountError::WeakPassword.to_string()).into());
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
        .await?;
    let token = secret::generate();
    state
        .store
        .insert_user_token(
            user,
            "activate",
            &secret::hash(&token),
            unix_now() + ACTIVATION_LIFETIME,
        )
        .await?;
    let link = format!(
        "{}/developer/activate?token={token}",
        state.auth.jwt().issuer()
    );
    let text = format!(
        "Hello {},\n\nactivate your account within 24 hours:\n\n{link}\n\nor enter this token: {token}\n",
        form.name
    );
    if let Err(err) = state
        .mailer
        .send(&form.email, &settings.activation_mail_subject, &text)
        .await
    {
        tracing::error!(request_id = request_id.as_deref(), error = %err, "registration: the activation mail failed");
        // Without the mail the account could never be activated: undo it,
        // so that the same name can register again.
        if let Err(err) = state.store.delete_user(user).await {
            tracing::error!(request_id = request_id.as_deref(), error = %err, "registration: cannot undo the account");
        }
        return Err(Problem::new(StatusCode::BAD_GATEWAY)
            .detail("the activation mail could not be sent")
            .into());
    }
    Ok((
        StatusCode::CREATED,
        Json(Written::new(
            "registered; the activation link is on its way",
            user,
        )),
    ))
}

#[utoipa::path(post, path = "/consumer/activate", request_body = Activation,
    responses((status = 200, body = Written), (status = 400)))]
pub(super) async fn activate(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: Activation = json(&body)?;
    let user = state
        .store
        .take_user_token("activate", &secret::hash(&form.token), unix_now())
        .await?
        .ok_or_else(|| bad_request("the activation token is unknown, used or expired"))?;
    state.store.set_user_status(user, Status::Active).await?;
    Ok(Json(Written::new("the account is active", user)))
}

#[utoipa::path(post, path = "/consumer/password_reset", request_body = ResetRequest,
    responses((status = 200, body = Written), (status = 400)))]
pub(super) async fn request_password_reset(
    State(state): State<AppState>,
    request_id: RequestId,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: ResetRequest = json(&body)?;
    // The same answer whether or not the address is known, so the
    // endpoint tells nobody which addresses have accounts.
    let answer = Json(Written::new(
        "if the address has an account, a reset link is on its way",
        "",
    ));
    let Some(user) = state
        .store
        .user_by_email(&form.email)
        .await?
        .filter(|user| user.status == Status::Active)
    else {
        return Ok(answer);
    };
    let token = secret::generate();
    state
        .store
        .insert_user_token(
            user.id,
            "password_reset",
            &secret::hash(&token),
            unix_now() + RESET_LIFETIME,
        )
        .await?;
    let subject = state.store.settings().await?.reset_mail_subject;
    let link = format!(
        "{}/developer/password_reset?token={token}",
        state.auth.jwt().issuer()
    );
    let text = format!(
        "Hello {},\n\nset a new password within an hour:\n\n{link}\n\nor enter this token: {token}\n\n\
         If you did not ask for this, ignore this mail.\n",
        user.name
    );
    if let Err(err) = state.mailer.send(&form.email, &subject, &text).await {
        tracing::error!(request_id = request_id.as_deref(), error = %err, "password reset: the mail failed");
    }
    Ok(answer)
}

#[utoipa::path(post, path = "/consumer/password_reset/confirm", request_body = ResetConfirmation,
    responses((status = 200, body = Written), (status = 400)))]
pub(super) async fn confirm_password_reset(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let form: ResetConfirmation = json(&body)?;
    if form.password.chars().count() < accounts::MIN_PASSWORD {
        return Err(bad_request(AccountError::WeakPassword.to_string()).into());
    }
    let user = state
        .store
        .take_user_token("password_reset", &secret::hash(&form.token), unix_now())
        .await?
        .ok_or_else(|| bad_request("the reset token is unknown, used or expired"))?;
    state.auth.reset_password(user, &form.password).await?;
    Ok(Json(Written::new(
        "the password was changed; every session was signed out",
        user,
    )))
}
