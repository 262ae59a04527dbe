//! The command line's side of the system API: `fusio login`, `fusio deploy`
//! and `fusio rollback` talk to a server over HTTP with a bearer token from
//! `fusio login` or from client credentials in the environment (for CI).

pub mod credentials;
pub mod deploy;

use crate::auth::bootstrap::BACKEND_CLIENT_ID;
use crate::project::{EntryProblem, Plan};
use credentials::{Credentials, CredentialsError};
use serde::Deserialize;
use std::path::PathBuf;

/// How the command line proves who it is.
#[derive(Debug, Clone)]
pub enum Login {
    /// An app's client credentials (`FUSIO_CLIENT_ID`, `FUSIO_CLIENT_SECRET`):
    /// the CI way.
    Client {
        /// The client id.
        id: String,
        /// The client secret.
        secret: String,
    },
    /// The token `fusio login` saved, renewed with its refresh token when it
    /// expired.
    Saved(PathBuf),
}

impl Login {
    /// Client credentials from the environment when both are set, else the
    /// saved login at `path` (or the default place).
    pub fn from_env(path: Option<PathBuf>) -> Result<Self, CredentialsError> {
        match (
            std::env::var("FUSIO_CLIENT_ID"),
            std::env::var("FUSIO_CLIENT_SECRET"),
        ) {
            (Ok(id), Ok(secret)) => Ok(Login::Client { id, secret }),
            _ => Ok(Login::Saved(match path {
                Some(path) => path,
                None => credentials::default_path()?,
            })),
        }
    }
}

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server cannot be reached or did not answer HTTP.
    #[error("cannot reach {url}")]
    Unreachable {
        /// The server.
        url: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// The server answered something that is not Fusio's.
    #[error("{url} did not answer like a Fusio server: {reason}")]
    NotFusio {
        /// The server.
        url: String,
        /// What was odd.
        reason: String,
    },
    /// The credentials cannot be used.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The server refused the login.
    #[error("{url} refused the login: {reason}")]
    LoginRefused {
        /// The server.
        url: String,
        /// The OAuth2 error description.
        reason: String,
    },
    /// The server refused the request with a problem.
    #[error("{status}: {detail}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The problem's detail (or title).
        detail: String,
        /// The refused entries of a deploy, when that was the reason.
        problems: Vec<EntryProblem>,
    },
}

/// A deploy's or rollback's answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployed {
    /// What the server says happened.
    pub message: String,
    /// The revision served afterwards.
    pub revision: i64,
    /// Whether the project differed from the served one.
    pub changed: bool,
    /// What changes.
    pub plan: Plan,
}

/// A revision as the server lists it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// The number.
    pub id: i64,
    /// Where it came from.
    pub source: String,
    /// Whether a rollback to it is possible.
    pub restorable: bool,
    /// Whether it is served.
    pub current: bool,
}

/// An authenticated connection to one server.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Collection<T> {
    entry: Vec<T>,
}

impl Client {
    /// Logs in to the server at `url`.
    pub async fn connect(url: &str, login: &Login) -> Result<Self, ClientError> {
        let url = url.trim_end_matches('/').to_owned();
        let http = reqwest::Client::new();
        let token =
            match login {
                Login::Client { id, secret } => {
                    let form = [("grant_type", "client_credentials")];
                    let answer = token_request(&http, &url, &form, Some((id, secret))).await?;
                    answer.access_token
                }
                Login::Saved(path) => {
                    let mut saved = Credentials::load(path)?;
                    if saved.url.trim_end_matches('/') != url {
                        return Err(ClientError::Credentials(CredentialsError::Invalid {
                            path: path.clone(),
                            reason: format!(
                                "it holds a login to {}, not {url}; run `fusio login --url {url}`",
                                saved.url
                            ),
                        }));
                    }
                    let now = crate::auth::unix_now();
                    if saved.expired(now) {
                        let refresh = saved.refresh_token.clone().ok_or_else(|| {
                            ClientError::LoginRefused {
                                url: url.clone(),
                                reason: "the saved token expired; run `fusio login` again".into(),
                            }
                        })?;
                        let form = [
                            ("grant_type", "refresh_token"),
                            ("client_id", BACKEND_CLIENT_ID),
                            ("refresh_token", refresh.as_str()),
                        ];
                        let answer = token_request(&http, &url, &form, None).await?;
                        saved.access_token = answer.access_token;
                        saved.refresh_token = answer.refresh_token.or(saved.refresh_token);
                        saved.expires_at = answer.expires_in.map(|s| now + s);
                        saved.save(path)?;
                    }
                    saved.access_token
                }
            };
        Ok(Self { http, url, token })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: self.url.clone(),
                source,
            })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ClientError::Unreachable {
                url: self.url.clone(),
                source,
            })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::NotFusio {
                url: self.url.clone(),
                reason: e.to_string(),
            });
        }
        let problem: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let detail = problem["detail"]
            .as_str()
            .or(problem["title"].as_str())
            .map_or_else(
                || String::from_utf8_lossy(&bytes).into_owned(),
                str::to_owned,
            );
        let problems = serde_json::from_value(problem["problems"].clone()).unwrap_or_default();
        Err(ClientError::Refused {
            status: status.as_u16(),
            detail,
            problems,
        })
    }

    /// Which of `hashes` the server lacks.
    pub async fn missing_components(&self, hashes: &[String]) -> Result<Vec<String>, ClientError> {
        #[derive(Deserialize)]
        struct Missing {
            missing: Vec<String>,
        }
        let answer: Missing = self
            .send(
                self.http
                    .post(format!("{}/backend/component/missing", self.url))
                    .json(&serde_json::json!({ "components": hashes })),
            )
            .await?;
        Ok(answer.missing)
    }

    /// Uploads one component.
    pub async fn upload_component(&self, sha256: &str, bytes: &[u8]) -> Result<(), ClientError> {
        let _: serde_json::Value = self
            .send(
                self.http
                    .put(format!("{}/backend/component/{sha256}", self.url))
                    .header("content-type", "application/wasm")
                    .body(bytes.to_vec()),
            )
            .await?;
        Ok(())
    }

    /// Sends a project; `expected` is the revision a dry run planned against.
    pub async fn deploy(
        &self,
        project: &crate::store::model::Project,
        dry_run: bool,
        expected: Option<i64>,
    ) -> Result<Deployed, ClientError> {
        let mut request = self
            .http
            .post(format!("{}/backend/deploy?dryRun={dry_run}", self.url))
            .json(project);
        if let Some(revision) = expected {
            request = request.header("if-match", format!("\"{revision}\""));
        }
        self.send(request).await
    }

    /// The newest revisions, newest first.
    pub async fn revisions(&self) -> Result<Vec<Revision>, ClientError> {
        let answer: Collection<Revision> = self
            .send(
                self.http
                    .get(format!("{}/backend/revision?count=64", self.url)),
            )
            .await?;
        Ok(answer.entry)
    }

    /// Serves again what revision `id` served.
    pub async fn rollback(&self, id: i64, dry_run: bool) -> Result<Deployed, ClientError> {
        self.send(self.http.post(format!(
            "{}/backend/revision/{id}/rollback?dryRun={dry_run}",
            self.url
        )))
        .await
    }
}

/// The token endpoint; `basic` authenticates a confidential client.
async fn token_request(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
    basic: Option<(&String, &String)>,
) -> Result<TokenAnswer, ClientError> {
    let mut request = http.post(format!("{url}/authorization/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request
        .send()
        .await
        .map_err(|source| ClientError::Unreachable {
            url: url.to_owned(),
            source,
        })?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.map_err(|e| ClientError::NotFusio {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !status.is_success() {
        return Err(ClientError::LoginRefused {
            url: url.to_owned(),
            reason: body["error_description"]
                .as_str()
                .unwrap_or("no reason given")
                .to_owned(),
        });
    }
    serde_json::from_value(body).map_err(|e| ClientError::NotFusio {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// `fusio login`: the password grant through the backend app; the token is
/// kept for later commands.
pub async fn login(
    url: &str,
    user: &str,
    password: &str,
    path: &std::path::Path,
) -> Result<Credentials, ClientError> {
    let url = url.trim_end_matches('/');
    let http = reqwest::Client::new();
    let form = [
        ("grant_type", "password"),
        ("client_id", BACKEND_CLIENT_ID),
        ("username", user),
        ("password", password),
    ];
    let answer = token_request(&http, url, &form, None).await?;
    let saved = Credentials {
        url: url.to_owned(),
        user: user.to_owned(),
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        expires_at: answer.expires_in.map(|s| crate::auth::unix_now() + s),
    };
    saved.save(path)?;
    Ok(saved)
}
