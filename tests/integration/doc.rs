//! `/doc`: the documentation of the served revision, for the example
//! project (snapshots) and for who sees which versions.

use crate::support::guests::root;
use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::Request;

async fn examples() -> TestApp {
    TestApp::start_with(Backend::Sqlite, "", |options| {
        options.deploy = Some(root().join("fusio.yml"));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_project_is_documented() {
    let app = examples().await;
    let index = app.get("/doc").await;
    assert_eq!(index.status, 200, "{}", index.text());
    insta::assert_json_snapshot!("doc_index", index.json());

    // Two versions, one deprecated; a protected method; a schema that
    // refers to another, carried with it; a query parameter.
    let todo = app.get("/doc/*/todo").await;
    assert_eq!(todo.status, 200, "{}", todo.text());
    insta::assert_json_snapshot!("doc_todo", todo.json());
    let greet_v1 = app.get("/doc/1/greet/:id").await.json();
    assert_eq!(greet_v1["status"], "deprecated");
    let greet = app.get("/doc/*/greet/:id").await.json();
    assert_eq!(greet["version"], 2);
    insta::assert_json_snapshot!("doc_greet_v1", greet_v1);

    app.get("/doc/3/greet/:id")
        .await
        .assert_problem_saying(404, "/greet/:id");
    app.get("/doc/*/nothing").await.assert_problem(404);
    app.get("/doc/one/todo")
        .await
        .assert_problem_saying(404, "not a version");
}

const LIFECYCLE: &str = r#"
routes:
  /things:
    versions:
      1:
        status: closed
        methods:
          GET: { action: echo, public: true }
      2:
        methods:
          GET: { action: echo, public: true }
      3:
        status: development
        methods:
          GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
"#;

#[tokio::test]
async fn development_versions_are_shown_to_the_backend_only_and_closed_ones_never() {
    let app = TestApp::start_with(Backend::Sqlite, LIFECYCLE, |options| {
        options.admin_password = Some("admin password".into());
    })
    .await;
    let versions = |doc: serde_json::Value| -> Vec<u64> {
        doc["routes"][0]["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(versions(app.get("/doc").await.json()), [2]);
    app.get("/doc/3/things").await.assert_problem(404);
    app.get("/doc/1/things").await.assert_problem(404);

    let token = app.password_token("fusio", "admin", "admin password").await;
    let as_admin = |uri: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.send(
                Request::get(uri)
                    .header("authorization", format!("Bearer {token}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    assert_eq!(versions(as_admin("/doc").await.json()), [2, 3]);
    assert_eq!(
        as_admin("/doc/3/things").await.json()["status"],
        "development"
    );
    as_admin("/doc/1/things").await.assert_problem(404);
}
