//! The token endpoint's logic (RFC 6749 section 4 and 6): parsing the form,
//! authenticating the client, and the grant types. HTTP framing lives in
//! `endpoints`; errors are RFC 6749's `{error, error_description}`.

pub use super::form::Form;
use super::form::truncate;
use super::jwt::Claims;
pub use super::oauth_error::{OAuthError, answer, no_store};
use super::{Auth, scopes, secret, unix_now};
use crate::store::identity::{App, Status, TokenRecord};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, header};
use std::collections::HashMap;

/// A successful token response (RFC 6749 5.1).
#[derive(Debug, serde::Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
}

/// Client credentials as presented: HTTP Basic or form parameters.
struct Presented {
    client_id: String,
    secret: Option<String>,
    basic: bool,
}

fn presented(headers: &HeaderMap, form: &Form) -> Result<Presented, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"));
    match (basic, form.get("client_id"), form.get("client_secret")) {
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method, not HTTP Basic and client_secret".into(),
        )),
        (Some((_, encoded)), body_id, None) => {
            let invalid = || OAuthError::InvalidClient {
                reason: "the Basic credentials are malformed".into(),
                basic: true,
            };
            let decoded = STANDARD.decode(encoded.trim()).map_err(|_| invalid())?;
            let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
            let (id, secret) = decoded.split_once(':').ok_or_else(invalid)?;
            // RFC 6749 2.3.1: both parts are form-urlencoded.
            let id = urlencoding_decode(id);
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the Basic credentials".into(),
                ));
            }
            Ok(Presented {
                client_id: id,
                secret: Some(urlencoding_decode(secret)),
                basic: true,
            })
        }
        (None, Some(id), secret) => Ok(Presented {
            client_id: id.to_owned(),
            secret: secret.map(str::to_owned),
            basic: false,
        }),
        (None, None, _) => Err(OAuthError::InvalidClient {
            reason: "the client did not identify itself".into(),
            basic: false,
        }),
    }
}

fn urlencoding_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

impl Auth {
    /// Authenticates the client of an OAuth2 request: a confidential client
    /// must present its secret, a public one only its id.
    pub(super) async fn client(&self, headers: &HeaderMap, form: &Form) -> Result<App, OAuthError> {
        let presented = presented(headers, form)?;
        let invalid = |reason: &str| OAuthError::InvalidClient {
            reason: reason.into(),
            basic: presented.basic,
        };
        let app = self.store().app_by_client_id(&presented.client_id).await?;
        let Some(app) = app else {
            return Err(invalid(
                "the client is unknown or its credentials are wrong",
            ));
        };
        match (&app.secret_hash, &presented.secret) {
            (Some(stored), Some(given)) if secret::matches(given, stored) => {}
            (None, None) => {}
            (None, Some(_)) => return Err(invalid("a public client has no secret")),
            _ => {
                return Err(invalid(
                    "the client is unknown or its credentials are wrong",
                ));
            }
        }
        if app.status != Status::Active {
            return Err(invalid("the client is not active"));
        }
        Ok(app)
    }

    /// `POST /authorization/token`: runs the grant the form names.
    pub(super) async fn token(
        &self,
        headers: &HeaderMap,
        form: &Form,
        address: Option<std::net::IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let grant_type = form.require("grant_type")?;
        let app = self.client(headers, form).await?;
        match grant_type {
            "client_credentials" => self.client_credentials(&app, form).await,
            "password" => self.password(&app, form, address).await,
            "refresh_token" => self.refresh(&app, form).await,
            "authorization_code" => self.authorization_code(&app, form).await,
            other => Err(OAuthError::UnsupportedGrantType(format!(
                "grant type `{}` is not supported",
                truncate(other)
            ))),
        }
    }

    async fn client_credentials(
        &self,
        app: &App,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        if app.secret_hash.is_none() {
            return Err(OAuthError::UnauthorizedClient(
                "a public client cannot use client_credentials".into(),
            ));
        }
        // The app acts as its owner, within the owner's scopes.
        let owner = self.active_user(app.user_id).await?;
        let scope = self.scope_for(app, owner, form.get("scope")).await?;
        self.issue(app, owner, scope, None, Holder::App).await
    }

    async fn password(
        &self,
        app: &App,
        form: &Form,
        address: Option<std::net::IpAddr>,
    ) -> Result<TokenResponse, OAuthError> {
        let name = form.require("username")?;
        let given = form.require("password")?;
        let user = match self.login(name, given, address).await? {
            super::Login::Active(user) => user,
            super::Login::Wrong => {
                return Err(OAuthError::InvalidGrant(
                    "the username or password is wrong".into(),
                ));
            }
            super::Login::Inactive => {
                return Err(OAuthError::InvalidGrant("the account is not active".into()));
            }
            super::Login::Throttled(throttled) => return Err(throttled.into()),
        };
        let scope = self.scope_for(app, user.id, form.get("scope")).await?;
        self.issue(app, user.id, scope, None, Holder::User).await
    }

    async fn refresh(&self, app: &App, form: &Form) -> Result<TokenResponse, OAuthError> {
        let given = form.require("refresh_token")?;
        let invalid = || OAuthError::InvalidGrant("the refresh token is invalid or expired".into());
        let record = self
            .store()
            .token_by_refresh(&secret::hash(given))
            .await?
            .ok_or_else(invalid)?;
        if record.app_id != app.id {
            return Err(invalid());
        }
        if record.refresh_used || record.revoked {
            // A replayed refresh token means it leaked: end the whole grant.
            self.revoke_family(&record.family).await?;
            return Err(invalid());
        }
        if record.refresh_expires_at.is_none_or(|at| at <= unix_now()) {
            return Err(invalid());
        }
        let user_id = record.user_id.ok_or_else(invalid)?;
        self.active_user(user_id).await?;
        let scope = match form.get("scope") {
            None => record.scope.clone(),
            Some(asked) => {
                let held: Vec<&str> = record.scope.split_ascii_whitespace().collect();
                for scope in asked.split_ascii_whitespace() {
                    if !held.contains(&scope) {
                        return Err(OAuthError::InvalidScope(format!(
                            "scope `{}` was not granted originally",
                            truncate(scope)
                        )));
                    }
                }
                asked.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
            }
        };
        if !self.store().use_refresh(&record.jti).await? {
            self.revoke_family(&record.family).await?;
            return Err(invalid());
        }
        self.issue(app, user_id, scope, Some(record.family), Holder::User)
            .await
    }

    /// RFC 6749 4.1.3 with PKCE (RFC 7636 4.6): the code, once, by the
    /// client it was issued to, with the same redirect URI and the verifier
    /// of its challenge.
    async fn authorization_code(
        &self,
        app: &App,
        form: &Form,
    ) -> Result<TokenResponse, OAuthError> {
        let code = form.require("code")?;
        let redirect_uri = form.require("redirect_uri")?;
        let verifier = form.require("code_verifier")?;
        let invalid = |why: &str| OAuthError::InvalidGrant(format!("the authorization code {why}"));
        let record = self
            .store()
            .take_code(&secret::hash(code))
            .await?
            .ok_or_else(|| invalid("is unknown"))?;
        let family = format!("code:{}", record.id);
        if record.used {
            // RFC 6749 4.1.2: a code used twice revokes what it issued.
            self.revoke_family(&family).await?;
            return Err(invalid("was used already"));
        }
        if record.app_id != app.id {
            return Err(invalid("was issued to another client"));
        }
        if record.expires_at <= unix_now() {
            return Err(invalid("has expired"));
        }
        if record.redirect_uri != redirect_uri {
            return Err(invalid("was issued for another redirect_uri"));
        }
        if !(43..=128).contains(&verifier.len())
            || !secret::equal(&secret::pkce_s256(verifier), &record.code_challenge)
        {
            return Err(invalid("does not match the code_verifier"));
        }
        self.active_user(record.user_id).await?;
        self.issue(
            app,
            record.user_id,
            record.scope,
            Some(family),
            Holder::User,
        )
        .await
    }

    /// `password` through the first-party public client `client_id`: how
    /// the portal's own login gets a token. Answers like the token endpoint.
    pub async fn first_party_login(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
        address: Option<std::net::IpAddr>,
    ) -> Response {
        let result = async {
            let app = self.first_party_app(client_id).await?;
            let form = Form(HashMap::from([
                ("username".to_owned(), username.to_owned()),
                ("password".to_owned(), password.to_owned()),
            ]));
            self.password(&app, &form, address).await
        }
        .await;
        answer(result.map(axum::Json))
    }

    /// The refresh grant through the first-party public client `client_id`
    /// (rotation and replay detection included). Answers like the token
    /// endpoint.
    pub async fn first_party_refresh(&self, client_id: &str, refresh_token: &str) -> Response {
        let result = async {
            let app = self.first_party_app(client_id).await?;
            let form = Form(HashMap::from([(
                "refresh_token".to_owned(),
                refresh_token.to_owned(),
            )]));
            self.refresh(&app, &form).await
        }
        .await;
        answer(result.map(axum::Json))
    }

    /// The active public client `client_id` that Fusio's own apps use.
    async fn first_party_app(&self, client_id: &str) -> Result<App, OAuthError> {
        self.store()
            .app_by_client_id(client_id)
            .await?
            .filter(|app| app.status == Status::Active && app.secret_hash.is_none())
            .ok_or_else(|| OAuthError::InvalidClient {
                reason: format!("the first-party client `{client_id}` is missing"),
                basic: false,
            })
    }

    /// A token for `user_id` through the first-party public client
    /// `client_id`, after the user proved who they are elsewhere (an
    /// identity provider). Answers like the token endpoint.
    pub async fn first_party_token(&self, client_id: &str, user_id: i64) -> Response {
        let result = async {
            let app = self.first_party_app(client_id).await?;
            let user_id = self.active_user(user_id).await?;
            let scope = self.scope_for(&app, user_id, None).await?;
            self.issue(&app, user_id, scope, None, Holder::User).await
        }
        .await;
        answer(result.map(axum::Json))
    }

    async fn active_user(&self, user_id: i64) -> Result<i64, OAuthError> {
        match self.store().user_by_id(user_id).await? {
            Some(user) if user.status == Status::Active => Ok(user.id),
            _ => Err(OAuthError::InvalidGrant("the account is not active".into())),
        }
    }

    /// The scopes a token gets: what was asked (or, when nothing was, all
    /// the app may have), limited to what the app and the user hold.
    pub(super) async fn scope_for(
        &self,
        app: &App,
        user_id: i64,
        asked: Option<&str>,
    ) -> Result<String, OAuthError> {
        let user_scopes = self.store().user_scopes(user_id).await?;
        let allowed = scopes::intersect(&app.scopes, &user_scopes);
        let granted: Vec<&str> = match asked {
            None => allowed,
            Some(asked) => {
                let mut granted = Vec::new();
                for scope in asked.split_ascii_whitespace() {
                    if !scopes::any_grants(allowed.iter().copied(), scope) {
                        return Err(OAuthError::InvalidScope(format!(
                            "scope `{}` is not available to this client",
                            truncate(scope)
                        )));
                    }
                    if !granted.contains(&scope) {
                        granted.push(scope);
                    }
                }
                granted
            }
        };
        if granted.is_empty() {
            return Err(OAuthError::InvalidScope(
                "no scope is available to this client".into(),
            ));
        }
        Ok(granted.join(" "))
    }

    /// Signs and records a token (and a refresh token when asked).
    async fn issue(
        &self,
        app: &App,
        user_id: i64,
        scope: String,
        family: Option<String>,
        holder: Holder,
    ) -> Result<TokenResponse, OAuthError> {
        let with_refresh = holder == Holder::User;
        let now = unix_now();
        let settings = self.settings();
        let lifetime = settings.access_lifetime.as_secs();
        let claims = Claims {
            iss: self.jwt().issuer().to_owned(),
            sub: user_id.to_string(),
            aud: self.jwt().issuer().to_owned(),
            exp: now.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX)),
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scope,
            client_id: app.client_id.clone(),
            client_only: holder == Holder::App,
        };
        let refresh = with_refresh.then(secret::generate);
        let refresh_lifetime =
            i64::try_from(settings.refresh_lifetime.as_secs()).unwrap_or(i64::MAX);
        self.store()
            .insert_token(&TokenRecord {
                jti: claims.jti.clone(),
                family: family.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
                app_id: app.id,
                user_id: Some(user_id),
                scope: claims.scope.clone(),
                expires_at: claims.exp,
                refresh_hash: refresh.as_deref().map(secret::hash),
                refresh_expires_at: refresh
                    .as_ref()
                    .map(|_| now.saturating_add(refresh_lifetime)),
                refresh_used: false,
                revoked: false,
            })
            .await?;
        Ok(TokenResponse {
            access_token: self.jwt().sign(&claims),
            token_type: "Bearer",
            expires_in: lifetime,
            refresh_token: refresh,
            scope: claims.scope,
        })
    }
}

/// Whom a token is issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// A user, through an app: with a refresh token.
    User,
    /// The app itself (`client_credentials`): no refresh token; it asks
    /// again with its secret.
    App,
}
