//! Login through external identity providers: GitHub, Google, Facebook and
//! any OpenID Connect provider. The authorization-code flow with PKCE runs
//! through the `oauth2` crate; the provider's userinfo endpoint says who the
//! user is. A known identity logs its user in. An unknown one is linked to
//! the user with the same email only when the provider vouches that the
//! email is verified (OpenID Connect's `email_verified`, GitHub's verified
//! primary address from its emails endpoint; Facebook answers only
//! confirmed addresses); otherwise a taken email is refused, and a free
//! one becomes a new developer account without it.

use super::secret;
use crate::store::identity::{NewUser, Status, User};
use crate::store::{Store, StoreError};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;

/// One provider as configured (a `--providers` file entry).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderSettings {
    /// The name in `/consumer/provider/{name}`; `github`, `google` and
    /// `facebook` come with their endpoints.
    pub name: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret registered at the provider.
    pub client_secret: String,
    /// The provider's authorization endpoint (default for the named three).
    pub authorize_url: Option<String>,
    /// The provider's token endpoint.
    pub token_url: Option<String>,
    /// The endpoint that answers who the token's user is.
    pub userinfo_url: Option<String>,
    /// GitHub's endpoint listing the user's addresses with their
    /// verification (`https://api.github.com/user/emails` for `github`);
    /// when set, the verified primary address is the user's email.
    pub emails_url: Option<String>,
    /// The scopes to ask for.
    pub scopes: Option<Vec<String>>,
}

/// Why a provider login failed.
#[derive(Debug, thiserror::Error)]
pub enum SocialError {
    /// No provider has this name.
    #[error("no identity provider is called `{0}`")]
    UnknownProvider(String),
    /// The provider entry lacks an endpoint and has no default.
    #[error("the identity provider `{0}` needs authorizeUrl, tokenUrl and userinfoUrl")]
    Incomplete(String),
    /// An endpoint is not a URL.
    #[error("the identity provider `{name}` has an invalid URL: {reason}")]
    InvalidUrl {
        /// The provider.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The state is unknown or expired: the login was not started here, or
    /// took too long.
    #[error("the login state is unknown or expired; start again")]
    UnknownState,
    /// The identity's email belongs to an account, but the provider does
    /// not vouch that the address is verified: linking would hand the
    /// account to whoever typed the address at the provider.
    #[error(
        "the identity provider does not confirm that {0} is verified, and an account uses it; \
         verify the address at the provider, or log in with the account's password"
    )]
    UnverifiedEmail(String),
    /// The provider refused the code or answered something unusable.
    #[error("the identity provider refused: {0}")]
    Provider(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct Provider {
    settings: ProviderSettings,
    client: BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    userinfo_url: String,
    scopes: Vec<String>,
}

/// The configured providers and the logins in progress.
pub struct Providers {
    providers: HashMap<String, Provider>,
    /// State → (provider, PKCE verifier) for logins under way.
    pending: moka::sync::Cache<String, (String, String)>,
    http: reqwest::Client,
}

/// Endpoints and scopes of the providers Fusio knows by name.
fn defaults(
    name: &str,
) -> Option<(
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
)> {
    match name {
        "github" => Some((
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token",
            "https://api.github.com/user",
            &["read:user", "user:email"],
        )),
        "google" => Some((
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token",
            "https://openidconnect.googleapis.com/v1/userinfo",
            &["openid", "email", "profile"],
        )),
        "facebook" => Some((
            "https://www.facebook.com/v19.0/dialog/oauth",
            "https://graph.facebook.com/v19.0/oauth/access_token",
            "https://graph.facebook.com/me?fields=id,name,email",
            &["email", "public_profile"],
        )),
        _ => None,
    }
}

impl Providers {
    /// The providers `settings` describe, with callbacks under `issuer`.
    pub fn new(settings: &[ProviderSettings], issuer: &str) -> Result<Self, SocialError> {
        let mut providers = HashMap::new();
        for entry in settings {
            let known = defaults(&entry.name);
            let pick = |given: &Option<String>, default: Option<&str>| {
                given
                    .clone()
                    .or(default.map(str::to_owned))
                    .ok_or_else(|| SocialError::Incomplete(entry.name.clone()))
            };
            let authorize = pick(&entry.authorize_url, known.map(|k| k.0))?;
            let token = pick(&entry.token_url, known.map(|k| k.1))?;
            let userinfo_url = pick(&entry.userinfo_url, known.map(|k| k.2))?;
            let invalid = |reason: String| SocialError::InvalidUrl {
                name: entry.name.clone(),
                reason,
            };
            let client = BasicClient::new(ClientId::new(entry.client_id.clone()))
                .set_client_secret(ClientSecret::new(entry.client_secret.clone()))
                .set_auth_uri(AuthUrl::new(authorize).map_err(|e| invalid(e.to_string()))?)
                .set_token_uri(TokenUrl::new(token).map_err(|e| invalid(e.to_string()))?)
                .set_redirect_uri(
                    RedirectUrl::new(format!(
                        "{issuer}/consumer/provider/{}/callback",
                        entry.name
                    ))
                    .map_err(|e| invalid(e.to_string()))?,
                );
            let scopes = entry.scopes.clone().unwrap_or_else(|| {
                known
                    .map(|k| k.3.iter().map(|s| (*s).to_owned()).collect())
                    .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()])
            });
            let mut settings = entry.clone();
            if settings.name == "github" && settings.emails_url.is_none() {
                settings.emails_url = Some("https://api.github.com/user/emails".into());
            }
            providers.insert(
                entry.name.clone(),
                Provider {
                    settings,
                    client,
                    userinfo_url,
                    scopes,
                },
            );
        }
        Ok(Self {
            providers,
            pending: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .user_agent(concat!("fusio/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a reqwest client with static settings"),
        })
    }

    /// Where to send the browser to log in at `name`.
    pub fn start(&self, name: &str) -> Result<String, SocialError> {
        let provider = self
            .providers
            .get(name)
            .ok_or_else(|| SocialError::UnknownProvider(name.to_owned()))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = provider
            .client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge);
        for scope in &provider.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state) = request.url();
        self.pending.insert(
            state.secret().clone(),
            (name.to_owned(), verifier.secret().clone()),
        );
        Ok(url.to_string())
    }

    /// Finishes a login: exchanges the code, asks who the user is, and
    /// answers the Fusio user (found, linked or created).
    pub async fn finish(
        &self,
        store: &Store,
        name: &str,
        code: &str,
        state: &str,
    ) -> Result<User, SocialError> {
        let (started_at, verifier) = self
            .pending
            .remove(state)
            .ok_or(SocialError::UnknownState)?;
        if started_at != name {
            return Err(SocialError::UnknownState);
        }
        let provider = self
            .providers
            .get(name)
            .ok_or_else(|| SocialError::UnknownProvider(name.to_owned()))?;
        let token = provider
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SocialError::Provider(format!("token exchange: {e}")))?;
        let info: serde_json::Value = self
            .provider_json(
                &provider.userinfo_url,
                token.access_token().secret(),
                "userinfo",
            )
            .await?;
        let remote_id = match info.get("sub").or_else(|| info.get("id")) {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(serde_json::Value::Number(id)) => id.to_string(),
            _ => {
                return Err(SocialError::Provider(
                    "userinfo names no `sub` or `id`".into(),
                ));
            }
        };
        let text = |key: &str| info.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let email = match &provider.settings.emails_url {
            Some(url) => {
                self.verified_primary(url, token.access_token().secret())
                    .await?
            }
            None if provider.settings.name == "facebook" => text("email").map(Email::verified),
            None => text("email").map(|address| Email {
                verified: matches!(
                    info.get("email_verified"),
                    Some(serde_json::Value::Bool(true))
                ) || info.get("email_verified").and_then(|v| v.as_str()) == Some("true"),
                address,
            }),
        };
        let login = text("login")
            .or_else(|| text("preferred_username"))
            .or_else(|| text("name"))
            .unwrap_or_else(|| format!("{}-{remote_id}", provider.settings.name));
        user_for(store, name, &remote_id, email.as_ref(), &login).await
    }

    /// What the provider's endpoint `url` answers for the user's `token`,
    /// as JSON; `what` names the endpoint in errors.
    async fn provider_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        token: &str,
        what: &str,
    ) -> Result<T, SocialError> {
        self.http
            .get(url)
            .bearer_auth(token)
            .header("accept", "application/json")
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| SocialError::Provider(format!("{what}: {e}")))?
            .json()
            .await
            .map_err(|e| SocialError::Provider(format!("{what}: {e}")))
    }

    /// The primary address GitHub lists at `url` (its emails endpoint),
    /// with whether GitHub verified it.
    async fn verified_primary(&self, url: &str, token: &str) -> Result<Option<Email>, SocialError> {
        #[derive(Deserialize)]
        struct Listed {
            email: String,
            #[serde(default)]
            primary: bool,
            #[serde(default)]
            verified: bool,
        }
        let listed: Vec<Listed> = self.provider_json(url, token, "emails").await?;
        Ok(listed.into_iter().find(|e| e.primary).map(|e| Email {
            address: e.email,
            verified: e.verified,
        }))
    }
}

/// An identity's email and whether its provider vouches for it.
#[derive(Debug)]
struct Email {
    address: String,
    verified: bool,
}

impl Email {
    fn verified(address: String) -> Self {
        Self {
            address,
            verified: true,
        }
    }
}

/// The user behind an identity: linked before, or with the same verified
/// email, or a new developer account named after the login (with the
/// email only when it is verified).
async fn user_for(
    store: &Store,
    provider: &str,
    remote_id: &str,
    email: Option<&Email>,
    login: &str,
) -> Result<User, SocialError> {
    if let Some(user) = store.user_by_identity(provider, remote_id).await? {
        return Ok(user);
    }
    let existing = match email {
        Some(email) => store.user_by_email(&email.address).await?,
        None => None,
    };
    if let (Some(_), Some(email)) = (&existing, email)
        && !email.verified
    {
        return Err(SocialError::UnverifiedEmail(email.address.clone()));
    }
    let email = email.filter(|e| e.verified).map(|e| e.address.as_str());
    let user = match existing {
        Some(user) => user,
        None => {
            let base: String = login
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._-".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .take(48)
                .collect();
            let mut created = None;
            for attempt in 0..20 {
                let name = if attempt == 0 {
                    base.clone()
                } else {
                    format!("{base}-{}", &secret::generate()[..6])
                };
                match store
                    .create_user(&NewUser {
                        name: &name,
                        email,
                        status: Status::Active,
                        password_hash: None,
                        role: super::bootstrap::CONSUMER,
                        scopes: &[],
                    })
                    .await
                {
                    Ok(id) => {
                        created = store.user_by_id(id).await?;
                        break;
                    }
                    Err(StoreError::Conflict(_)) => continue,
                    Err(err) => return Err(err.into()),
                }
            }
            created.ok_or_else(|| SocialError::Provider("no free user name".into()))?
        }
    };
    store.link_identity(user.id, provider, remote_id).await?;
    Ok(user)
}
