//! Users, roles, scopes, apps, tokens and signing keys. Secrets never reach
//! this module in clear: callers pass hashes (see `auth::secret`,
//! `auth::password`).

mod roles;
mod scopes;
pub use roles::{Role, RoleChanges};

use super::revision::{Expected, Revised, bump};
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
    /// How many user accounts exist: 0 means a first start.
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM fusio_user")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Creates a user with their own scopes, all or nothing; fails with
    /// [`StoreError::Conflict`] when the name or email is taken and
    /// [`StoreError::Missing`] for an unknown role or scope.
    pub async fn create_user(&self, user: &NewUser<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now();
        let row = sqlx::query(
            "INSERT INTO fusio_user (role_id, status, name, email, password_hash, created_at, updated_at) \
             SELECT id, $1, $2, $3, $4, $5, $5 FROM fusio_role WHERE name = $6 RETURNING id",
        )
        .bind(user.status.as_str())
        .bind(user.name)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(&now)
        .bind(user.role)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| conflict_or(err, || format!("a user named `{}` or with that email", user.name)))?;
        let id: i64 = row
            .map(|row| row.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::Missing(format!("role `{}`", user.role)))?;
        grant_user_scopes_in(&mut tx, id, user.scopes).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The user called `name`.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// The user with store id `id`.
    pub async fn user_by_id(&self, id: i64) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// The scopes a user holds: the role's plus the user's own, sorted.
    pub async fn user_scopes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_role_scope rs ON rs.scope_id = s.id \
             JOIN fusio_user u ON u.role_id = rs.role_id WHERE u.id = $1 \
             UNION SELECT s.name FROM fusio_scope s JOIN fusio_user_scope us ON us.scope_id = s.id \
             WHERE us.user_id = $1 ORDER BY 1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }

    /// Creates an app with its scopes; fails with [`StoreError::Conflict`]
    /// when the name or client id is taken.
    pub async fn create_app(&self, app: &NewApp<'_>) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = now();
        let redirect_uris = serde_json::to_string(app.redirect_uris)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let app_id: i64 = sqlx::query(
            "INSERT INTO fusio_app (user_id, status, name, client_id, secret_hash, redirect_uris, created_at, updated_at) \
             VALUES ($1, 'active', $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(app.user_id)
        .bind(app.name)
        .bind(app.client_id)
        .bind(app.secret_hash)
        .bind(redirect_uris)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| conflict_or(err, || format!("an app named `{}` or with that client id", app.name)))?
        .try_get(0)?;
        for scope in app.scopes {
            let scope_id = scope_id(&mut tx, scope).await?;
            sqlx::query("INSERT INTO fusio_app_scope (app_id, scope_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(app_id)
                .bind(scope_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(app_id)
    }

    /// The app whose client id is `client_id`, with its scopes.
    pub async fn app_by_client_id(&self, client_id: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("client_id = $1"))
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    /// The app called `name`, with its scopes.
    pub async fn app_by_name(&self, name: &str) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("name = $1"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    /// The app with store id `id`, with its scopes.
    pub async fn app_by_id(&self, id: i64) -> Result<Option<App>, StoreError> {
        let row = sqlx::query(app_select!("id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        self.app_from(row).await
    }

    async fn apps_from(&self, rows: Vec<AnyRow>) -> Result<Vec<App>, StoreError> {
        let mut apps = Vec::with_capacity(rows.len());
        for row in rows {
            apps.extend(self.app_from(Some(row)).await?);
        }
        Ok(apps)
    }

    async fn app_from(&self, row: Option<AnyRow>) -> Result<Option<App>, StoreError> {
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let redirect_uris: String = row.try_get(6)?;
        let scopes = sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_app_scope a ON a.scope_id = s.id \
             WHERE a.app_id = $1 ORDER BY s.name",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
        Ok(Some(App {
            id,
            user_id: row.try_get(1)?,
            status: Status::parse(&row.try_get::<String, _>(2)?)?,
            name: row.try_get(3)?,
            client_id: row.try_get(4)?,
            secret_hash: row.try_get(5)?,
            redirect_uris: serde_json::from_str(&redirect_uris)
                .map_err(|e| StoreError::Corrupt(format!("redirect uris: {e}")))?,
            scopes,
            revision: row.try_get(7)?,
        }))
    }

    /// Records an issued token.
    pub async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO fusio_token (",
            token_columns!(),
            ", created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&token.jti)
        .bind(&token.family)
        .bind(token.app_id)
        .bind(token.user_id)
        .bind(&token.scope)
        .bind(token.expires_at)
        .bind(&token.refresh_hash)
        .bind(token.refresh_expires_at)
        .bind(i64::from(token.refresh_used))
        .bind(i64::from(token.revoked))
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The token with JWT id `jti`.
    pub async fn token_by_jti(&self, jti: &str) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE jti = $1"
        ))
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(token_from)
        .transpose()
    }

    /// The token whose refresh token hashes to `refresh_hash`.
    pub async fn token_by_refresh(
        &self,
        refresh_hash: &str,
    ) -> Result<Option<TokenRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE refresh_hash = $1"
        ))
        .bind(refresh_hash)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(token_from)
        .transpose()
    }

    /// Marks the refresh token of `jti` used; false when it already was, so
    /// that two concurrent exchanges cannot both succeed.
    pub async fn use_refresh(&self, jti: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE fusio_token SET refresh_used = 1 WHERE jti = $1 AND refresh_used = 0 AND revoked = 0",
        )
        .bind(jti)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Revokes the token `jti`.
    pub async fn revoke_token(&self, jti: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE jti = $1")
            .bind(jti)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes every token of a rotation family: used when a refresh token
    /// is revoked or replayed.
    pub async fn revoke_family(&self, family: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE family = $1")
            .bind(family)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records an authorization code by its hash.
    pub async fn insert_code(&self, code_hash: &str, code: &CodeRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_app_code (code_hash, app_id, user_id, redirect_uri, scope, code_challenge, \
             expires_at, used, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
        )
        .bind(code_hash)
        .bind(code.app_id)
        .bind(code.user_id)
        .bind(&code.redirect_uri)
        .bind(&code.scope)
        .bind(&code.code_challenge)
        .bind(code.expires_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The code whose hash is `code_hash`, marked used in the same step.
    /// A code that was used before comes back with `used` set: the caller
    /// must refuse it (and revoke what it issued).
    pub async fn take_code(&self, code_hash: &str) -> Result<Option<CodeRecord>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, app_id, user_id, redirect_uri, scope, code_challenge, expires_at, used \
             FROM fusio_app_code WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let claimed = sqlx::query("UPDATE fusio_app_code SET used = 1 WHERE id = $1 AND used = 0")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(Some(CodeRecord {
            id,
            app_id: row.try_get(1)?,
            user_id: row.try_get(2)?,
            redirect_uri: row.try_get(3)?,
            scope: row.try_get(4)?,
            code_challenge: row.try_get(5)?,
            expires_at: row.try_get(6)?,
            used: !claimed,
        }))
    }

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

    /// A page of users whose name contains the search; and how many match.
    pub async fn list_users(&self, page: Page<'_>) -> Result<(i64, Vec<User>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_user WHERE name LIKE $1 ESCAPE '\\'",
                user_select!("u.name LIKE $1 ESCAPE '\\' ORDER BY u.id LIMIT $2 OFFSET $3"),
                page,
            )
            .await?;
        Ok((total, rows.iter().map(user_from).collect::<Result<_, _>>()?))
    }

    /// A page of apps whose name contains the search; and how many match.
    pub async fn list_apps(&self, page: Page<'_>) -> Result<(i64, Vec<App>), StoreError> {
        let (total, rows) = self
            .search_page(
                "SELECT COUNT(*) FROM fusio_app WHERE name LIKE $1 ESCAPE '\\'",
                app_select!("name LIKE $1 ESCAPE '\\' ORDER BY id LIMIT $2 OFFSET $3"),
                page,
            )
            .await?;
        Ok((total, self.apps_from(rows).await?))
    }

    /// A page of tokens, newest first, all or only `app`'s; and how many
    /// there are.
    pub async fn list_tokens(
        &self,
        page: Page<'_>,
        app: Option<i64>,
    ) -> Result<(i64, Vec<TokenRecord>), StoreError> {
        // `$1` is -1 for every app: ids start at 1.
        let app = app.unwrap_or(-1);
        let total: i64 =
            sqlx::query("SELECT COUNT(*) FROM fusio_token WHERE $1 = -1 OR app_id = $1")
                .bind(app)
                .fetch_one(&self.pool)
                .await?
                .try_get(0)?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM fusio_token WHERE $1 = -1 OR app_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(app)
        .bind(page.count)
        .bind(page.start)
        .fetch_all(&self.pool)
        .await?;
        Ok((
            total,
            rows.iter().map(token_from).collect::<Result<_, _>>()?,
        ))
    }

    /// Records a one-use token mailed to a user (`purpose`: `activate` or
    /// `password_reset`), by its hash.
    pub async fn insert_user_token(
        &self,
        user_id: i64,
        purpose: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_user_token (user_id, purpose, token_hash, expires_at, used, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5)",
        )
        .bind(user_id)
        .bind(purpose)
        .bind(token_hash)
        .bind(expires_at)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses up the unexpired, unused token with this hash and purpose, in
    /// one step; answers its user.
    pub async fn take_user_token(
        &self,
        purpose: &str,
        token_hash: &str,
        now_unix: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin_write().await?;
        let Some(row) = sqlx::query(
            "SELECT id, user_id FROM fusio_user_token \
             WHERE token_hash = $1 AND purpose = $2 AND used = 0 AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose)
        .bind(now_unix)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let id: i64 = row.try_get(0)?;
        let claimed =
            sqlx::query("UPDATE fusio_user_token SET used = 1 WHERE id = $1 AND used = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        tx.commit().await?;
        if claimed {
            Ok(Some(row.try_get(1)?))
        } else {
            Ok(None)
        }
    }

    /// Deletes a user with everything they own (apps, tokens, codes).
    pub async fn delete_user(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_user WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user with this email address.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!("u.email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(user_from)
            .transpose()
    }

    /// Replaces a user's password hash and revokes every token they hold:
    /// whoever knew the old password loses access.
    pub async fn set_user_password(
        &self,
        user_id: i64,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE fusio_user SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's email address; [`StoreError::Conflict`] when another
    /// account has it.
    pub async fn set_user_email(&self, user_id: i64, email: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_user SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email)
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(|err| conflict_or(err, || "an account with that email".to_owned()))?;
        Ok(())
    }

    /// Applies `changes` to an app, all or nothing, and answers its new
    /// revision. Switching the app off or changing its scopes revokes its
    /// tokens in the same transaction (they were issued under the old
    /// terms); the caller must forget cached token checks.
    pub async fn update_app(
        &self,
        app_id: i64,
        changes: &AppChanges<'_>,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::App, app_id, expected).await?;
        let now = now();
        if let Some(name) = changes.name {
            sqlx::query("UPDATE fusio_app SET name = $1 WHERE id = $2")
                .bind(name)
                .bind(app_id)
                .execute(&mut *tx)
                .await
                .map_err(|err| conflict_or(err, || format!("an app named `{name}`")))?;
        }
        if let Some(status) = changes.status {
            sqlx::query("UPDATE fusio_app SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(uris) = changes.redirect_uris {
            let uris =
                serde_json::to_string(uris).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE fusio_app SET redirect_uris = $1 WHERE id = $2")
                .bind(uris)
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(scopes) = changes.scopes {
            sqlx::query("DELETE FROM fusio_app_scope WHERE app_id = $1")
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
            for scope in scopes {
                let scope_id = scope_id(&mut tx, scope).await?;
                sqlx::query("INSERT INTO fusio_app_scope (app_id, scope_id) VALUES ($1, $2)")
                    .bind(app_id)
                    .bind(scope_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if changes.status.is_some_and(|s| s != Status::Active) || changes.scopes.is_some() {
            sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE app_id = $1 AND revoked = 0")
                .bind(app_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE fusio_app SET updated_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(app_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Applies `changes` to a user, all or nothing, and answers their new
    /// revision. Switching the account off or changing its role or scopes
    /// revokes its tokens in the same transaction; the caller must forget
    /// cached token checks.
    pub async fn update_user(
        &self,
        user_id: i64,
        changes: &UserChanges<'_>,
        expected: &Expected,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let revision = bump(&mut tx, Revised::User, user_id, expected).await?;
        if let Some(status) = changes.status {
            sqlx::query("UPDATE fusio_user SET status = $1 WHERE id = $2")
                .bind(status.as_str())
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        if let Some(role) = changes.role {
            let moved = sqlx::query(
                "UPDATE fusio_user SET role_id = (SELECT id FROM fusio_role WHERE name = $1) \
                 WHERE id = $2 AND EXISTS (SELECT 1 FROM fusio_role WHERE name = $1)",
            )
            .bind(role)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() == 0 {
                return Err(StoreError::Missing(format!("role `{role}`")));
            }
        }
        if let Some(scopes) = changes.scopes {
            sqlx::query("DELETE FROM fusio_user_scope WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            grant_user_scopes_in(&mut tx, user_id, scopes).await?;
        }
        let restricted = changes.status.is_some_and(|s| s != Status::Active)
            || changes.role.is_some()
            || changes.scopes.is_some();
        if restricted {
            sqlx::query("UPDATE fusio_token SET revoked = 1 WHERE user_id = $1 AND revoked = 0")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE fusio_user SET updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// The scopes a user holds beyond their role's, sorted.
    pub async fn own_scopes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT s.name FROM fusio_scope s JOIN fusio_user_scope us ON us.scope_id = s.id \
             WHERE us.user_id = $1 ORDER BY s.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok(row.try_get(0)?))
        .collect()
    }

    /// Deletes an app; its tokens and codes go with it.
    pub async fn delete_app(&self, app_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM fusio_app WHERE id = $1")
            .bind(app_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Replaces an app's secret hash.
    pub async fn set_app_secret(&self, app_id: i64, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_app SET secret_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(secret_hash)
            .bind(now())
            .bind(app_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The apps of other users that hold live tokens for `user_id`: the
    /// apps the user has authorized.
    pub async fn grants_of(&self, user_id: i64) -> Result<Vec<App>, StoreError> {
        let rows = sqlx::query(app_select!(
            "user_id <> $1 AND id IN (SELECT app_id FROM fusio_token WHERE user_id = $1 AND revoked = 0) ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        self.apps_from(rows).await
    }

    /// Revokes every token that `app_id` holds for `user_id`; answers how
    /// many there were.
    pub async fn revoke_grant(&self, user_id: i64, app_id: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE fusio_token SET revoked = 1 WHERE user_id = $1 AND app_id = $2 AND revoked = 0",
        )
        .bind(user_id)
        .bind(app_id)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// The user linked to `remote_id` at `provider`.
    pub async fn user_by_identity(
        &self,
        provider: &str,
        remote_id: &str,
    ) -> Result<Option<User>, StoreError> {
        sqlx::query(user_select!(
            "u.id = (SELECT user_id FROM fusio_user_identity WHERE provider = $1 AND remote_id = $2)"
        ))
        .bind(provider)
        .bind(remote_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
    }

    /// Links `remote_id` at `provider` to a user.
    pub async fn link_identity(
        &self,
        user_id: i64,
        provider: &str,
        remote_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_user_identity (user_id, provider, remote_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(user_id)
        .bind(provider)
        .bind(remote_id)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(|err| conflict_or(err, || format!("the {provider} account {remote_id}")))?;
        Ok(())
    }

    /// Sets a user's status.
    pub async fn set_user_status(&self, user_id: i64, status: Status) -> Result<(), StoreError> {
        sqlx::query("UPDATE fusio_user SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now())
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The apps a user owns, with their scopes.
    pub async fn apps_of(&self, user_id: i64) -> Result<Vec<App>, StoreError> {
        let rows = sqlx::query(app_select!("user_id = $1 ORDER BY id"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        self.apps_from(rows).await
    }

    /// Every key that may verify tokens, newest first, with its private
    /// key opened (it is stored sealed with the server's key, like
    /// connection settings); a store whose keys do not open with this
    /// server's key is [`StoreError::Sealed`].
    pub async fn signing_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, algorithm, private_key, public_key FROM fusio_signing_key \
             WHERE retired_at IS NULL ORDER BY created_at DESC, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let kid: String = row.try_get(0)?;
                let sealed: String = row.try_get(2)?;
                let private_key = String::from_utf8(self.cipher()?.open(&sealed).map_err(|e| {
                    StoreError::Sealed(format!("the signing key {kid} does not open: {e}"))
                })?)
                .map_err(|_| StoreError::Corrupt(format!("signing key {kid}")))?;
                Ok(SigningKey {
                    kid,
                    algorithm: row.try_get(1)?,
                    private_key,
                    public_key: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Stores a new signing key.
    pub async fn insert_signing_key(&self, key: &SigningKey) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO fusio_signing_key (kid, algorithm, private_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.algorithm)
        .bind(self.cipher()?.seal(key.private_key.as_bytes()))
        .bind(&key.public_key)
        .bind(now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

impl Store {
    /// Seals every private key an older Fusio stored in clear, each in its
    /// own statement guarded by its clear value, so nodes starting at
    /// once never seal a key twice.
    pub async fn seal_clear_signing_keys(&self) -> Result<(), StoreError> {
        let clear: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, private_key FROM fusio_signing_key")
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .filter(|(_, key): &(String, String)| !crate::secrets::Cipher::is_sealed(key))
                .collect();
        for (kid, key) in clear {
            sqlx::query(
                "UPDATE fusio_signing_key SET private_key = $1 WHERE kid = $2 AND private_key = $3",
            )
            .bind(self.cipher()?.seal(key.as_bytes()))
            .bind(&kid)
            .bind(&key)
            .execute(&self.pool)
            .await?;
            tracing::info!(kid, "sealed a signing key stored in clear");
        }
        Ok(())
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
