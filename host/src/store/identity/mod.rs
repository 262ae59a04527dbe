//! Users, roles, scopes, apps, tokens and signing keys. Secrets never reach
//! this module in clear: callers pass hashes (see `auth::secret`,
//! `auth::password`).

mod roles;
mod scopes;
pub use roles::{Role, RoleChanges};

use super::{Page, Store, StoreError, now};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

/// Whether an account or an app may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Usable.
    Active,
    /// Switched off by an administrator; its tokens stop working.
    Disabled,
    /// Registered but not activated yet.
    Pending,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
            Status::Pending => "pending",
        }
    }

    fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "active" => Ok(Status::Active),
            "disabled" => Ok(Status::Disabled),
            "pending" => Ok(Status::Pending),
            other => Err(StoreError::Corrupt(format!("status `{other}`"))),
        }
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Store id; the `sub` of the user's tokens.
    pub id: i64,
    /// Unique login name.
    pub name: String,
    /// Unique email address, when the account has one.
    pub email: Option<String>,
    /// Whether the account may log in.
    pub status: Status,
    /// The Argon2id PHC string; `None` for accounts that log in elsewhere.
    pub password_hash: Option<String>,
    /// The role's name.
    pub role: String,
    /// Bumped by every change (the entity tag).
    pub revision: i64,
}

/// What creating a user needs.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Unique login name.
    pub name: &'a str,
    /// Unique email address.
    pub email: Option<&'a str>,
    /// Initial status.
    pub status: Status,
    /// The Argon2id PHC string of the password.
    pub password_hash: Option<&'a str>,
    /// The name of an existing role.
    pub role: &'a str,
    /// Scopes beyond the role's; each must exist.
    pub scopes: &'a [String],
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges<'a> {
    /// A new status.
    pub status: Option<Status>,
    /// The name of another existing role.
    pub role: Option<&'a str>,
    /// The user's own scopes beyond the role's, replacing the old.
    pub scopes: Option<&'a [String]>,
}

/// Changes to an app; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AppChanges<'a> {
    /// A new display name.
    pub name: Option<&'a str>,
    /// A new status.
    pub status: Option<Status>,
    /// The new redirect URIs, replacing the old.
    pub redirect_uris: Option<&'a [String]>,
    /// The new scopes, replacing the old; each must exist.
    pub scopes: Option<&'a [String]>,
}

/// An OAuth2 client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    /// Store id.
    pub id: i64,
    /// The owning user.
    pub user_id: i64,
    /// Whether the app may get tokens.
    pub status: Status,
    /// Unique display name.
    pub name: String,
    /// The public client identifier.
    pub client_id: String,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    /// Where the authorization endpoint may send codes.
    pub redirect_uris: Vec<String>,
    /// The scopes the app may ask for.
    pub scopes: Vec<String>,
    /// Bumped by every change (the entity tag).
    pub revision: i64,
}

/// What creating an app needs.
#[derive(Debug, Clone)]
pub struct NewApp<'a> {
    /// The owning user.
    pub user_id: i64,
    /// Unique display name.
    pub name: &'a str,
    /// The public client identifier.
    pub client_id: &'a str,
    /// SHA-256 of the secret; `None` for a public client.
    pub secret_hash: Option<&'a str>,
    /// Allowed redirect URIs.
    pub redirect_uris: &'a [String],
    /// Scopes the app may ask for; each must exist.
    pub scopes: &'a [String],
}

/// One issued access token and its refresh token, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The JWT's `jti`.
    pub jti: String,
    /// Ties the rotations of one grant together.
    pub family: String,
    /// The client the token was issued to.
    pub app_id: i64,
    /// The resource owner.
    pub user_id: Option<i64>,
    /// Space-separated scopes.
    pub scope: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// SHA-256 of the refresh token, when one was issued.
    pub refresh_hash: Option<String>,
    /// Unix seconds.
    pub refresh_expires_at: Option<i64>,
    /// Whether the refresh token was exchanged already.
    pub refresh_used: bool,
    /// Whether the token was revoked.
    pub revoked: bool,
}

/// An authorization code as recorded (RFC 6749 4.1, RFC 7636).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    /// Store id; tokens issued for the code share the family `code:<id>`.
    pub id: i64,
    /// The client the code was issued to.
    pub app_id: i64,
    /// The user who consented.
    pub user_id: i64,
    /// The redirect URI the code was sent to; the token request must repeat it.
    pub redirect_uri: String,
    /// Space-separated scopes consented to.
    pub scope: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Whether the code was exchanged already.
    pub used: bool,
}

/// A scope as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Store id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// What it grants.
    pub description: String,
    /// Whether it guards the system API.
    pub system: bool,
    /// Bumped by every change (the entity tag).
    pub revision: i64,
}

/// A key that signs access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The JWS `kid`.
    pub kid: String,
    /// The JWS `alg`.
    pub algorithm: String,
    /// The private key, base64 (the algorithm says what the bytes are).
    pub private_key: String,
    /// The public key, base64url (the JWK `x` for EdDSA).
    pub public_key: String,
}

/// The user columns `user_from` reads, as a literal for `concat!`.
macro_rules! user_select {
    ($condition:literal) => {
        concat!(
            "SELECT u.id, u.name, u.email, u.status, u.password_hash, r.name, u.revision ",
            "FROM fusio_user u JOIN fusio_role r ON r.id = u.role_id WHERE ",
            $condition
        )
    };
}

/// The token columns `token_from` reads, as a literal for `concat!`.
macro_rules! token_columns {
    () => {
        "jti, family, app_id, user_id, scope, expires_at, refresh_hash, refresh_expires_at, refresh_used, revoked"
    };
}

/// The app columns `app_from` reads, as a literal for `concat!`.
macro_rules! app_select {
    ($condition:literal) => {
        concat!(
            "SELECT id, user_id, status, name, client_id, secret_hash, redirect_uris, revision FROM fusio_app WHERE ",
            $condition
        )
    };
}

fn user_from(row: &AnyRow) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        status: Status::parse(&row.try_get::<String, _>(3)?)?,
        password_hash: row.try_get(4)?,
        role: row.try_get(5)?,
        revision: row.try_get(6)?,
    })
}

fn token_from(row: &AnyRow) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        jti: row.try_get(0)?,
        family: row.try_get(1)?,
        app_id: row.try_get(2)?,
        user_id: row.try_get(3)?,
        scope: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        refresh_hash: row.try_get(6)?,
        refresh_expires_at: row.try_get(7)?,
        refresh_used: row.try_get::<i64, _>(8)? != 0,
        revoked: row.try_get::<i64, _>(9)? != 0,
    })
}

async fn scope_id(tx: &mut Transaction<'_, Any>, name: &str) -> Result<i64, StoreError> {
    sqlx::query("SELECT id FROM fusio_scope WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?
        .ok_or_else(|| StoreError::Missing(format!("scope `{name}`")))
}

async fn grant_user_scopes_in(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    scopes: &[String],
) -> Result<(), StoreError> {
    for scope in scopes {
        let scope_id = scope_id(tx, scope).await?;
        sqlx::query("INSERT INTO fusio_user_scope (user_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(user_id)
            .bind(scope_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Adds the scope `name` unless it exists; returns its id.
pub(super) async fn ensure_scope_in(
    tx: &mut Transaction<'_, Any>,
    name: &str,
    description: &str,
    system: bool,
) -> Result<i64, StoreError> {
    sqlx::query(
        "INSERT INTO fusio_scope (name, description, system, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(description)
    .bind(i64::from(system))
    .bind(now())
    .execute(&mut **tx)
    .await?;
    scope_id(tx, name).await
}

impl Store {
    /// One page of a search: `count` counts the matches, `rows` selects
    /// them; both take the `LIKE` pattern as `$1`, `rows` the page as `$2`
    /// (how many) and `$3` (how many to skip).
    pub(crate) async fn search_page(
        &self,
        count: &'static str,
        rows: &'static str,
        page: Page<'_>,
    ) -> Result<(i64, Vec<AnyRow>), StoreError> {
        let pattern = page.pattern();
        let total: i64 = sqlx::query(count)
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        let rows = sqlx::query(rows)
            .bind(&pattern)
            .bind(page.count)
            .bind(page.start)
            .fetch_all(&self.pool)
            .await?;
        Ok((total, rows))
    }
}

/// A unique-constraint violation becomes [`StoreError::Conflict`] naming
/// what already exists; anything else stays a query error.
fn conflict_or(err: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what()),
        _ => StoreError::Query(err),
    }
}

// Declared after the column macros above, which they use.
mod apps;
mod keys;
mod tokens;
pub use tokens::TokenHolder;
mod users;
