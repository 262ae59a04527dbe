//! Cross-origin calls: a browser-style preflight is answered before any
//! token is checked, with the configured methods, headers and max-age, for
//! user routes and the system API alike; an origin that is not allowed gets
//! no CORS headers; a route may name its own origins.

use crate::support::{Backend, TestApp};
use http::{Method, Request};

const PROJECT: &str = r#"
routes:
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
  /partner:
    cors: { origins: ["https://partner.example"] }
    methods:
      GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
"#;

async fn start() -> TestApp {
    TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.cors = fusio::cors::CorsSettings::new(
            &["https://app.example".into()],
            &[],
            &[],
            true,
            std::time::Duration::from_secs(600),
        )
        .unwrap();
    })
    .await
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> crate::support::app::TestResponse {
    app.send(
        Request::builder()
            .method(Method::OPTIONS)
            .uri(path)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn an_allowed_origin_is_answered_before_any_token_is_checked() {
    let app = start().await;
    for path in ["/private", "/backend/user", "/authorization/token"] {
        let answer = preflight(&app, path, "https://app.example").await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.text());
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some("https://app.example"),
            "{path}"
        );
        let methods = answer.header("access-control-allow-methods").unwrap();
        assert!(
            methods.contains("GET") && methods.contains("DELETE"),
            "{methods}"
        );
        let headers = answer.header("access-control-allow-headers").unwrap();
        assert!(headers.contains("authorization"), "{headers}");
        assert_eq!(answer.header("access-control-max-age"), Some("600"));
        assert_eq!(
            answer.header("access-control-allow-credentials"),
            Some("true")
        );
    }
    // The call itself still needs its token, and says its request id to scripts.
    let call = app
        .send(
            Request::get("/private")
                .header("origin", "https://app.example")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    call.assert_problem(401);
    assert_eq!(
        call.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let exposed = call.header("access-control-expose-headers").unwrap();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers() {
    let app = start().await;
    let answer = preflight(&app, "/private", "https://evil.example").await;
    // Without `Access-Control-Allow-Origin` a browser refuses the answer;
    // nor is it told that credentials would be allowed.
    assert_eq!(answer.header("access-control-allow-origin"), None);
    assert_eq!(answer.header("access-control-allow-credentials"), None);
}

#[tokio::test]
async fn a_route_names_its_own_origins() {
    let app = start().await;
    let partner = preflight(&app, "/partner", "https://partner.example").await;
    assert_eq!(
        partner.header("access-control-allow-origin"),
        Some("https://partner.example")
    );
    let server_origin = preflight(&app, "/partner", "https://app.example").await;
    assert_eq!(server_origin.header("access-control-allow-origin"), None);
    // Elsewhere the partner is a stranger.
    let elsewhere = preflight(&app, "/private", "https://partner.example").await;
    assert_eq!(elsewhere.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn without_settings_no_origin_is_allowed() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    let answer = preflight(&app, "/private", "https://app.example").await;
    assert_eq!(answer.header("access-control-allow-origin"), None);
}
