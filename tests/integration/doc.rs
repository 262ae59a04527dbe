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
    assert_eq!(greet_v1["sunset"], "2027-06-30");
    // The version's answers say when it ends (RFC 8594).
    let answer = app
        .send(
            Request::get("/greet/7")
                .header("accept", "application/vnd.fusio.v1+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        answer.header("sunset"),
        Some("Wed, 30 Jun 2027 00:00:00 GMT")
    );
    assert_eq!(answer.header("deprecation"), Some("true"));
    // So do the version's refusals, which the gateway answers itself.
    let refused = app
        .send(
            Request::delete("/greet/7")
                .header("accept", "application/vnd.fusio.v1+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, 405, "{}", refused.text());
    assert_eq!(
        refused.header("sunset"),
        Some("Wed, 30 Jun 2027 00:00:00 GMT")
    );
    assert_eq!(refused.header("deprecation"), Some("true"));
    assert_eq!(app.get("/greet/7").await.header("sunset"), None);
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

/// `/todo/:id` in OpenAPI's syntax, and its path parameters.
fn openapi_path(path: &str) -> (String, Vec<String>) {
    let mut names = Vec::new();
    let segments: Vec<String> = path
        .split('/')
        .map(|segment| match segment.strip_prefix([':', '*']) {
            Some(name) if !name.is_empty() => {
                names.push(name.to_owned());
                format!("{{{name}}}")
            }
            _ => segment.to_owned(),
        })
        .collect();
    (segments.join("/"), names)
}

/// What /doc documents, operation by operation: its OpenAPI path, method,
/// query and path parameter names, and scopes.
async fn documented_operations(app: &TestApp) -> Vec<serde_json::Value> {
    let index = app.get("/doc").await.json();
    let mut expected = Vec::new();
    for route in index["routes"].as_array().unwrap() {
        let path = route["path"].as_str().unwrap();
        let detail = app.get(&format!("/doc/*{path}")).await.json();
        let (openapi_path, path_parameters) = openapi_path(path);
        for (method, doc) in detail["methods"].as_object().unwrap() {
            let query: Vec<&str> = doc["parameters"]
                .as_array()
                .map(|ps| ps.iter().map(|p| p["name"].as_str().unwrap()).collect())
                .unwrap_or_default();
            expected.push(serde_json::json!({
                "path": openapi_path,
                "method": method,
                "query": query,
                "pathParameters": path_parameters,
                "scopes": doc["scopes"].as_array().cloned().unwrap_or_default(),
            }));
        }
    }
    expected
}

/// Runs a third-party checker from tests/tools on `document` and the
/// operations /doc documents; panics with what it says when it refuses.
fn third_party_check(command: &str, script: &str, document: &str, expected: &[serde_json::Value]) {
    let dir = tempfile::tempdir().unwrap();
    let document_file = dir.path().join("document");
    let expected_file = dir.path().join("expected.json");
    std::fs::write(&document_file, document).unwrap();
    std::fs::write(&expected_file, serde_json::to_string(expected).unwrap()).unwrap();
    let output = std::process::Command::new(command)
        .arg(root().join("tests/tools").join(script))
        .arg(&document_file)
        .arg(&expected_file)
        .output()
        .unwrap_or_else(|err| panic!("{command} runs: {err}"));
    assert!(
        output.status.success(),
        "{script} refuses the export:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_raml_export_parses_in_amf_and_holds_what_doc_says() {
    let app = examples().await;
    let export = app.get("/export/raml/*/*").await;
    assert_eq!(export.status, 200, "{}", export.text());
    assert_eq!(export.header("content-type"), Some("application/raml+yaml"));
    let text = export.text();
    assert!(text.starts_with("#%RAML 1.0\n"), "{text}");
    let expected = documented_operations(&app).await;
    third_party_check("node", "raml_check.js", &text, &expected);
    insta::assert_snapshot!("raml_examples", text);
    let v1 = app.get("/export/raml/1/greet/:id").await.text();
    assert!(v1.contains("(deprecated): true"), "{v1}");
    app.get("/export/raml/9/todo").await.assert_problem(404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_export_passes_a_validator_and_holds_what_doc_says() {
    let app = examples().await;
    let export = app.get("/export/openapi/*/*").await;
    assert_eq!(export.status, 200, "{}", export.text());
    let document = export.json();
    assert_eq!(document["openapi"], "3.1.0");

    let expected = documented_operations(&app).await;
    assert!(expected.len() >= 10, "{expected:?}");
    third_party_check(
        "python3",
        "openapi_check.py",
        &document.to_string(),
        &expected,
    );
    insta::assert_json_snapshot!("openapi_examples", document);

    // A deprecated version is marked; YAML on request; unknown selections are 404.
    let v1 = app.get("/export/openapi/1/greet/:id").await.json();
    assert_eq!(v1["paths"]["/greet/{id}"]["get"]["deprecated"], true);
    let yaml = app.get("/export/openapi/*/todo?format=yaml").await;
    assert_eq!(yaml.header("content-type"), Some("application/yaml"));
    let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml.text()).unwrap();
    assert_eq!(from_yaml, app.get("/export/openapi/*/todo").await.json());
    app.get("/export/openapi/7/todo").await.assert_problem(404);
    app.get("/export/openapi/*/nothing")
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn the_system_api_is_exported_with_the_oauth2_scheme() {
    let app = TestApp::start(Backend::Sqlite, "").await;
    let export = app.get("/export/openapi/system").await;
    assert_eq!(export.status, 200, "{}", export.text());
    let document = export.json();
    for path in [
        "/backend/user",
        "/backend/deploy",
        "/consumer/login",
        "/consumer/app",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is missing");
    }
    let scheme = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "oauth2");
    let scopes = &scheme["flows"]["authorizationCode"]["scopes"];
    assert!(scopes["backend.user"].is_string(), "{scopes}");
    assert!(
        scheme["flows"]["clientCredentials"]["tokenUrl"]
            .as_str()
            .unwrap()
            .ends_with("/authorization/token")
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("system.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\nfrom openapi_spec_validator import validate\nvalidate(json.load(open(sys.argv[1])))",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the system API's document is not valid OpenAPI:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
