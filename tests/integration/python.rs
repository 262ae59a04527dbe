//! Python actions, built with componentize-py when deployed: called beside
//! a JavaScript and a Rust action, reaching the cache and the log through
//! the `fusio` module, stopped by the timeout in an endless loop, and
//! failing as a 500 problem whose traceback only the error log holds.

use crate::request_log::error_of;
use crate::support::{Backend, TestApp};
use serde_json::json;
use std::path::Path;

const ADMIN_PASSWORD: &str = "admin password";

/// One module for every route here, so the suite builds and compiles one
/// Python component.
const MODULE: &str = r#"
import fusio


def handle(request, context, connector, response, dispatcher, logger):
    path = request.context.path
    if path.endswith("/spin"):
        while True:
            pass
    if path.endswith("/throws"):
        raise RuntimeError("secret " + request.get("token", ""))
    hits = fusio.cache.incr("hits")
    logger.info("greeted", name=request.get("name", "World"))
    return response.build(200, {"x-language": "python"}, {
        "message": "Hello " + request.get("name", "World") + "!",
        "hits": hits,
        "route": context.route,
        "greeting": context.config.get("greeting"),
    })
"#;

const HELLO_JS: &str = "module.exports = (request, context, connector, response) =>\n  response.build(200, {}, { message: `Hello ${request.get('name')}!` });\n";

async fn start(dir: &Path) -> TestApp {
    std::fs::write(dir.join("pyhello.py"), MODULE).unwrap();
    std::fs::write(dir.join("hello.js"), HELLO_JS).unwrap();
    let yaml = format!(
        r#"
routes:
  /py/:name:
    methods:
      GET: {{ action: python, public: true }}
  /py/loop/spin:
    methods:
      GET: {{ action: python, public: true }}
  /py/fail/throws:
    methods:
      GET: {{ action: python, public: true }}
  /js/:name:
    methods:
      GET: {{ action: js, public: true }}
  /rust:
    methods:
      GET: {{ action: rust, public: true }}
action:
  python:
    component: "{dir}/pyhello.py"
    config:
      greeting: hi
    limits:
      timeout: 2s
  js:
    component: "{dir}/hello.js"
  rust:
    component: "{{guest:echo}}"
"#,
        dir = dir.display()
    );
    TestApp::start_with(Backend::Sqlite, &yaml, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_javascript_and_rust_actions_are_deployed_together_and_called() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;

    let first = app.get("/py/Ada?name=Grace").await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.header("x-language"), Some("python"));
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert_eq!(
        first.json(),
        json!({ "message": "Hello Ada!", "hits": 1, "route": "/py/:name", "greeting": "hi" }),
        "uri fragments win over the query"
    );
    assert_eq!(
        app.get("/py/Ada").await.json()["hits"],
        2,
        "the cache is kept"
    );

    let js = app.get("/js/Lin").await;
    assert_eq!(js.status, 200, "{}", js.text());
    assert_eq!(js.json(), json!({ "message": "Hello Lin!" }));
    assert_eq!(app.get("/rust").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_loop_is_stopped_and_a_raise_is_a_500_problem() {
    let dir = tempfile::tempdir().unwrap();
    let app = start(dir.path()).await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;

    let started = std::time::Instant::now();
    let spun = app.get("/py/loop/spin").await;
    spun.assert_problem(504);
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert_eq!(
        error_of(&app, &token, &spun).await["error"]["kind"],
        "timeout"
    );

    let thrown = app.get("/py/fail/throws?token=t0p").await;
    let problem = thrown.assert_problem(500);
    assert!(!problem.to_string().contains("t0p"), "{problem}");
    let entry = error_of(&app, &token, &thrown).await;
    let message = entry["error"]["message"].as_str().unwrap();
    assert!(message.contains("RuntimeError: secret t0p"), "{message}");
    assert!(
        message.contains("pyhello.py"),
        "the traceback names the file: {message}"
    );
}
