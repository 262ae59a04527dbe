//! First start: the roles, the `admin` user and the backend app, so that a
//! fresh Fusio can be logged into at once.

use super::{password, secret};
use crate::store::identity::{NewApp, NewUser, Status};
use crate::store::{Store, StoreError};

/// The client id of the developer portal: a public client through which
/// consumers log in.
pub const PORTAL_CLIENT_ID: &str = "developer";
/// The role of administrators: every system scope.
pub const ADMINISTRATOR: &str = "Administrator";
/// The role of developers registered through the portal.
pub const CONSUMER: &str = "Consumer";
/// The client id of the backend app that the web app and the CLI use. It is
/// a public client: it cannot keep a secret, so it gets no
/// `client_credentials` and its users log in with their own password.
pub const BACKEND_CLIENT_ID: &str = "fusio";

/// Creates the system scopes and the two built-in roles unless they exist.
pub async fn ensure_roles(store: &Store) -> Result<(), StoreError> {
    store.ensure_scopes(super::scopes::SYSTEM, true).await?;
    store
        .ensure_role(ADMINISTRATOR, &["backend", "consumer", "authorization"])
        .await?;
    store
        .ensure_role(CONSUMER, &["consumer", "authorization"])
        .await
}

/// What a first start created; the password is shown once, when generated.
#[derive(Debug)]
pub struct Bootstrap {
    /// The generated admin password, when none was given.
    pub generated_password: Option<String>,
}

/// Creates the roles every start and, when the store has no user yet, the
/// `admin` user (with `admin_password`, or a generated one) and the backend
/// app. Returns `None` when users existed already.
pub async fn bootstrap(
    store: &Store,
    admin_password: Option<&str>,
) -> Result<Option<Bootstrap>, StoreError> {
    ensure_roles(store).await?;
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let generated = admin_password.is_none().then(secret::generate);
    let password = admin_password.or(generated.as_deref()).unwrap_or_default();
    let hash = password::hash(password);
    let admin = match store
        .create_user(&NewUser {
            name: "admin",
            email: None,
            status: Status::Active,
            password_hash: Some(&hash),
            role: ADMINISTRATOR,
            scopes: &[],
        })
        .await
    {
        Ok(id) => id,
        // Another node starting at the same moment created it.
        Err(StoreError::Conflict(_)) => return Ok(None),
        Err(err) => return Err(err),
    };
    store
        .create_app(&NewApp {
            user_id: admin,
            name: "Developer portal",
            client_id: PORTAL_CLIENT_ID,
            secret_hash: None,
            redirect_uris: &[],
            scopes: &["consumer".into(), "authorization".into()],
        })
        .await?;
    store
        .create_app(&NewApp {
            user_id: admin,
            name: "Fusio backend",
            client_id: BACKEND_CLIENT_ID,
            secret_hash: None,
            redirect_uris: &[],
            scopes: &["backend".into(), "consumer".into(), "authorization".into()],
        })
        .await?;
    Ok(Some(Bootstrap {
        generated_password: generated,
    }))
}
