//! Test a Fusio project from `cargo test`: its `fusio.yml` deployed into a
//! throwaway in-process server (SQLite store and connection databases in a
//! temporary directory, components built or taken from the precompile
//! cache) and called through the router, without a socket.
//!
//! ```no_run
//! # async fn demo() {
//! use fusio_test::{Project, json};
//! let api = Project::load("fusio.yml").await;
//! api.fixture("Default-Connection", "INSERT INTO app_todo (title) VALUES ('milk')").await;
//! let token = api.token(&["todo"]).await;
//! let answer = api.post_json("/todo", &token, json!({ "title": "eggs" })).await;
//! answer.assert_status(201).assert_json_includes(json!({ "success": true }));
//! # }
//! ```

pub use fusio::testing::{TestOptions, TestResponse, TestServer};
pub use http::Request as TestRequest;
pub use serde_json::{Value, json};

use axum::body::Body;
use http::Request;
use std::path::{Path, PathBuf};

/// A project deployed into a throwaway server for one test.
pub struct Project {
    server: TestServer,
}

/// Where builds and compiled components are kept between test runs: the
/// cargo target directory the tests run from.
fn options() -> TestOptions {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(Path::to_owned))
        });
    TestOptions {
        build: fusio::project::BuildOptions {
            target_dir: target.as_ref().map(|t| t.join("fusio-test/build")),
        },
        cache_dir: target.map(|t| t.join("fusio-test/cwasm")),
        // A project on PostgreSQL, MySQL or Redis is tested on those
        // databases only when the tests are told they are for tests.
        shared_databases: std::env::var("FUSIO_TEST_SHARED_DATABASES")
            .is_ok_and(|v| v == "1" || v == "true"),
    }
}

impl Project {
    /// Deploys the project in `file` (relative paths start at the crate
    /// running the test); panics with the file's problems when it is
    /// refused, as a failed test should.
    pub async fn load(file: impl AsRef<Path>) -> Self {
        let file = file.as_ref();
        match TestServer::start(file, &options()).await {
            Ok(server) => Self { server },
            Err(err) => panic!("{} cannot be served: {err}", file.display()),
        }
    }

    /// The server underneath, for requests the helpers here do not make.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// An access token holding `scopes`.
    pub async fn token(&self, scopes: &[&str]) -> String {
        self.server
            .token(scopes)
            .await
            .unwrap_or_else(|err| panic!("no token for {scopes:?}: {err}"))
    }

    /// Runs SQL on one of the project's connections before the test.
    pub async fn fixture(&self, connection: &str, sql: &str) {
        self.server
            .sql(connection, sql)
            .await
            .unwrap_or_else(|err| panic!("{err}"));
    }

    /// `GET uri`, anonymous.
    pub async fn get(&self, uri: &str) -> Answer {
        Answer(self.server.get(uri).await)
    }

    /// `GET uri` with a bearer token.
    pub async fn get_with(&self, uri: &str, token: &str) -> Answer {
        self.send(
            Request::get(uri).header("authorization", format!("Bearer {token}")),
            Body::empty(),
        )
        .await
    }

    /// `POST uri` with a JSON body and a bearer token.
    pub async fn post_json(&self, uri: &str, token: &str, body: Value) -> Answer {
        self.send(
            Request::post(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json"),
            Body::from(body.to_string()),
        )
        .await
    }

    /// Any request.
    pub async fn send(&self, request: http::request::Builder, body: Body) -> Answer {
        let request = request.body(body).expect("a valid request");
        Answer(self.server.send(request).await)
    }
}

/// What the server answered, with assertions that say what they saw.
#[derive(Debug, Clone)]
pub struct Answer(pub TestResponse);

impl Answer {
    /// Panics unless the status is `status`.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.0.status.as_u16(),
            status,
            "the answer was {}: {}",
            self.0.status,
            self.0.text()
        );
        self
    }

    /// Panics unless the JSON body includes `expected` (objects may hold
    /// more keys, arrays more items after the given ones).
    #[track_caller]
    pub fn assert_json_includes(&self, expected: Value) -> &Self {
        let config = assert_json_diff::Config::new(assert_json_diff::CompareMode::Inclusive);
        if let Err(diff) =
            assert_json_diff::assert_json_matches_no_panic(&self.json(), &expected, config)
        {
            panic!(
                "the answer does not include what was expected: {diff}\nanswer: {}",
                self.0.text()
            );
        }
        self
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        self.0.json()
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.0.header(name)
    }
}
