//! Identity: the OAuth2 authorization server (`/authorization`), access
//! tokens as EdDSA-signed JWTs, and the check every protected route makes.
//!
//! Secrets are hashed before they reach the store (`secret`, `password`);
//! tokens are recorded so that a revoked one is refused at once.

pub mod accounts;
mod authorize;
pub mod bootstrap;
pub mod endpoints;
mod form;
mod grant;
pub mod jwt;
pub mod keys;
mod oauth_error;
pub mod password;
pub mod scopes;
pub mod secret;
pub mod social;
pub mod throttle;

pub use bootstrap::{Bootstrap, bootstrap, ensure_roles};
pub use jwt::{Claims, InvalidToken, Jwt};

use crate::store::{Store, StoreError};
use http::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

/// How tokens are issued; comes from `fusio serve`'s options.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `iss` and `aud` of every token: the server's public URL.
    pub issuer: String,
    /// How long an access token is valid.
    pub access_lifetime: Duration,
    /// How long a refresh token is valid.
    pub refresh_lifetime: Duration,
}

impl AuthSettings {
    /// One-hour access tokens and 30-day refresh tokens for `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            access_lifetime: Duration::from_secs(3600),
            refresh_lifetime: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Why identity could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored signing keys are unusable.
    #[error("signing keys: {0}")]
    Keys(String),
}

/// The authorization server and token checker. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    inner: Arc<AuthInner>,
}

struct AuthInner {
    store: Store,
    jwt: Jwt,
    settings: AuthSettings,
    /// Tokens checked recently (signature, claims, not revoked), so that a
    /// protected route does not verify a signature and ask the store on
    /// every request. Every revocation on this node empties it; entries
    /// live at most [`VERIFIED_TTL`], which bounds how long a revocation on
    /// another node goes unseen here.
    verified: moka::sync::Cache<String, Caller>,
    /// Failed logins by account and client address.
    throttle: throttle::Throttle,
}

/// How long a checked token is trusted without checking again.
pub const VERIFIED_TTL: Duration = Duration::from_secs(10);

/// Who presented a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's verified claims.
    pub claims: Arc<Claims>,
    /// The names of the app and user it was issued to.
    pub holder: Arc<crate::store::identity::TokenHolder>,
}

impl Caller {
    /// The scopes the token holds.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claims.scopes()
    }
}

/// Why a request to a protected resource carries no usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    /// No `Authorization: Bearer` header.
    #[error("the request carries no bearer token")]
    Missing,
    /// A token that is not valid.
    #[error(transparent)]
    Invalid(#[from] InvalidToken),
}

impl Auth {
    /// Loads (or creates) the signing keys.
    pub async fn new(store: Store, settings: AuthSettings) -> Result<Self, AuthError> {
        let keys = keys::Keys::load_or_create(&store).await?;
        let jwt = Jwt::new(keys, settings.issuer.clone());
        Ok(Self {
            inner: Arc::new(AuthInner {
                throttle: throttle::Throttle::new(store.clone()),
                store,
                jwt,
                settings,
                verified: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(VERIFIED_TTL)
                    .build(),
            }),
        })
    }

    /// The signer/verifier of access tokens.
    pub fn jwt(&self) -> &Jwt {
        &self.inner.jwt
    }

    /// How tokens are issued.
    pub fn settings(&self) -> &AuthSettings {
        &self.inner.settings
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Checks the request's bearer token: signature, claims, and that it is
    /// recorded and not revoked.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, Unauthenticated> {
        let token = bearer(headers).ok_or(Unauthenticated::Missing)?;
        if let Some(caller) = self.inner.verified.get(token) {
            if caller.claims.exp > unix_now() {
                return Ok(caller);
            }
            self.inner.verified.invalidate(token);
            return Err(InvalidToken::Expired.into());
        }
        let claims = self.jwt().verify(token)?;
        match self.store().token_holder(&claims.jti).await {
            Ok(Some(holder)) if !holder.revoked => {
                let caller = Caller {
                    claims: Arc::new(claims),
                    holder: Arc::new(holder),
                };
                self.inner.verified.insert(token.to_owned(), caller.clone());
                Ok(caller)
            }
            Ok(_) => Err(InvalidToken::Revoked.into()),
            Err(err) => {
                tracing::error!(error = %err, "cannot check a token's revocation");
                Err(InvalidToken::Revoked.into())
            }
        }
    }
}

/// The outcome of checking a user's password.
#[derive(Debug)]
pub enum Login {
    /// The password is right and the account active.
    Active(crate::store::identity::User),
    /// No such user, no password, or a wrong one (not told apart).
    Wrong,
    /// The password is right but the account is disabled or pending.
    Inactive,
    /// Too many failures for the account or the address: not even checked.
    Throttled(throttle::Throttled),
}

impl Auth {
    /// Checks `given` against the password of the user `name`, unless the
    /// account or `address` is throttled. An unknown name costs as long as a
    /// wrong password, so timing tells nothing.
    pub async fn login(
        &self,
        name: &str,
        given: &str,
        address: Option<std::net::IpAddr>,
    ) -> Result<Login, StoreError> {
        let throttle = &self.inner.throttle;
        if let Err(throttled) = throttle.check(name, address).await? {
            return Ok(Login::Throttled(throttled));
        }
        let user = self.store().user_by_name(name).await?;
        let stored = user
            .as_ref()
            .and_then(|u| u.password_hash.as_deref())
            .unwrap_or(password::decoy());
        let verified = password::verify(given, stored);
        Ok(match user {
            Some(user) if verified && user.password_hash.is_some() => {
                throttle.succeeded(name, address).await?;
                if user.status == crate::store::identity::Status::Active {
                    Login::Active(user)
                } else {
                    Login::Inactive
                }
            }
            _ => {
                throttle.failed(name, address).await?;
                Login::Wrong
            }
        })
    }
}

impl Auth {
    /// Revokes one access token, here at once.
    pub async fn revoke_token(&self, jti: &str) -> Result<(), StoreError> {
        self.store().revoke_token(jti).await?;
        self.forget_everywhere().await;
        Ok(())
    }

    /// Sets a new password; every token of the user is revoked, here at once.
    pub async fn reset_password(&self, user_id: i64, password: &str) -> Result<(), StoreError> {
        self.store()
            .set_user_password(user_id, &password::hash(password))
            .await?;
        self.forget_everywhere().await;
        Ok(())
    }

    /// Changes a user; switching them off or changing their role or scopes
    /// revokes their tokens, here at once. Answers the new revision.
    pub async fn update_user(
        &self,
        user_id: i64,
        changes: &crate::store::identity::UserChanges<'_>,
        expected: &crate::store::revision::Expected,
    ) -> Result<i64, StoreError> {
        let revision = self.store().update_user(user_id, changes, expected).await?;
        self.forget_everywhere().await;
        Ok(revision)
    }

    /// Deletes a user with their apps and tokens, here at once.
    pub async fn delete_user(&self, user_id: i64) -> Result<(), StoreError> {
        self.store().delete_user(user_id).await?;
        self.forget_everywhere().await;
        Ok(())
    }

    /// Forgets every checked token on this node, so that the next request
    /// of each is checked again (another node revoked something).
    pub fn forget_verified(&self) {
        self.inner.verified.invalidate_all();
    }

    /// Forgets every checked token here and tells the other nodes (on
    /// PostgreSQL) to forget theirs: after anything that revokes tokens or
    /// takes grants away, so a revocation is seen everywhere at once rather
    /// than when the cache entries expire.
    pub async fn forget_everywhere(&self) {
        self.inner.verified.invalidate_all();
        if let Err(err) = self.store().announce_revocation().await {
            tracing::warn!(error = %err, "cannot tell the other nodes about a revocation; they see it within the token cache's lifetime");
        }
    }

    /// Revokes every token `app_id` holds for `user_id`, here at once.
    pub async fn revoke_grant(&self, user_id: i64, app_id: i64) -> Result<u64, StoreError> {
        let revoked = self.store().revoke_grant(user_id, app_id).await?;
        self.forget_everywhere().await;
        Ok(revoked)
    }

    /// Changes an app. Switching it off or changing its scopes revokes the
    /// tokens it holds (they were issued under the old terms), here at once.
    /// Answers the new revision.
    pub async fn update_app(
        &self,
        app_id: i64,
        changes: &crate::store::identity::AppChanges<'_>,
        expected: &crate::store::revision::Expected,
    ) -> Result<i64, StoreError> {
        let revision = self.store().update_app(app_id, changes, expected).await?;
        self.forget_everywhere().await;
        Ok(revision)
    }

    /// Changes a role; taking a scope away revokes its users' tokens, here
    /// at once. Answers the new revision.
    pub async fn update_role(
        &self,
        role_id: i64,
        changes: &crate::store::identity::RoleChanges<'_>,
        expected: &crate::store::revision::Expected,
    ) -> Result<i64, StoreError> {
        let revision = self.store().update_role(role_id, changes, expected).await?;
        self.forget_everywhere().await;
        Ok(revision)
    }

    /// Deletes an app and with it every token it holds, here at once.
    pub async fn delete_app(&self, app_id: i64) -> Result<(), StoreError> {
        self.store().delete_app(app_id).await?;
        self.forget_everywhere().await;
        Ok(())
    }

    /// Revokes every token of a grant, here at once.
    pub async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        self.store().revoke_family(family).await?;
        self.forget_everywhere().await;
        Ok(())
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
