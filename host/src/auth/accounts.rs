//! Creating users and apps with their secrets: what `fusio adduser` and
//! `fusio addapp` do, and what the backend and consumer APIs will reuse.
//! Secrets are hashed here and handed back in clear exactly once.

use super::{password, secret};
use crate::store::identity::{NewApp, NewUser, Status};
use crate::store::{Store, StoreError};

/// A new user account.
#[derive(Debug, Clone)]
pub struct Account<'a> {
    /// Unique login name.
    pub name: &'a str,
    /// Unique email address.
    pub email: Option<&'a str>,
    /// The password in clear; hashed before it is stored.
    pub password: &'a str,
    /// The role (`Administrator`, `Consumer`, or one created later).
    pub role: &'a str,
    /// Scopes beyond the role's; each must exist.
    pub scopes: &'a [String],
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 8;

/// Why an account or app was not created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The password is too short.
    #[error("the password must have at least {MIN_PASSWORD} characters")]
    WeakPassword,
    /// The store refused (a taken name, an unknown role or scope).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates an active user with its scopes; answers the user's id.
pub async fn add_user(store: &Store, account: &Account<'_>) -> Result<i64, AccountError> {
    if account.password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::WeakPassword);
    }
    let hash = password::hash(account.password);
    let id = store
        .create_user(&NewUser {
            name: account.name,
            email: account.email,
            status: Status::Active,
            password_hash: Some(&hash),
            role: account.role,
            scopes: account.scopes,
        })
        .await?;
    Ok(id)
}

/// A new app of an existing user.
#[derive(Debug, Clone)]
pub struct AppRequest<'a> {
    /// The owner's login name.
    pub owner: &'a str,
    /// Unique display name.
    pub name: &'a str,
    /// Scopes the app may ask for; each must exist.
    pub scopes: &'a [String],
    /// Where the authorization endpoint may send codes.
    pub redirect_uris: &'a [String],
    /// A public client (no secret): for apps that cannot keep one.
    pub public: bool,
}

/// A created app's credentials; the secret is shown now and never again.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The app's store id.
    pub id: i64,
    /// The client id.
    pub client_id: String,
    /// The client secret; `None` for a public client.
    pub client_secret: Option<String>,
}

/// Creates an app for `request.owner`.
pub async fn add_app(store: &Store, request: &AppRequest<'_>) -> Result<Credentials, AccountError> {
    let owner = store
        .user_by_name(request.owner)
        .await?
        .ok_or_else(|| StoreError::Missing(format!("user `{}`", request.owner)))?;
    let client_id = uuid::Uuid::new_v4().to_string();
    let client_secret = (!request.public).then(secret::generate);
    let id = store
        .create_app(&NewApp {
            user_id: owner.id,
            name: request.name,
            client_id: &client_id,
            secret_hash: client_secret.as_deref().map(secret::hash).as_deref(),
            redirect_uris: request.redirect_uris,
            scopes: request.scopes,
        })
        .await?;
    Ok(Credentials {
        id,
        client_id,
        client_secret,
    })
}
