//! The request path through the gateway: routing, what reaches the guest,
//! and how its answers and errors become HTTP.

use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::{Method, Request};

const ECHO: &str = r#"
routes:
  /echo/:id/$year<[0-9]+>/*rest:
    version: 3
    methods:
      GET: { action: echo, public: true }
      POST: { action: echo, public: true }
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
action:
  echo:
    component: "{guest:echo}"
    config:
      greeting: Hi
      answer: 42
      tags: [a, b]
"#;

#[tokio::test]
async fn uri_params_query_headers_and_body_reach_the_guest() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let response = app
        .send(
            Request::post("/echo/a%20b/2024/x/y.txt?q=one&q=two&name=J%C3%BCrgen")
                .header("X-Test", "present")
                .body(Body::from("hello body"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.text());
    let got = response.json();
    assert_eq!(got["method"], "POST");
    assert_eq!(got["path"], "/echo/a%20b/2024/x/y.txt");
    assert_eq!(
        got["uriParams"],
        serde_json::json!([["id", "a b"], ["year", "2024"], ["rest", "x/y.txt"]])
    );
    assert_eq!(
        got["query"],
        serde_json::json!([["q", "one"], ["q", "two"], ["name", "Jürgen"]])
    );
    assert_eq!(got["headers"]["x-test"], "present");
    assert_eq!(got["body"], "hello body");
    assert_eq!(got["context"]["route"], "/echo/:id/$year<[0-9]+>/*rest");
    assert_eq!(got["context"]["version"], 3);
    assert_eq!(got["context"]["requestId"], response.request_id());
    assert_eq!(
        got["config"],
        serde_json::json!([
            ["answer", "42"],
            ["greeting", "Hi"],
            ["tags", "[\"a\",\"b\"]"]
        ])
    );
}

#[tokio::test]
async fn a_regex_placeholder_that_does_not_match_is_not_found() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    app.get("/echo/a/20x4/rest").await.assert_problem(404);
}

#[tokio::test]
async fn unknown_paths_and_methods_are_problems() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let problem = app.get("/nothing/here").await.assert_problem(404);
    assert_eq!(problem["title"], "Not Found");
    let response = app.call(Method::DELETE, "/echo/1/2024/x").await;
    response.assert_problem(405);
    assert_eq!(response.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
}

#[tokio::test]
async fn head_runs_the_get_action_and_options_lists_the_methods() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let head = app.call(Method::HEAD, "/echo/1/2024/x").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("application/json"));
    let options = app.call(Method::OPTIONS, "/echo/1/2024/x").await;
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS, POST"));
    assert!(options.body.is_empty());
    let private = app.call(Method::OPTIONS, "/private").await;
    assert_eq!(private.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn reserved_system_paths_never_reach_the_gateway_routes() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let health = app.get("/system/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    assert_eq!(health.json()["revision"], 1);
    assert!(health.header("x-request-id").is_some());
}

#[tokio::test]
async fn a_non_public_route_needs_a_token() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let response = app.get("/private").await;
    response.assert_problem(401);
    let challenge = response.header("www-authenticate").unwrap();
    assert!(
        challenge.starts_with("Bearer realm=\"Fusio\", error=\"invalid_token\""),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_client_request_id_is_kept() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let response = app
        .send(
            Request::get("/echo/1/2024/x")
                .header("x-request-id", "client-chosen-id")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.request_id(), "client-chosen-id");
    assert_eq!(response.json()["context"]["requestId"], "client-chosen-id");
}

#[tokio::test]
async fn action_errors_map_to_their_status() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let problem = app
        .get("/echo/1/2024/x?fail=bad-request")
        .await
        .assert_problem(400);
    assert_eq!(problem["detail"], "you asked for it");

    let response = app.get("/echo/1/2024/x?fail=internal").await;
    let problem = response.assert_problem(500);
    assert!(
        !response.text().contains("secret internal detail"),
        "{problem}"
    );

    let problem = app
        .get("/echo/1/2024/x?fail=custom")
        .await
        .assert_problem(418);
    assert_eq!(problem["title"], "I'm a teapot");
    assert_eq!(problem["detail"], "short and stout");
}

#[tokio::test]
async fn an_invalid_response_header_is_a_500() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let response = app.get("/echo/1/2024/x?header=invalid").await;
    response.assert_problem(500);
    assert!(!response.text().contains("bad header"));
}

/// The response factory checks headers where the action builds them: the
/// action's error names the header (in the log), the client gets a 500.
#[tokio::test]
async fn the_response_factory_refuses_a_bad_header_where_it_is_built() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let made = app.get("/echo/1/2024/x?header=valid").await;
    assert_eq!(made.status, 201, "{}", made.text());
    assert_eq!(made.header("location"), Some("/echo/1"));
    assert_eq!(made.text(), "made");
    let refused = app.get("/echo/1/2024/x?header=built").await;
    refused.assert_problem(500);
    let logged = crate::support::logs::lines_with(&refused.request_id());
    assert!(
        logged
            .iter()
            .any(|line| line.contains("`bad header` is not a valid header name")),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_never_reaches_the_action() {
    let app = TestApp::start(Backend::Sqlite, ECHO).await;
    let body = vec![b'x'; fusio::gateway::MAX_BODY + 1];
    let response = app
        .send(
            Request::post("/echo/1/2024/x")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    let problem = response.assert_problem(413);
    assert!(
        problem["detail"].as_str().unwrap().contains("larger than"),
        "{problem}"
    );
    assert!(
        crate::support::logs::lines_with(&response.request_id()).is_empty(),
        "the action ran"
    );
}

const VALIDATED: &str = r#"
routes:
  /todo:
    methods:
      POST: { action: echo, public: true, request: Todo, response: Todo }
action:
  echo:
    component: "{guest:echo}"
schema:
  Todo:
    type: object
    properties:
      title: { type: string, minLength: 1 }
      done: { type: boolean }
    required: [title]
    additionalProperties: false
"#;

#[tokio::test]
async fn a_body_that_misses_the_request_schema_never_reaches_the_action() {
    let app = TestApp::start(Backend::Sqlite, VALIDATED).await;
    let post = |body: &'static str| {
        let app = &app;
        async move {
            app.send(
                Request::post("/todo")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    let ok = post(r#"{"title":"milk","done":false}"#).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json()["body"], r#"{"title":"milk","done":false}"#);

    let empty_title = post(r#"{"title":""}"#).await;
    let problem = empty_title.assert_problem(400);
    assert_eq!(problem["violations"][0]["pointer"], "/title");
    assert!(problem["detail"].as_str().unwrap().contains("`Todo`"));
    let extra = post(r#"{"title":"milk","owner":"me"}"#).await;
    extra.assert_problem_saying(400, "owner");
    let missing = post(r#"{}"#).await;
    missing.assert_problem_saying(400, "title");
    let not_json = post("not json").await;
    not_json.assert_problem_saying(400, "the body is not JSON");
    // The action logs a line per call: only the valid body reached it.
    let called = crate::support::logs::lines_with("echo called");
    assert!(called.iter().any(|line| line.contains(&ok.request_id())));
    for refused in [&empty_title, &extra, &missing, &not_json] {
        let id = refused.request_id();
        assert!(
            !called.iter().any(|line| line.contains(&id)),
            "{id} reached the action"
        );
    }
}

const REFERENCING: &str = r##"
routes:
  /order:
    methods:
      POST: { action: echo, public: true, request: Order }
action:
  echo:
    component: "{guest:echo}"
schema:
  Order:
    type: object
    properties:
      lines: { type: array, items: { $ref: "#/components/schemas/Line" }, minItems: 1 }
    required: [lines]
  Line:
    type: object
    properties:
      sku: { $ref: "#/$defs/sku" }
      quantity: { type: integer, minimum: 1 }
    required: [sku, quantity]
    $defs:
      sku: { type: string, pattern: "^[A-Z]{3}-[0-9]+$" }
"##;

#[tokio::test]
async fn a_schema_refers_to_another_and_the_nested_body_is_checked() {
    let app = TestApp::start(Backend::Sqlite, REFERENCING).await;
    let post = |body: &'static str| {
        let app = &app;
        async move {
            app.send(
                Request::post("/order")
                    .header("content-type", "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    let ok = post(r#"{"lines":[{"sku":"ABC-1","quantity":2}]}"#).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    // The referenced schema's own rules, and its own `#/$defs`, apply.
    let zero = post(r#"{"lines":[{"sku":"ABC-1","quantity":0}]}"#).await;
    let problem = zero.assert_problem(400);
    assert_eq!(problem["violations"][0]["pointer"], "/lines/0/quantity");
    let bad_sku = post(r#"{"lines":[{"sku":"abc","quantity":1}]}"#).await;
    let problem = bad_sku.assert_problem(400);
    assert_eq!(problem["violations"][0]["pointer"], "/lines/0/sku");
}

const PARAMETERS: &str = r#"
routes:
  /todo:
    methods:
      GET:
        action: echo
        public: true
        parameters:
          count: { type: integer, minimum: 1, maximum: 100 }
          sort: { type: string, enum: [asc, desc], required: true }
          done: { type: boolean, description: only finished todos }
action:
  echo:
    component: "{guest:echo}"
"#;

#[tokio::test]
async fn query_parameters_are_checked_before_the_action_runs() {
    let app = TestApp::start(Backend::Sqlite, PARAMETERS).await;
    let get = |uri: &'static str| {
        let app = &app;
        async move {
            app.send(Request::get(uri).body(Body::empty()).unwrap())
                .await
        }
    };
    let ok = get("/todo?sort=asc&count=10&done=true&other=x").await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    // The action gets the query as sent, strings and all.
    let query = ok.json()["query"].clone();
    assert!(query.to_string().contains(r#""count","10""#), "{query}");

    let wrong = get("/todo?count=0&done=yes").await;
    let problem = wrong.assert_problem(400);
    let named: Vec<&str> = problem["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["parameter"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["count", "done", "sort"], "{problem}");
    get("/todo?sort=sideways")
        .await
        .assert_problem_saying(400, "`sort`");
    get("/todo?sort=asc&count=many")
        .await
        .assert_problem_saying(400, "`many` is not an integer");
    let called = crate::support::logs::lines_with("echo called");
    assert!(
        !called.iter().any(|line| line.contains(&wrong.request_id())),
        "a refused query reached the action"
    );
}

const CHECKED_ANSWERS: &str = r#"
routes:
  /checked:
    versions:
      1:
        methods:
          GET: { action: echo, public: true, response: Strict }
      2:
        status: development
        methods:
          GET: { action: echo, public: true, response: Strict }
action:
  echo:
    component: "{guest:echo}"
schema:
  Strict:
    type: object
    required: [nothere]
"#;

#[tokio::test]
async fn a_development_version_logs_answers_that_miss_their_schema() {
    let app = TestApp::start(Backend::Sqlite, CHECKED_ANSWERS).await;
    let get = |accept: &'static str| {
        let app = &app;
        async move {
            app.send(
                Request::get("/checked")
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
        }
    };
    let development = get("application/vnd.acme.v2+json").await;
    assert_eq!(development.status, 200, "the answer still goes out");
    assert_eq!(development.json()["path"], "/checked");
    let logged = crate::support::logs::lines_with(&development.request_id());
    assert!(
        logged.iter().any(
            |l| l.contains("does not match its declared response schema") && l.contains("nothere")
        ),
        "{logged:?}"
    );
    let production = get("application/vnd.acme.v1+json").await;
    assert_eq!(production.status, 200);
    let logged = crate::support::logs::lines_with(&production.request_id());
    assert!(
        !logged.iter().any(|l| l.contains("response schema")),
        "production checks nothing: {logged:?}"
    );
}

const CONTENT_TYPES: &str = r#"
routes:
  /upload:
    methods:
      POST: { action: echo, public: true, contentTypes: [text/*, application/octet-stream] }
  /any:
    methods:
      POST: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
"#;

#[tokio::test]
async fn a_method_takes_the_media_types_it_declares_and_bodies_arrive_as_bytes() {
    let app = TestApp::start(Backend::Sqlite, CONTENT_TYPES).await;
    let post = |path: &'static str, content_type: Option<&'static str>, body: &'static str| {
        let app = &app;
        async move {
            let mut request = Request::post(path);
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            app.send(request.body(Body::from(body)).unwrap()).await
        }
    };
    let csv = post("/upload", Some("text/csv; charset=utf-8"), "a,b\n1,2\n").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.json()["body"], "a,b\n1,2\n");
    let untyped = post("/upload", None, "raw bytes").await;
    assert_eq!(
        untyped.status, 200,
        "a body without a type is application/octet-stream"
    );
    let json = post("/upload", Some("application/json"), "{}").await;
    let problem = json.assert_problem(415);
    assert!(
        problem["detail"].as_str().unwrap().contains("text/*"),
        "{problem}"
    );
    assert_eq!(
        json.header("accept-post"),
        Some("text/*, application/octet-stream")
    );
    let called = crate::support::logs::lines_with("echo called");
    assert!(!called.iter().any(|l| l.contains(&json.request_id())));
    // Without a declaration any body goes, form or binary alike.
    let form = post("/any", Some("application/x-www-form-urlencoded"), "a=1&b=2").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.json()["body"], "a=1&b=2");
}

const VERSIONED: &str = r#"
routes:
  /todo:
    versions:
      1:
        status: deprecated
        methods:
          GET: { action: v1, public: true }
      2:
        methods:
          GET: { action: v2, public: true }
      3:
        status: development
        methods:
          GET: { action: v2, public: true }
      4:
        status: closed
        methods:
          GET: { action: v2, public: true }
action:
  v1:
    component: "{guest:echo}"
    config: { generation: "1" }
  v2:
    component: "{guest:echo}"
    config: { generation: "2" }
"#;

#[tokio::test]
async fn the_accept_header_picks_the_route_version() {
    let app = TestApp::start(Backend::Sqlite, VERSIONED).await;
    let get = |accept: Option<&'static str>| {
        let app = &app;
        async move {
            let mut request = Request::get("/todo");
            if let Some(accept) = accept {
                request = request.header("accept", accept);
            }
            app.send(request.body(Body::empty()).unwrap()).await
        }
    };
    // No version named: the highest production version.
    let default = get(None).await;
    assert_eq!(default.status, 200, "{}", default.text());
    assert_eq!(crate::deploy::generation(&default.json()), "2");
    assert_eq!(default.json()["context"]["version"], 2);
    assert!(default.header("deprecation").is_none());
    // A deprecated version still answers, and says so.
    let old = get(Some("application/vnd.acme.v1+json")).await;
    assert_eq!(old.status, 200);
    assert_eq!(crate::deploy::generation(&old.json()), "1");
    assert_eq!(old.json()["context"]["version"], 1);
    assert_eq!(old.header("deprecation"), Some("true"));
    // A version in development answers when named.
    let next = get(Some("application/vnd.acme.v3+json")).await;
    assert_eq!(next.json()["context"]["version"], 3);
    // Closed: gone; unknown: not acceptable, naming what exists.
    get(Some("application/vnd.acme.v4+json"))
        .await
        .assert_problem_saying(410, "version 4");
    get(Some("application/vnd.acme.v9+json"))
        .await
        .assert_problem_saying(406, "v1, v2, v3");
    // A malformed Accept names no version: the default one answers.
    for malformed in [
        "application/vnd.acme.vX+json",
        "application/vnd..v+json;;q=",
        "text/html, */*;q=0.8, vnd.v2",
    ] {
        let answer = get(Some(malformed)).await;
        assert_eq!(answer.status, 200, "{malformed}: {}", answer.text());
        assert_eq!(answer.json()["context"]["version"], 2, "{malformed}");
    }
}
