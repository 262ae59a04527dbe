//! Developer login through external identity providers, against a fake
//! provider on loopback (authorize, token and userinfo endpoints): one
//! OAuth2 provider shaped like GitHub and one OpenID Connect provider.

use crate::support::{Backend, PROTECTED_ECHO, TestApp};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fusio::auth::social::ProviderSettings;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What the fake provider knows: the user it vouches for, the client it
/// serves, and the challenges of the codes it issued.
#[derive(Clone)]
struct Fake {
    userinfo: serde_json::Value,
    /// What the GitHub-shaped emails endpoint lists.
    emails: serde_json::Value,
    client: (String, String),
    codes: Arc<Mutex<HashMap<String, String>>>,
}

async fn authorize(
    State(fake): State<Fake>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], fake.client.0);
    assert_eq!(query["code_challenge_method"], "S256");
    let code = format!("code-{}", fake.codes.lock().unwrap().len());
    fake.codes
        .lock()
        .unwrap()
        .insert(code.clone(), query["code_challenge"].clone());
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        query["redirect_uri"], query["state"]
    ))
    .into_response()
}

async fn token(
    State(fake): State<Fake>,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", fake.client.0, fake.client.1));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Basic {basic}"))
    {
        return (
            http::StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let challenge = fake.codes.lock().unwrap().remove(&form["code"]);
    if challenge != Some(fusio::auth::secret::pkce_s256(&form["code_verifier"])) {
        return (
            http::StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "error": "invalid_grant" })),
        )
            .into_response();
    }
    axum::Json(serde_json::json!({ "access_token": "provider-token", "token_type": "bearer" }))
        .into_response()
}

async fn userinfo_endpoint(State(fake): State<Fake>, headers: http::HeaderMap) -> Response {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some("Bearer provider-token") => axum::Json(fake.userinfo.clone()).into_response(),
        _ => http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn emails_endpoint(State(fake): State<Fake>, headers: http::HeaderMap) -> Response {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some("Bearer provider-token") => axum::Json(fake.emails.clone()).into_response(),
        _ => http::StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Starts a fake provider vouching for `userinfo`; answers its settings.
async fn fake_provider(name: &str, userinfo: serde_json::Value) -> ProviderSettings {
    fake_provider_listing(name, userinfo, serde_json::json!([])).await
}

/// Starts a fake provider vouching for `userinfo` whose emails endpoint
/// (GitHub's shape) lists `emails`; answers its settings.
async fn fake_provider_listing(
    name: &str,
    userinfo: serde_json::Value,
    emails: serde_json::Value,
) -> ProviderSettings {
    let fake = Fake {
        userinfo,
        emails,
        client: (format!("{name}-client"), format!("{name}-secret")),
        codes: Arc::default(),
    };
    let router = axum::Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo_endpoint))
        .route("/emails", get(emails_endpoint))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    ProviderSettings {
        name: name.into(),
        client_id: fake.client.0,
        client_secret: fake.client.1,
        authorize_url: Some(format!("{base}/authorize")),
        token_url: Some(format!("{base}/token")),
        userinfo_url: Some(format!("{base}/userinfo")),
        emails_url: (name == "github").then(|| format!("{base}/emails")),
        scopes: None,
    }
}

/// The browser's part: Fusio's redirect to the provider, the provider's
/// redirect back, and Fusio's answer to that.
async fn log_in_with(app: &TestApp, provider: &str) -> crate::support::app::TestResponse {
    let start = app.get(&format!("/consumer/provider/{provider}")).await;
    assert_eq!(start.status, 303, "{}", start.text());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = http
        .get(start.header("location").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    let callback = reqwest::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        callback.path(),
        format!("/consumer/provider/{provider}/callback")
    );
    app.get(&format!(
        "{}?{}",
        callback.path(),
        callback.query().unwrap()
    ))
    .await
}

async fn whoami(app: &TestApp, login: &crate::support::app::TestResponse) -> serde_json::Value {
    assert_eq!(login.status, 200, "{}", login.text());
    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let me = app.get_bearer("/authorization/whoami", &token).await;
    assert_eq!(me.status, 200, "{}", me.text());
    me.json()
}

#[tokio::test]
async fn an_oauth2_provider_creates_the_developer_once_and_logs_them_in_again() {
    let github = fake_provider_listing(
        "github",
        serde_json::json!({ "id": 4242, "login": "octo cat", "email": "public@example.org" }),
        serde_json::json!([
            { "email": "old@example.org", "primary": false, "verified": true },
            { "email": "octo@example.org", "primary": true, "verified": true },
        ]),
    )
    .await;
    let app = TestApp::start_with(Backend::Sqlite, PROTECTED_ECHO, |options| {
        options.providers = vec![github]
    })
    .await;

    let first = whoami(&app, &log_in_with(&app, "github").await).await;
    assert_eq!(first["name"], "octo-cat");
    assert_eq!(first["email"], "octo@example.org");
    assert_eq!(first["role"], "Consumer");
    assert_eq!(first["app"], "developer");
    let again = whoami(&app, &log_in_with(&app, "github").await).await;
    assert_eq!(
        again["id"], first["id"],
        "the identity is linked, not created twice"
    );

    app.get("/consumer/provider/nowhere")
        .await
        .assert_problem(404);
    let forged = app
        .get("/consumer/provider/github/callback?code=code-9&state=made-up")
        .await;
    forged.assert_problem_saying(400, "state");
}

#[tokio::test]
async fn an_openid_connect_provider_links_the_account_with_the_same_email() {
    let oidc = fake_provider("corp", serde_json::json!({ "sub": "f81d4fae", "email": "ada@example.org", "email_verified": true, "preferred_username": "ada.l" })).await;
    let app = app_with_ada(vec![oidc]).await;

    let me = whoami(&app, &log_in_with(&app, "corp").await).await;
    assert_eq!(me["name"], "ada", "linked to the existing account by email");
    assert_eq!(
        app.state.store.count_users().await.unwrap(),
        2,
        "admin and ada, nobody new"
    );
}

/// An existing developer account `ada@example.org` on an app whose
/// providers are `providers`.
async fn app_with_ada(providers: Vec<ProviderSettings>) -> TestApp {
    let app = TestApp::start_with(Backend::Sqlite, PROTECTED_ECHO, |options| {
        options.providers = providers
    })
    .await;
    fusio::auth::accounts::add_user(
        &app.state.store,
        &fusio::auth::accounts::Account {
            name: "ada",
            email: Some("ada@example.org"),
            password: "ada's password",
            role: "Consumer",
            scopes: &[],
        },
    )
    .await
    .unwrap();
    app
}

#[tokio::test]
async fn an_unverified_email_never_links_to_the_account_that_has_it() {
    // OpenID Connect without `email_verified`, with it false, and GitHub
    // whose primary address with that email is not verified.
    let providers = vec![
        fake_provider(
            "absent",
            serde_json::json!({ "sub": "a1", "email": "ada@example.org" }),
        )
        .await,
        fake_provider(
            "unconfirmed",
            serde_json::json!({ "sub": "u1", "email": "ada@example.org", "email_verified": false }),
        )
        .await,
        fake_provider_listing(
            "github",
            serde_json::json!({ "id": 7, "login": "mallory", "email": "ada@example.org" }),
            serde_json::json!([{ "email": "ada@example.org", "primary": true, "verified": false }]),
        )
        .await,
    ];
    let app = app_with_ada(providers).await;
    for provider in ["absent", "unconfirmed", "github"] {
        let refused = log_in_with(&app, provider).await;
        refused.assert_problem_saying(409, "does not confirm that ada@example.org is verified");
        assert!(
            refused.json().get("access_token").is_none(),
            "{provider}: no token"
        );
    }
    assert_eq!(
        app.state.store.count_users().await.unwrap(),
        2,
        "admin and ada: no account was created with the taken email"
    );
    let ada = app.state.store.user_by_name("ada").await.unwrap().unwrap();
    for (provider, id) in [("absent", "a1"), ("unconfirmed", "u1"), ("github", "7")] {
        assert!(
            app.state
                .store
                .user_by_identity(provider, id)
                .await
                .unwrap()
                .is_none(),
            "{provider} is not linked to ada ({})",
            ada.id
        );
    }
}

#[tokio::test]
async fn an_unverified_email_that_nobody_has_makes_an_account_without_it() {
    let oidc = fake_provider("corp", serde_json::json!({ "sub": "n1", "email": "new@example.org", "preferred_username": "newcomer" })).await;
    let app = app_with_ada(vec![oidc]).await;
    let me = whoami(&app, &log_in_with(&app, "corp").await).await;
    assert_eq!(me["name"], "newcomer");
    assert!(
        me["email"].is_null(),
        "an address the provider does not vouch for is not kept: {me}"
    );
}
