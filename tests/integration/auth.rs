//! OAuth2 and protected routes: the grants end to end, refresh rotation,
//! revocation, forged tokens, scopes, and the first-start bootstrap.

use crate::support::{Backend, TestApp, on_both_stores};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fusio::auth::keys::Keys;
use fusio::auth::{Claims, Jwt, password, secret};
use fusio::store::identity::{NewApp, NewUser, Status};

const PROJECT: &str = r#"
routes:
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
  /other:
    methods:
      GET: { action: echo, scopes: [other.write] }
  /open:
    methods:
      GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
"#;

const ADMIN_PASSWORD: &str = "a long admin password";

async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, PROJECT, |options| {
        options.admin_password = Some(ADMIN_PASSWORD.into());
    })
    .await
}

/// A developer `dev` (password `dev password`) whose role holds
/// `echo.read`, and a confidential app of theirs allowed `echo.read`.
/// Answers the client id and secret.
async fn developer_app(app: &TestApp) -> (String, String) {
    let store = &app.state.store;
    store.ensure_role("Consumer", &["echo.read"]).await.unwrap();
    let hash = password::hash("dev password");
    let user = store
        .create_user(&NewUser {
            name: "dev",
            email: Some("dev@example.org"),
            status: Status::Active,
            password_hash: Some(&hash),
            role: "Consumer",
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
            scopes: &["echo.read".into()],
        })
        .await
        .unwrap();
    (client_id, client_secret)
}

fn assert_oauth_error(response: &crate::support::app::TestResponse, status: u16, error: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    assert_eq!(response.json()["error"], error, "{}", response.text());
    assert!(response.json()["error_description"].is_string());
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

async fn client_credentials_reach_a_protected_route(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = developer_app(&app).await;

    let anonymous = app.get("/private").await;
    anonymous.assert_problem(401);
    assert!(
        anonymous
            .header("www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );

    let issued = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            Some((&client_id, &client_secret)),
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    assert_eq!(issued.header("cache-control"), Some("no-store"));
    let body = issued.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "echo.read");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body.get("refresh_token").is_none(),
        "RFC 6749 4.4.3: no refresh token"
    );
    let token = body["access_token"].as_str().unwrap();

    let called = app.get_bearer("/private", token).await;
    assert_eq!(called.status, 200, "{}", called.text());
    let context = &called.json()["context"];
    assert_eq!(context["app"], client_id.as_str());
    assert_eq!(context["scopes"], serde_json::json!(["echo.read"]));
    let user = app.state.store.user_by_name("dev").await.unwrap().unwrap();
    assert_eq!(context["user"], user.id.to_string());

    // The same client with its credentials in the body works too.
    let in_body = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client_id),
                ("client_secret", &client_secret),
                ("scope", "echo.read"),
            ],
            None,
        )
        .await;
    assert_eq!(in_body.status, 200, "{}", in_body.text());

    // A valid token without the route's scope is refused with 403.
    let forbidden = app.get_bearer("/other", token).await;
    forbidden.assert_problem(403);
    let challenge = forbidden.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"other.write\""), "{challenge}");

    // Public routes serve anonymous callers.
    assert_eq!(app.get("/open").await.status, 200);
}

async fn refresh_tokens_rotate_and_a_replay_ends_the_grant(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = developer_app(&app).await;
    let client = Some((client_id.as_str(), client_secret.as_str()));

    let first = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "password"),
                ("username", "dev"),
                ("password", "dev password"),
            ],
            client,
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let first_refresh = first.json()["refresh_token"].as_str().unwrap().to_owned();

    let second = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &first_refresh),
            ],
            client,
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.text());
    let second_access = second.json()["access_token"].as_str().unwrap().to_owned();
    let second_refresh = second.json()["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(app.get_bearer("/private", &second_access).await.status, 200);

    // The used refresh token is dead, and replaying it revokes the grant.
    let replay = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &first_refresh),
            ],
            client,
        )
        .await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    app.get_bearer("/private", &second_access)
        .await
        .assert_problem(401);
    let after_replay = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &second_refresh),
            ],
            client,
        )
        .await;
    assert_oauth_error(&after_replay, 400, "invalid_grant");

    // A wrong password is invalid_grant and issues nothing.
    let wrong = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "password"),
                ("username", "dev"),
                ("password", "nope"),
            ],
            client,
        )
        .await;
    assert_oauth_error(&wrong, 400, "invalid_grant");
}

async fn a_revoked_token_is_refused_at_once(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = developer_app(&app).await;
    let client = Some((client_id.as_str(), client_secret.as_str()));
    let issued = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            client,
        )
        .await;
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_bearer("/private", &token).await.status, 200);

    let introspected = app
        .post_form("/authorization/introspect", &[("token", &token)], client)
        .await;
    assert_eq!(
        introspected.json()["active"],
        true,
        "{}",
        introspected.text()
    );
    assert_eq!(introspected.json()["scope"], "echo.read");

    let revoked = app
        .post_form("/authorization/revoke", &[("token", &token)], client)
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    let refused = app.get_bearer("/private", &token).await;
    refused.assert_problem(401);
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let introspected = app
        .post_form("/authorization/introspect", &[("token", &token)], client)
        .await;
    assert_eq!(introspected.json(), serde_json::json!({ "active": false }));
}

on_both_stores!(
    client_credentials_reach_a_protected_route,
    refresh_tokens_rotate_and_a_replay_ends_the_grant,
    a_revoked_token_is_refused_at_once,
);

/// Replaces the header or payload segment of a JWT.
fn with_segment(token: &str, index: usize, json: &serde_json::Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[index] = URL_SAFE_NO_PAD.encode(json.to_string());
    parts.join(".")
}

fn segment(token: &str, index: usize) -> serde_json::Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let app = start(Backend::Sqlite).await;
    let (client_id, client_secret) = developer_app(&app).await;
    let issued = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            Some((&client_id, &client_secret)),
        )
        .await;
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get_bearer("/private", &token).await.status, 200);
    let header = segment(&token, 0);
    let claims: Claims = serde_json::from_value(segment(&token, 1)).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");

    // The server's own key, to sign claims that are wrong in one way each.
    let issuer = app.state.auth.jwt().issuer().to_owned();
    let own = Jwt::new(
        Keys::load_or_create(&app.state.store).await.unwrap(),
        issuer,
    );
    let now = claims.iat;
    let expired = own.sign(&Claims {
        exp: now - 10,
        iat: now - 100,
        ..claims.clone()
    });
    let foreign_audience = own.sign(&Claims {
        aud: "https://elsewhere.example".into(),
        ..claims.clone()
    });
    let foreign_issuer = own.sign(&Claims {
        iss: "https://elsewhere.example".into(),
        ..claims.clone()
    });
    let unrecorded = own.sign(&Claims {
        jti: "never-issued".into(),
        ..claims.clone()
    });

    let mut more_scopes = segment(&token, 1);
    more_scopes["scope"] = "echo.read other.write".into();
    let tampered = with_segment(&token, 1, &more_scopes);
    let mut unknown_kid = header.clone();
    unknown_kid["kid"] = "0000000000000000".into();
    let unknown_kid = with_segment(&token, 0, &unknown_kid);
    let alg_none = {
        let none = with_segment(
            &token,
            0,
            &serde_json::json!({ "alg": "none", "typ": "JWT" }),
        );
        let cut = none.rfind('.').unwrap();
        format!("{}.", &none[..cut])
    };
    let hs256 = with_segment(
        &token,
        0,
        &serde_json::json!({ "alg": "HS256", "kid": header["kid"] }),
    );

    for (what, forged, reason) in [
        ("expired", expired.as_str(), "expired"),
        ("wrong audience", &foreign_audience, "not valid"),
        ("wrong issuer", &foreign_issuer, "not valid"),
        ("never issued", &unrecorded, "revoked"),
        ("tampered payload", &tampered, "not valid"),
        ("unknown kid", &unknown_kid, "unknown"),
        ("alg none", &alg_none, "malformed"),
        ("alg HS256", &hs256, "malformed"),
        ("not a JWT", "abc", "malformed"),
    ] {
        let response = app.get_bearer("/private", forged).await;
        let problem = response.assert_problem(401);
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(reason), "{what}: {detail}");
        assert!(
            response
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn bad_token_requests_get_rfc_6749_errors() {
    let app = start(Backend::Sqlite).await;
    let (client_id, client_secret) = developer_app(&app).await;
    let client = Some((client_id.as_str(), client_secret.as_str()));

    let json = app
        .send(
            http::Request::post("/authorization/token")
                .header("content-type", "application/json")
                .header("authorization", "Basic eDp5")
                .body(axum::body::Body::from(
                    r#"{"grant_type":"client_credentials"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_oauth_error(&json, 400, "invalid_request");

    let unknown = app
        .post_form("/authorization/token", &[("grant_type", "magic")], client)
        .await;
    assert_oauth_error(&unknown, 400, "unsupported_grant_type");

    let missing = app.post_form("/authorization/token", &[], client).await;
    assert_oauth_error(&missing, 400, "invalid_request");
    assert!(
        missing.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("grant_type")
    );

    let repeated = app
        .send(
            http::Request::post("/authorization/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(
                    "grant_type=client_credentials&grant_type=password",
                ))
                .unwrap(),
        )
        .await;
    assert_oauth_error(&repeated, 400, "invalid_request");

    let long = "x".repeat(5000);
    let oversized = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "password"),
                ("username", &long),
                ("password", "p"),
            ],
            client,
        )
        .await;
    assert_oauth_error(&oversized, 400, "invalid_request");

    let wrong_secret = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            Some((&client_id, "wrong")),
        )
        .await;
    assert_oauth_error(&wrong_secret, 401, "invalid_client");
    assert_eq!(
        wrong_secret.header("www-authenticate"),
        Some("Basic realm=\"Fusio\"")
    );

    let unknown_client = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "nobody"),
                ("client_secret", "x"),
            ],
            None,
        )
        .await;
    assert_oauth_error(&unknown_client, 401, "invalid_client");

    let bad_scope = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials"), ("scope", "backend")],
            client,
        )
        .await;
    assert_oauth_error(&bad_scope, 400, "invalid_scope");
}

#[tokio::test]
async fn the_first_start_creates_the_admin_and_the_backend_app() {
    let app = start(Backend::Sqlite).await;
    // The backend app is a public client: the admin logs in with a password.
    let login = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "password"),
                ("client_id", "fusio"),
                ("username", "admin"),
                ("password", ADMIN_PASSWORD),
            ],
            None,
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let body = login.json();
    assert_eq!(body["scope"], "authorization backend consumer");
    let token = body["access_token"].as_str().unwrap();

    let me = app.get_bearer("/authorization/whoami", token).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["name"], "admin");
    assert_eq!(me.json()["role"], "Administrator");
    assert_eq!(me.json()["app"], "fusio");

    // A public client cannot use client_credentials.
    let cc = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials"), ("client_id", "fusio")],
            None,
        )
        .await;
    assert_oauth_error(&cc, 400, "unauthorized_client");

    // The JWKS publishes the key the token names; the metadata the issuer.
    let kid = segment(token, 0)["kid"].clone();
    let jwks = app.get("/authorization/jwks").await.json();
    assert_eq!(jwks["keys"][0]["kid"], kid);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    let metadata = app
        .get("/.well-known/oauth-authorization-server")
        .await
        .json();
    assert_eq!(metadata["issuer"], app.state.auth.jwt().issuer());
    assert_eq!(
        metadata["token_endpoint"],
        format!("{}/authorization/token", app.state.auth.jwt().issuer())
    );

    // A restart keeps the users and the signing key: the token still works.
    let app = app.restart(false).await;
    assert_eq!(app.state.store.count_users().await.unwrap(), 1);
    assert_eq!(
        app.get_bearer("/authorization/whoami", token).await.status,
        200
    );
}
