//! Fusio in-process, for tests of a project: its `fusio.yml` deployed into
//! a throwaway server (SQLite store and connection databases in a
//! temporary directory, built by the project's migrations), called without
//! a socket through the router. `fusio test` runs a project's declared
//! cases on it; the `fusio-test` crate gives it to an action author's
//! `cargo test`.

pub mod cases;
pub mod junit;

use crate::app::{AppState, router};
use crate::project::{BuildOptions, Compiled, DeployRequest, ProjectError};
use crate::server::{BootError, BootOptions, boot};
use crate::snapshot::Components;
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;
use tower::ServiceExt;

/// Why a test server could not start.
#[derive(Debug, thiserror::Error)]
pub enum TestServerError {
    /// The project file is refused (its problems located in the file).
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// The server could not boot.
    #[error(transparent)]
    Boot(#[from] BootError),
    /// The temporary directory could not be made.
    #[error("cannot make a temporary directory: {0}")]
    Io(#[from] std::io::Error),
    /// A fixture or token could not be made.
    #[error("{0}")]
    Setup(String),
    /// A connection reaches a database of its own (not a SQLite file the
    /// test server makes afresh), and sharing it was not allowed.
    #[error(
        "the connection `{connection}` is a {kind} used as configured: the tests (its migrations, every request) would write to it; allow that only for a database kept for tests (`fusio test --shared-databases`, FUSIO_TEST_SHARED_DATABASES=1)"
    )]
    SharedDatabase {
        /// The connection.
        connection: String,
        /// What it reaches, e.g. `PostgreSQL database`.
        kind: &'static str,
    },
}

/// What a test server answered.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: bytes::Bytes,
}

impl TestResponse {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a test server is made.
#[derive(Debug, Clone, Default)]
pub struct TestOptions {
    /// Where Rust action packages and Python modules are built.
    pub build: BuildOptions,
    /// Where compiled components are kept between runs (so a second run
    /// compiles nothing); the temporary directory when `None`.
    pub cache_dir: Option<PathBuf>,
    /// Whether connections to databases of their own (PostgreSQL,
    /// MySQL/MariaDB, Redis) are used as configured. Off, such a project is
    /// refused: its SQLite files are made afresh, those databases are not.
    pub shared_databases: bool,
}

/// The first connection of `project` that reaches a database the test
/// server does not make afresh, and what it is.
fn shared_database(project: &crate::store::model::Project) -> Option<(String, &'static str)> {
    use crate::store::model::ConnectionKind;
    project.connections.iter().find_map(|connection| {
        let url = connection
            .config
            .get("url")
            .and_then(|url| url.as_str())
            .unwrap_or_default();
        let kind = match connection.kind {
            ConnectionKind::Redis => "Redis server",
            ConnectionKind::Sql if url.starts_with("postgres") => "PostgreSQL database",
            ConnectionKind::Sql if url.starts_with("mysql") || url.starts_with("mariadb") => {
                "MySQL/MariaDB database"
            }
            _ => return None,
        };
        Some((connection.name.clone(), kind))
    })
}

/// A project deployed into a throwaway server; the directory goes with it.
pub struct TestServer {
    state: AppState,
    router: Router,
    compiled: Compiled,
    tokens: Mutex<BTreeMap<Vec<String>, String>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Deploys the project in `file` into a new throwaway server.
    pub async fn start(file: &Path, options: &TestOptions) -> Result<Self, TestServerError> {
        let compiled = crate::project::compile(file, &options.build).await?;
        Self::from_compiled(compiled, options).await
    }

    /// Deploys an already compiled project into a new throwaway server.
    pub async fn from_compiled(
        compiled: Compiled,
        options: &TestOptions,
    ) -> Result<Self, TestServerError> {
        if !options.shared_databases
            && let Some((connection, kind)) = shared_database(&compiled.project)
        {
            return Err(TestServerError::SharedDatabase { connection, kind });
        }
        let dir = tempfile::tempdir()?;
        let mut boot_options = BootOptions::new(dir.path().join("data"));
        if let Some(cache) = &options.cache_dir {
            boot_options.engine.cache_dir = cache.clone();
        }
        boot_options.build = options.build.clone();
        boot_options.admin_password = Some(crate::auth::secret::generate());
        boot_options.registration = false;
        let state = boot(&boot_options).await?;
        let components: Vec<Arc<[u8]>> = compiled.components.values().cloned().collect();
        state
            .deployer
            .deploy(DeployRequest {
                project: compiled.project.clone(),
                components: Components::Local(&compiled.components),
                new_components: components,
                source: format!("test:{}", compiled.file.display()),
                author: "fusio test".into(),
                expected: None,
                dry_run: false,
            })
            .await
            .map_err(|err| match err {
                crate::project::DeployError::Invalid(problems) => compiled.locate(problems),
                other => ProjectError::Deploy(other.to_string()),
            })?;
        Ok(Self {
            router: router(state.clone()),
            state,
            compiled,
            tokens: Mutex::new(BTreeMap::new()),
            _dir: dir,
        })
    }

    /// The project as compiled (its test cases, schemas, locations).
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The server's state, for what the helpers here do not cover.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Sends `request` through the router, as a client on loopback would.
    pub async fn send(&self, mut request: Request<Body>) -> TestResponse {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                1,
            ))));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map(|collected| collected.to_bytes())
            .unwrap_or_default();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// `GET uri`.
    pub async fn get(&self, uri: &str) -> TestResponse {
        self.send(Request::get(uri).body(Body::empty()).expect("a request"))
            .await
    }

    /// An access token holding `scopes` (of a test user and app made for
    /// them, through the client credentials grant); the same scopes get the
    /// same token.
    pub async fn token(&self, scopes: &[&str]) -> Result<String, TestServerError> {
        let mut key: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        key.sort();
        let mut tokens = self.tokens.lock().await;
        if let Some(token) = tokens.get(&key) {
            return Ok(token.clone());
        }
        let token = self.issue(&key, tokens.len()).await?;
        tokens.insert(key, token.clone());
        Ok(token)
    }

    async fn issue(&self, scopes: &[String], n: usize) -> Result<String, TestServerError> {
        use crate::auth::{password, secret};
        use crate::store::identity::{NewApp, NewUser, Status};
        let failed = |what: &str, err: crate::store::StoreError| {
            TestServerError::Setup(format!("cannot make the test {what}: {err}"))
        };
        let store = &self.state.store;
        let role = format!("Test {n}");
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        store
            .ensure_role(&role, &refs)
            .await
            .map_err(|e| failed("role", e))?;
        let hash = password::hash(&secret::generate());
        let name = format!("test-{n}");
        let email = format!("test-{n}@example.org");
        let user = store
            .create_user(&NewUser {
                name: &name,
                email: Some(&email),
                status: Status::Active,
                password_hash: Some(&hash),
                role: &role,
                scopes,
            })
            .await
            .map_err(|e| failed("user", e))?;
        let (client_id, client_secret) = (format!("test-client-{n}"), secret::generate());
        store
            .create_app(&NewApp {
                user_id: user,
                name: &name,
                client_id: &client_id,
                secret_hash: Some(&secret::hash(&client_secret)),
                redirect_uris: &[],
                scopes,
            })
            .await
            .map_err(|e| failed("app", e))?;
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{client_id}:{client_secret}"),
        );
        let answer = self
            .send(
                Request::post("/authorization/token")
                    .header("authorization", format!("Basic {basic}"))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("grant_type=client_credentials"))
                    .expect("a request"),
            )
            .await;
        answer.json()["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| {
                TestServerError::Setup(format!(
                    "no token for the scopes {scopes:?}: {}",
                    answer.text()
                ))
            })
    }

    /// Runs `statements` (several, separated by `;`) on the SQL connection
    /// `connection` of the project: a fixture before a test.
    pub async fn sql(&self, connection: &str, statements: &str) -> Result<(), TestServerError> {
        self.state
            .deployer
            .run_sql(connection, statements)
            .await
            .map_err(|err| TestServerError::Setup(format!("fixture on `{connection}`: {err}")))
    }
}
