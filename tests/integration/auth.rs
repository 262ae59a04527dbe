//! OAuth2 and protected routes: the grants end to end, refresh rotation,
//! revocation, forged tokens, scopes, and the first-start bootstrap.

use crate::support::{Backend, TestApp, on_both_stores};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fusio::auth::keys::Keys;
use fusio::auth::{Claims, Jwt, secret};
use fusio::store::identity::NewApp;

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

fn assert_oauth_error(response: &crate::support::app::TestResponse, status: u16, error: &str) {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    assert_eq!(response.json()["error"], error, "{}", response.text());
    assert!(response.json()["error_description"].is_string());
    assert_eq!(response.header("cache-control"), Some("no-store"));
}

async fn client_credentials_reach_a_protected_route(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = app.developer_app("echo.read").await;

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

    // Neither the secret nor the token ever reaches the log.
    for secret in [client_secret.as_str(), token] {
        assert!(
            crate::support::logs::lines_with(secret).is_empty(),
            "logged: {secret}"
        );
    }
}

async fn refresh_tokens_rotate_and_a_replay_ends_the_grant(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = app.developer_app("echo.read").await;
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
    let (client_id, client_secret) = app.developer_app("echo.read").await;
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
    let (client_id, client_secret) = app.developer_app("echo.read").await;
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
    let (client_id, client_secret) = app.developer_app("echo.read").await;
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

    // None of it issued anything.
    let page = fusio::store::Page {
        search: None,
        start: 0,
        count: 1,
    };
    let (issued, _) = app.state.store.list_tokens(page, None).await.unwrap();
    assert_eq!(issued, 0, "a refused token request records no token");
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

const REDIRECT: &str = "http://client.example/cb";

/// A confidential app with `REDIRECT` registered, for the code flow; uses
/// the developer of [`TestApp::developer_app`]. Answers client id and secret.
async fn code_flow_app(app: &TestApp) -> (String, String) {
    app.developer_app("echo.read").await;
    let user = app.state.store.user_by_name("dev").await.unwrap().unwrap();
    let (client_id, client_secret) = ("web-client".to_owned(), secret::generate());
    app.state
        .store
        .create_app(&NewApp {
            user_id: user.id,
            name: "Web <client>",
            client_id: &client_id,
            secret_hash: Some(&secret::hash(&client_secret)),
            redirect_uris: &[REDIRECT.to_owned()],
            scopes: &["echo.read".into()],
        })
        .await
        .unwrap();
    (client_id, client_secret)
}

/// The query parameters of a redirect's `Location`.
fn location_params(
    response: &crate::support::app::TestResponse,
) -> std::collections::HashMap<String, String> {
    assert_eq!(response.status, 303, "{}", response.text());
    let location = response.header("location").expect("a redirect");
    assert!(location.starts_with(REDIRECT), "{location}");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

async fn the_code_flow_with_pkce_issues_a_token_once(backend: Backend) {
    let app = start(backend).await;
    let (client_id, client_secret) = code_flow_app(&app).await;
    let client = Some((client_id.as_str(), client_secret.as_str()));
    let verifier = secret::generate() + "-and-more-entropy";
    let challenge = secret::pkce_s256(&verifier);
    let params = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "echo.read"),
        ("state", "xyz\"<>"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();

    let page = app.get(&format!("/authorization/authorize?{query}")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(
        html.contains("Web &lt;client&gt;"),
        "the app name is escaped: {html}"
    );
    assert!(
        html.contains("value=\"xyz&quot;&lt;&gt;\""),
        "state is escaped: {html}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));

    let wrong = [
        &params[..],
        &[
            ("username", "dev"),
            ("password", "nope"),
            ("decision", "allow"),
        ],
    ]
    .concat();
    let wrong = app
        .post_form("/authorization/authorize", &wrong, None)
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("username or password is wrong"));

    let denied = [&params[..], &[("decision", "deny")]].concat();
    let denied = location_params(
        &app.post_form("/authorization/authorize", &denied, None)
            .await,
    );
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "xyz\"<>");

    let allowed = [
        &params[..],
        &[
            ("username", "dev"),
            ("password", "dev password"),
            ("decision", "allow"),
        ],
    ]
    .concat();
    let allowed = location_params(
        &app.post_form("/authorization/authorize", &allowed, None)
            .await,
    );
    assert_eq!(allowed["state"], "xyz\"<>");
    let code = allowed["code"].clone();

    let exchange = |verifier: String| {
        let code = code.clone();
        let app = &app;
        async move {
            app.post_form(
                "/authorization/token",
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                ],
                client,
            )
            .await
        }
    };
    let wrong_verifier = exchange(secret::generate()).await;
    assert_oauth_error(&wrong_verifier, 400, "invalid_grant");
    // The failed attempt used the code up: a code is good for one try.
    let after_failure = exchange(verifier.clone()).await;
    assert_oauth_error(&after_failure, 400, "invalid_grant");

    // A second round that succeeds, then a replay that revokes its token.
    let allowed = [
        &params[..],
        &[
            ("username", "dev"),
            ("password", "dev password"),
            ("decision", "allow"),
        ],
    ]
    .concat();
    let code = location_params(
        &app.post_form("/authorization/authorize", &allowed, None)
            .await,
    )["code"]
        .clone();
    let token_request = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let issued = app
        .post_form("/authorization/token", &token_request, client)
        .await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    assert_eq!(issued.json()["scope"], "echo.read");
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    let called = app.get_bearer("/private", &token).await;
    assert_eq!(called.status, 200);
    let replay = app
        .post_form("/authorization/token", &token_request, client)
        .await;
    assert_oauth_error(&replay, 400, "invalid_grant");
    app.get_bearer("/private", &token).await.assert_problem(401);
}

on_both_stores!(the_code_flow_with_pkce_issues_a_token_once);

#[tokio::test]
async fn bad_authorization_requests_are_shown_or_sent_back() {
    let app = start(Backend::Sqlite).await;
    let (client_id, _) = code_flow_app(&app).await;
    let challenge = secret::pkce_s256(&secret::generate());
    let authorize = |pairs: Vec<(&str, &str)>| {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let app = &app;
        async move { app.get(&format!("/authorization/authorize?{query}")).await }
    };
    let base = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", REDIRECT),
        ("state", "s1"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let with = |name: &'static str, value: &'static str| {
        let mut pairs: Vec<(&str, &str)> =
            base.iter().filter(|(n, _)| *n != name).copied().collect();
        if !value.is_empty() {
            pairs.push((name, value));
        }
        pairs
    };

    // The client or redirect URI cannot be trusted: a page, never a redirect.
    for (pairs, reason) in [
        (
            with("redirect_uri", "http://evil.example/cb"),
            "not registered",
        ),
        (with("client_id", "nobody"), "unknown"),
        (with("client_id", ""), "client_id is missing"),
    ] {
        let response = authorize(pairs).await;
        assert_eq!(response.status, 400, "{}", response.text());
        assert!(response.header("location").is_none());
        assert!(response.text().contains(reason), "{}", response.text());
    }
    // Everything else goes back to the client with the error and state.
    for (pairs, error) in [
        (with("code_challenge_method", "plain"), "invalid_request"),
        (with("code_challenge", ""), "invalid_request"),
        (with("response_type", "token"), "unsupported_response_type"),
    ] {
        let params = location_params(&authorize(pairs).await);
        assert_eq!(params["error"], error);
        assert_eq!(params["state"], "s1");
    }
}

/// The `oauth2` crate, a standard client library, against a served Fusio:
/// client credentials, and the code flow with PKCE.
#[tokio::test]
async fn a_standard_oauth2_client_library_completes_both_flows() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse, TokenUrl,
    };
    let app = start(Backend::Sqlite).await;
    let (client_id, client_secret) = code_flow_app(&app).await;
    let base = app.serve().await;
    let client = BasicClient::new(ClientId::new(client_id))
        .set_client_secret(ClientSecret::new(client_secret))
        .set_auth_uri(AuthUrl::new(format!("{base}/authorization/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(format!("{base}/authorization/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("echo.read".into()))
        .request_async(&http)
        .await
        .expect("client_credentials");
    let called = app
        .get_bearer("/private", token.access_token().secret())
        .await;
    assert_eq!(called.status, 200, "{}", called.text());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("echo.read".into()))
        .set_pkce_challenge(challenge)
        .url();
    // The browser: open the page, then submit the form it shows.
    let page = http.get(url.clone()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.extend([
        ("username".into(), "dev".into()),
        ("password".into(), "dev password".into()),
        ("decision".into(), "allow".into()),
    ]);
    let answer = http
        .post(format!("{base}/authorization/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(&params["state"], csrf.secret());
    let token = client
        .exchange_code(AuthorizationCode::new(params["code"].clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("authorization_code with PKCE");
    assert!(token.refresh_token().is_some());
    let called = app
        .get_bearer("/private", token.access_token().secret())
        .await;
    assert_eq!(called.status, 200, "{}", called.text());
}

/// A password grant as sent from the client address `ip`.
async fn password_from(
    app: &TestApp,
    ip: [u8; 4],
    client: (&str, Option<&str>),
    user: &str,
    password: &str,
) -> crate::support::app::TestResponse {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client.0),
        ("username", user),
        ("password", password),
    ];
    if let Some(secret) = client.1 {
        form.push(("client_secret", secret));
    }
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = http::Request::post("/authorization/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            ip, 40000,
        ))));
    app.send(request).await
}

#[tokio::test]
async fn repeated_failed_logins_are_throttled_per_account_and_per_address() {
    use fusio::auth::throttle::{ACCOUNT_FAILURES, ADDRESS_FAILURES, WINDOW};
    let app = start(Backend::Sqlite).await;
    let (client_id, client_secret) = code_flow_app(&app).await;
    let dev = (client_id.as_str(), Some(client_secret.as_str()));
    let backend = ("fusio", None);

    for _ in 0..ACCOUNT_FAILURES {
        let wrong = password_from(&app, [10, 0, 0, 1], dev, "dev", "wrong password").await;
        assert_oauth_error(&wrong, 400, "invalid_grant");
    }
    // Now even the right password waits from that address...
    let blocked = password_from(&app, [10, 0, 0, 1], dev, "dev", "dev password").await;
    assert_oauth_error(&blocked, 429, "temporarily_unavailable");
    assert_eq!(
        blocked.header("retry-after"),
        Some(WINDOW.as_secs().to_string().as_str())
    );
    // ...and the login page from there refuses it too.
    let challenge = secret::pkce_s256(&secret::generate());
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("username", "dev"),
            ("password", "dev password"),
            ("decision", "allow"),
        ])
        .finish();
    let mut request = http::Request::post("/authorization/authorize")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(form))
        .unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 1],
            40000,
        ))));
    let page = app.send(request).await;
    assert_eq!(page.status, 429, "{}", page.text());
    assert!(page.text().contains("Too many failed sign-ins"));
    assert!(page.header("location").is_none(), "no code was issued");
    // The owner, from an address that has not failed, is not locked out.
    let owner = password_from(&app, [10, 0, 0, 9], dev, "dev", "dev password").await;
    assert_eq!(owner.status, 200, "{}", owner.text());
    // Another account is not affected.
    let admin = password_from(&app, [10, 0, 0, 2], backend, "admin", ADMIN_PASSWORD).await;
    assert_eq!(admin.status, 200, "{}", admin.text());

    // One address guessing many names is stopped across accounts.
    for n in 0..ADDRESS_FAILURES {
        let name = format!("ghost{n}");
        let wrong = password_from(&app, [10, 0, 0, 3], backend, &name, "guess").await;
        assert_oauth_error(&wrong, 400, "invalid_grant");
    }
    let from_guesser = password_from(&app, [10, 0, 0, 3], backend, "admin", ADMIN_PASSWORD).await;
    assert_oauth_error(&from_guesser, 429, "temporarily_unavailable");
    let elsewhere = password_from(&app, [10, 0, 0, 4], backend, "admin", ADMIN_PASSWORD).await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.text());
}

/// The raw `private_key` column of every signing key, as the store keeps it.
async fn raw_signing_keys(app: &TestApp) -> Vec<(String, String)> {
    use sqlx::Connection;
    let mut conn = app.store_connection().await;
    let rows = sqlx::query_as("SELECT kid, private_key FROM fusio_signing_key ORDER BY kid")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let _ = conn.close().await;
    rows
}

async fn signing_keys_are_sealed_and_an_older_store_is_sealed_on_start(backend: Backend) {
    let app = start(backend).await;
    let token = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    let jwks = app.get("/authorization/jwks").await.json();
    let opened = app.state.store.signing_keys().await.unwrap();
    let stored = raw_signing_keys(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].1.starts_with("sealed:v1:"), "{}", stored[0].1);
    assert!(
        !stored[0].1.contains(&opened[0].private_key),
        "no seed in clear"
    );

    // A store written by an older Fusio holds the key in clear.
    {
        use sqlx::Connection;
        let mut conn = app.store_connection().await;
        sqlx::query("UPDATE fusio_signing_key SET private_key = $1 WHERE kid = $2")
            .bind(&opened[0].private_key)
            .bind(&opened[0].kid)
            .execute(&mut conn)
            .await
            .unwrap();
        let _ = conn.close().await;
    }
    let app = app.restart(false).await;
    let resealed = raw_signing_keys(&app).await;
    assert!(resealed[0].1.starts_with("sealed:v1:"), "sealed on start");
    assert_eq!(app.get("/authorization/jwks").await.json(), jwks);
    let me = app.get_bearer("/authorization/whoami", &token).await;
    assert_eq!(me.status, 200, "a token signed before still verifies");
    let fresh = app.password_token("fusio", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        app.get_bearer("/authorization/whoami", &fresh).await.status,
        200
    );
}

on_both_stores!(signing_keys_are_sealed_and_an_older_store_is_sealed_on_start);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_on_one_node_count_on_every_node_of_the_store() {
    let first = start(Backend::Postgres).await;
    let (url, key) = (
        first.options.database_url.clone(),
        first.options.secret_key_file.clone(),
    );
    let second = TestApp::start_with(Backend::Postgres, crate::support::PROTECTED_ECHO, |o| {
        o.database_url = url;
        o.secret_key_file = key;
    })
    .await;
    let backend = ("fusio", None);
    for _ in 0..fusio::auth::throttle::ACCOUNT_FAILURES {
        let wrong = password_from(&first, [10, 0, 0, 1], backend, "admin", "wrong").await;
        assert_oauth_error(&wrong, 400, "invalid_grant");
    }
    let elsewhere = password_from(&second, [10, 0, 0, 1], backend, "admin", ADMIN_PASSWORD).await;
    assert_oauth_error(&elsewhere, 429, "temporarily_unavailable");
    let owner = password_from(&second, [10, 0, 0, 2], backend, "admin", ADMIN_PASSWORD).await;
    assert_eq!(owner.status, 200, "{}", owner.text());
}
