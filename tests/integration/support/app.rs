//! An in-process Fusio: booted on a test store in a temporary directory,
//! called through the router with `oneshot`, no socket involved.

use super::db::{Backend, TestDb};
use super::{guests, logs};
use axum::Router;
use axum::body::Body;
use fusio::app::{AppState, router};
use fusio::server::{BootOptions, boot};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A booted app with its directory and store.
pub struct TestApp {
    /// The app's state (runtime, store, live snapshot).
    pub state: AppState,
    /// The options it was booted with, to boot again ("restart").
    pub options: BootOptions,
    /// The data directory and project files.
    pub dir: tempfile::TempDir,
    db: TestDb,
}

/// A response with its body read.
#[derive(Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON; panics with the body text when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `X-Request-Id` header, which every response carries.
    pub fn request_id(&self) -> String {
        self.header("x-request-id")
            .expect("every response has X-Request-Id")
            .to_owned()
    }

    /// Asserts a problem (see [`Self::assert_problem`]) whose detail says
    /// `text`.
    pub fn assert_problem_saying(&self, status: u16, text: &str) {
        let problem = self.assert_problem(status);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains(text),
            "the detail `{detail}` does not say `{text}`"
        );
    }

    /// Asserts a problem+json error with `status` that carries the request id.
    pub fn assert_problem(&self, status: u16) -> serde_json::Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "expected status {status}, got {}: {}",
            self.status,
            self.text()
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let problem = self.json();
        assert_eq!(problem["status"], status);
        assert_eq!(
            problem["requestId"],
            self.request_id(),
            "the problem names the request id"
        );
        problem
    }
}

/// Sends `request` through `router` and reads the whole answer.
pub async fn send_to(router: Router, request: Request<Body>) -> TestResponse {
    let response = router
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// Writes `yaml` as `fusio.yml` in `dir`, with `{guest:NAME}` replaced by the
/// path of that guest component.
pub fn write_project(dir: &Path, yaml: &str) -> PathBuf {
    let mut text = yaml.to_owned();
    while let Some(start) = text.find("{guest:") {
        let end = start + text[start..].find('}').expect("closing brace");
        let name = &text[start + 7..end];
        let path = guests::guest(name);
        text.replace_range(start..=end, &path.display().to_string());
    }
    let file = dir.join("fusio.yml");
    std::fs::write(&file, text).expect("write fusio.yml");
    file
}

/// Options for a test app in `dir`, sharing the compiled-component cache of
/// the whole test run unless the test needs its own. SQLite connections may
/// name files anywhere below `dir` (`--sqlite-dir`); the data directory in
/// it stays the server's own.
pub fn options(dir: &Path, db: &TestDb) -> BootOptions {
    let mut options = BootOptions::new(dir.join("data"));
    options.sqlite_dirs = vec![dir.to_owned()];
    options.database_url = db.url.clone();
    options.engine.cache_dir = guests::build_target_dir("cwasm-cache");
    options.build.target_dir = Some(guests::build_target_dir("examples"));
    options
}

/// Why booting with `yaml` (and `files`, name and text, beside it) is
/// refused; panics when it is not.
pub async fn boot_refused(yaml: &str, files: &[(&str, &str)]) -> String {
    boot_refused_with(yaml, files, |_| {}).await
}

/// [`boot_refused`], with a chance to change the boot options.
pub async fn boot_refused_with(
    yaml: &str,
    files: &[(&str, &str)],
    tweak: impl FnOnce(&mut BootOptions),
) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_project(dir.path(), yaml);
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a project file");
    }
    let db = TestDb::new(Backend::Sqlite, dir.path()).await;
    let mut options = options(dir.path(), &db);
    options.deploy = Some(file);
    tweak(&mut options);
    match boot(&options).await {
        Ok(_) => panic!("the project is refused"),
        Err(err) => format!("{err:#}"),
    }
}

impl TestApp {
    /// Boots on `backend` and deploys `yaml` (see [`write_project`]).
    pub async fn start(backend: Backend, yaml: &str) -> Self {
        Self::start_with(backend, yaml, |_| {}).await
    }

    /// Like [`TestApp::start`], with a chance to change the boot options.
    pub async fn start_with(
        backend: Backend,
        yaml: &str,
        tweak: impl FnOnce(&mut BootOptions),
    ) -> Self {
        logs::install();
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDb::new(backend, dir.path()).await;
        let mut options = options(dir.path(), &db);
        options.deploy = Some(write_project(dir.path(), yaml));
        tweak(&mut options);
        Self::boot(options, dir, db).await
    }

    async fn boot(options: BootOptions, dir: tempfile::TempDir, db: TestDb) -> Self {
        let state = boot(&options)
            .await
            .unwrap_or_else(|e| panic!("boot failed: {e}"));
        Self {
            state,
            options,
            dir,
            db,
        }
    }

    /// Boots a second app on the same directory and store: a restart.
    pub async fn restart(self, deploy: bool) -> Self {
        let Self {
            state,
            mut options,
            dir,
            db,
        } = self;
        state.store.close().await;
        drop(state);
        if !deploy {
            options.deploy = None;
        }
        Self::boot(options, dir, db).await
    }

    /// A connection of its own to the app's store, as an operator (or an
    /// attacker with the file) would open it.
    pub async fn store_connection(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = self.options.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}",
                self.options.data_dir.join("fusio.db").display()
            )
        });
        <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .expect("the store opens")
    }

    /// The router over this app's state.
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Sends `request` through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        send_to(self.router(), request).await
    }

    /// Another node on this app's store and options (nothing deployed by
    /// it: it serves what the store holds); answers its router.
    pub async fn another_node(&self) -> Router {
        let mut options = self.options.clone();
        options.deploy = None;
        let state = boot(&options)
            .await
            .unwrap_or_else(|e| panic!("boot failed: {e}"));
        router(state)
    }

    /// A developer `dev` (role Consumer, which may hold `scope`) and an app
    /// of theirs holding `scope`; answers its client id and secret.
    pub async fn developer_app(&self, scope: &str) -> (String, String) {
        use fusio::auth::{password, secret};
        use fusio::store::identity::{NewApp, NewUser, Status};
        let store = &self.state.store;
        store.ensure_role("Consumer", &[scope]).await.unwrap();
        let hash = password::hash("dev password");
        let user = store
            .create_user(&NewUser {
                name: "dev",
                email: Some("dev@example.org"),
                status: Status::Active,
                password_hash: Some(&hash),
                role: "Consumer",
                scopes: &[],
            })
            .await
            .unwrap();
        let (client_id, client_secret) = (format!("client-{user}"), secret::generate());
        store
            .create_app(&NewApp {
                user_id: user,
                name: "Dev app",
                client_id: &client_id,
                secret_hash: Some(&secret::hash(&client_secret)),
                redirect_uris: &[],
                scopes: &[scope.into()],
            })
            .await
            .unwrap();
        (client_id, client_secret)
    }

    /// `GET uri`.
    pub async fn get(&self, uri: &str) -> TestResponse {
        self.call(Method::GET, uri).await
    }

    /// `method uri` without a body.
    pub async fn call(&self, method: Method, uri: &str) -> TestResponse {
        let request = Request::builder().method(method).uri(uri);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Serves the app on a loopback port, for clients that need a socket;
    /// answers the base URL. The server stops when the test ends.
    pub async fn serve(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        // As `fusio serve` does: the peer address feeds login throttling.
        let service = self
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        format!("http://{address}")
    }

    /// `GET uri` with `Authorization: Bearer token`.
    pub async fn get_bearer(&self, uri: &str, token: &str) -> TestResponse {
        let request = Request::get(uri).header("authorization", format!("Bearer {token}"));
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// A password-grant access token of `user` through the public client
    /// `client_id`; panics (with the answer) unless one is issued.
    pub async fn password_token(&self, client_id: &str, user: &str, password: &str) -> String {
        let issued = self
            .post_form(
                "/authorization/token",
                &[
                    ("grant_type", "password"),
                    ("client_id", client_id),
                    ("username", user),
                    ("password", password),
                ],
                None,
            )
            .await;
        assert_eq!(issued.status, 200, "{}", issued.text());
        issued.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// A `client_credentials` access token for the app; panics (with the
    /// answer) unless one is issued.
    pub async fn client_credentials(&self, client_id: &str, client_secret: &str) -> String {
        let issued = self
            .post_form(
                "/authorization/token",
                &[("grant_type", "client_credentials")],
                Some((client_id, client_secret)),
            )
            .await;
        assert_eq!(issued.status, 200, "{}", issued.text());
        issued.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// `POST uri` with a form body, and HTTP Basic credentials when given.
    pub async fn post_form(
        &self,
        uri: &str,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut request =
            Request::post(uri).header("content-type", "application/x-www-form-urlencoded");
        if let Some((id, secret)) = basic {
            use base64::Engine;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            request = request.header("authorization", format!("Basic {encoded}"));
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// `GET uri` in the background; answers its status and how long it took.
    pub fn spawn_get(&self, uri: &str) -> tokio::task::JoinHandle<(StatusCode, Duration)> {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        let router = self.router();
        let started = Instant::now();
        tokio::spawn(async move {
            let response = router
                .oneshot(request)
                .await
                .expect("the router is infallible");
            (response.status(), started.elapsed())
        })
    }
}
