//! The `/backend` API: every route guarded by its scope, the collection
//! envelope, `~name` lookups, and revoking tokens.

use crate::support::{Backend, TestApp, on_both_stores};
use http::{Method, Request};

use crate::support::PROTECTED_ECHO as PROJECT;

async fn start() -> TestApp {
    start_on(Backend::Sqlite).await
}

async fn start_on(backend: Backend) -> TestApp {
    TestApp::start_with(backend, PROJECT, |options| {
        options.admin_password = Some("admin password".into());
    })
    .await
}

async fn token(app: &TestApp, client: &str, user: &str, password: &str) -> String {
    app.password_token(client, user, password).await
}

async fn call(
    app: &TestApp,
    method: &Method,
    uri: &str,
    token: Option<&str>,
) -> crate::support::app::TestResponse {
    let mut request = Request::builder().method(method.clone()).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(request.body(axum::body::Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn every_backend_route_needs_a_token_with_a_backend_scope() {
    let app = start().await;
    // A developer with a public app and a project scope, but no backend scope.
    fusio::auth::accounts::add_user(
        &app.state.store,
        &fusio::auth::accounts::Account {
            name: "dev",
            email: None,
            password: "dev password",
            role: "Consumer",
            scopes: &["echo.read".into()],
        },
    )
    .await
    .unwrap();
    let dev_app = fusio::auth::accounts::add_app(
        &app.state.store,
        &fusio::auth::accounts::AppRequest {
            owner: "dev",
            name: "Dev app",
            scopes: &["echo.read".into(), "consumer".into()],
            redirect_uris: &[],
            public: true,
        },
    )
    .await
    .unwrap();
    let weak = token(&app, &dev_app.client_id, "dev", "dev password").await;

    let spec = fusio::api::backend::openapi();
    let mut walked = 0;
    for (path, item) in &spec.paths.paths {
        let uri: Vec<&str> = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect();
        let uri = uri.join("/");
        let operations = [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::DELETE, item.delete.is_some()),
            (Method::PATCH, item.patch.is_some()),
        ];
        for (method, _) in operations.iter().filter(|(_, present)| *present) {
            assert!(uri.starts_with("/backend/"), "{uri}");
            let anonymous = call(&app, method, &uri, None).await;
            anonymous.assert_problem(401);
            assert!(
                anonymous
                    .header("www-authenticate")
                    .unwrap()
                    .contains("invalid_token")
            );
            let forbidden = call(&app, method, &uri, Some(&weak)).await;
            forbidden.assert_problem(403);
            let challenge = forbidden.header("www-authenticate").unwrap();
            assert!(
                challenge.contains("insufficient_scope") && challenge.contains("backend."),
                "{challenge}"
            );
            walked += 1;
        }
    }
    assert!(walked >= 8, "only {walked} operations were walked");
}

#[tokio::test]
async fn the_admin_lists_looks_up_and_revokes() {
    let app = start().await;
    let admin = token(&app, "fusio", "admin", "admin password").await;

    let users = call(&app, &Method::GET, "/backend/user", Some(&admin)).await;
    assert_eq!(users.status, 200, "{}", users.text());
    let users = users.json();
    assert_eq!(users["totalResults"], 1);
    assert_eq!(users["startIndex"], 0);
    assert_eq!(users["itemsPerPage"], 16);
    assert_eq!(users["entry"][0]["name"], "admin");
    assert!(users["entry"][0].get("passwordHash").is_none());

    let by_name = call(&app, &Method::GET, "/backend/user/~admin", Some(&admin)).await;
    assert_eq!(by_name.json()["role"], "Administrator");
    call(&app, &Method::GET, "/backend/user/~nobody", Some(&admin))
        .await
        .assert_problem(404);
    let bad = call(&app, &Method::GET, "/backend/user/abc", Some(&admin)).await;
    bad.assert_problem_saying(400, "~name");

    let scopes = call(
        &app,
        &Method::GET,
        "/backend/scope?search=backend.&count=2&startIndex=1",
        Some(&admin),
    )
    .await;
    let scopes = scopes.json();
    assert_eq!(scopes["itemsPerPage"], 2);
    assert_eq!(scopes["startIndex"], 1);
    assert_eq!(scopes["entry"].as_array().unwrap().len(), 2);
    assert!(scopes["totalResults"].as_i64().unwrap() >= 10);
    let literal = call(
        &app,
        &Method::GET,
        "/backend/scope?search=echo_read",
        Some(&admin),
    )
    .await;
    assert_eq!(
        literal.json()["totalResults"],
        0,
        "`_` in a search is literal"
    );
    let invalid = call(
        &app,
        &Method::GET,
        "/backend/scope?count=5000",
        Some(&admin),
    )
    .await;
    invalid.assert_problem_saying(400, "`count`");

    let apps = call(
        &app,
        &Method::GET,
        "/backend/app/~Fusio backend".replace(' ', "%20").as_str(),
        Some(&admin),
    )
    .await;
    assert_eq!(apps.status, 200, "{}", apps.text());
    assert_eq!(apps.json()["clientId"], "fusio");
    assert_eq!(apps.json()["public"], true);

    let roles = call(&app, &Method::GET, "/backend/role", Some(&admin))
        .await
        .json();
    assert_eq!(roles["entry"][0]["name"], "Administrator");
    assert_eq!(
        roles["entry"][0]["scopes"],
        serde_json::json!(["authorization", "backend", "consumer"])
    );
    assert_eq!(roles["entry"][1]["name"], "Consumer");

    let tokens = call(&app, &Method::GET, "/backend/token", Some(&admin))
        .await
        .json();
    let jti = tokens["entry"][0]["jti"].as_str().unwrap().to_owned();
    let revoked = call(
        &app,
        &Method::DELETE,
        &format!("/backend/token/{jti}"),
        Some(&admin),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert_eq!(revoked.json()["success"], true);
    // That was the admin's own token: it no longer works.
    call(&app, &Method::GET, "/backend/user", Some(&admin))
        .await
        .assert_problem(401);
}

async fn send_json(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: serde_json::Value,
    token: &str,
) -> crate::support::app::TestResponse {
    send_json_if(app, method, uri, body, token, None).await
}

/// Like `send_json`, with an `If-Match` header.
async fn send_json_if(
    app: &TestApp,
    method: Method,
    uri: &str,
    body: serde_json::Value,
    token: &str,
    if_match: Option<&str>,
) -> crate::support::app::TestResponse {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    app.send(
        request
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn the_admin_creates_disables_and_deletes_users() {
    let app = start().await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let new_user = |name: &str, password: &str, role: &str| serde_json::json!({ "name": name, "email": format!("{name}@example.org"), "password": password, "role": role });

    let created = send_json(
        &app,
        Method::POST,
        "/backend/user",
        new_user("eve", "eve's password", "Consumer"),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    send_json(
        &app,
        Method::POST,
        "/backend/user",
        new_user("eve", "eve's password", "Consumer"),
        &admin,
    )
    .await
    .assert_problem(409);
    send_json(
        &app,
        Method::POST,
        "/backend/user",
        new_user("weak", "short", "Consumer"),
        &admin,
    )
    .await
    .assert_problem(400);
    let unknown_role = send_json(
        &app,
        Method::POST,
        "/backend/user",
        new_user("zed", "zed's password", "Wizard"),
        &admin,
    )
    .await;
    unknown_role.assert_problem_saying(400, "Wizard");
    assert!(app.state.store.user_by_name("zed").await.unwrap().is_none());

    let eve = token(&app, "developer", "eve", "eve's password").await;
    let bad_role = send_json(
        &app,
        Method::PUT,
        "/backend/user/~eve",
        serde_json::json!({ "role": "Wizard" }),
        &admin,
    )
    .await;
    bad_role.assert_problem(400);
    let disabled = send_json(
        &app,
        Method::PUT,
        "/backend/user/~eve",
        serde_json::json!({ "status": "disabled" }),
        &admin,
    )
    .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    call(&app, &Method::GET, "/authorization/whoami", Some(&eve))
        .await
        .assert_problem(401);
    let refused = app
        .post_form(
            "/authorization/token",
            &[
                ("grant_type", "password"),
                ("client_id", "developer"),
                ("username", "eve"),
                ("password", "eve's password"),
            ],
            None,
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert_eq!(
        call(&app, &Method::GET, "/backend/user/~eve", Some(&admin))
            .await
            .json()["status"],
        "disabled"
    );

    call(&app, &Method::DELETE, "/backend/user/~admin", Some(&admin))
        .await
        .assert_problem(409);
    let deleted = call(&app, &Method::DELETE, "/backend/user/~eve", Some(&admin)).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    call(&app, &Method::GET, "/backend/user/~eve", Some(&admin))
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn the_admin_creates_and_deletes_apps_but_not_fusios_own() {
    let app = start().await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let created = send_json(
        &app,
        Method::POST,
        "/backend/app",
        serde_json::json!({ "user": "admin", "name": "Reporting", "scopes": ["backend.audit"] }),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let (client_id, secret) = (
        created.json()["clientId"].as_str().unwrap().to_owned(),
        created.json()["clientSecret"].as_str().unwrap().to_owned(),
    );
    let reporting = app.client_credentials(&client_id, &secret).await;
    call(
        &app,
        &Method::GET,
        "/authorization/whoami",
        Some(&reporting),
    )
    .await;

    let unknown_owner = send_json(
        &app,
        Method::POST,
        "/backend/app",
        serde_json::json!({ "user": "nobody", "name": "Orphan", "scopes": ["backend"] }),
        &admin,
    )
    .await;
    unknown_owner.assert_problem_saying(400, "nobody");
    let listed = call(
        &app,
        &Method::GET,
        "/backend/app?search=Orphan",
        Some(&admin),
    )
    .await;
    assert_eq!(
        listed.json()["totalResults"],
        0,
        "a refused app is not half created"
    );

    // Narrowing its scopes ends the tokens it holds; an unknown scope changes nothing.
    let unknown = send_json(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "scopes": ["nope"] }),
        &admin,
    )
    .await;
    unknown.assert_problem_saying(400, "nope");
    assert_eq!(
        call(
            &app,
            &Method::GET,
            "/authorization/whoami",
            Some(&reporting)
        )
        .await
        .status,
        200
    );
    assert_eq!(
        call(&app, &Method::GET, "/backend/app/~Reporting", Some(&admin))
            .await
            .json()["scopes"],
        serde_json::json!(["backend.audit"])
    );
    let narrowed = send_json(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "scopes": ["backend.token"] }),
        &admin,
    )
    .await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.text());
    call(
        &app,
        &Method::GET,
        "/authorization/whoami",
        Some(&reporting),
    )
    .await
    .assert_problem(401);
    let reporting = app.client_credentials(&client_id, &secret).await;
    let disabled = send_json(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "status": "disabled" }),
        &admin,
    )
    .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    call(
        &app,
        &Method::GET,
        "/authorization/whoami",
        Some(&reporting),
    )
    .await
    .assert_problem(401);
    let refused = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            Some((&client_id, &secret)),
        )
        .await;
    assert_eq!(
        refused.status,
        401,
        "a disabled app gets no token: {}",
        refused.text()
    );
    send_json(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "status": "active" }),
        &admin,
    )
    .await;
    let reporting = app.client_credentials(&client_id, &secret).await;
    call(
        &app,
        &Method::DELETE,
        "/backend/app/~Fusio%20backend",
        Some(&admin),
    )
    .await
    .assert_problem(409);
    let deleted = call(
        &app,
        &Method::DELETE,
        "/backend/app/~Reporting",
        Some(&admin),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    call(
        &app,
        &Method::GET,
        "/authorization/whoami",
        Some(&reporting),
    )
    .await
    .assert_problem(401);
}

#[tokio::test]
async fn the_admin_creates_scopes_and_deletes_unused_ones() {
    let app = start().await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let scope = |name: &str| serde_json::json!({ "name": name, "description": "reports" });

    let created = send_json(
        &app,
        Method::POST,
        "/backend/scope",
        scope("reports.read"),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    send_json(
        &app,
        Method::POST,
        "/backend/scope",
        scope("reports.read"),
        &admin,
    )
    .await
    .assert_problem(409);
    send_json(
        &app,
        Method::POST,
        "/backend/scope",
        scope("backend.x"),
        &admin,
    )
    .await
    .assert_problem(400);
    send_json(
        &app,
        Method::POST,
        "/backend/scope",
        scope("two words"),
        &admin,
    )
    .await
    .assert_problem(400);

    let in_use = call(
        &app,
        &Method::DELETE,
        "/backend/scope/~echo.read",
        Some(&admin),
    )
    .await;
    in_use.assert_problem_saying(409, "route methods");
    call(
        &app,
        &Method::DELETE,
        "/backend/scope/~backend",
        Some(&admin),
    )
    .await
    .assert_problem(409);
    call(
        &app,
        &Method::DELETE,
        "/backend/scope/~nothing",
        Some(&admin),
    )
    .await
    .assert_problem(404);
    let deleted = call(
        &app,
        &Method::DELETE,
        "/backend/scope/~reports.read",
        Some(&admin),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let left = call(
        &app,
        &Method::GET,
        "/backend/scope?search=reports",
        Some(&admin),
    )
    .await;
    assert_eq!(left.json()["totalResults"], 0);
}

on_both_stores!(
    a_stale_if_match_is_refused_and_changes_nothing,
    roles_are_created_changed_and_deleted,
    scopes_users_and_app_tokens_are_managed,
);

async fn a_stale_if_match_is_refused_and_changes_nothing(backend: Backend) {
    let app = start_on(backend).await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let created = send_json(
        &app,
        Method::POST,
        "/backend/app",
        serde_json::json!({ "user": "admin", "name": "Reporting", "scopes": ["backend.user"] }),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());

    let read = call(&app, &Method::GET, "/backend/app/~Reporting", Some(&admin)).await;
    let tag = read
        .header("etag")
        .expect("a single app has an ETag")
        .to_owned();
    // Two administrators read the same revision; the first update wins.
    let first = send_json_if(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "redirectUris": ["https://first.example/cb"] }),
        &admin,
        Some(&tag),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let new_tag = first
        .header("etag")
        .expect("an update answers the new ETag")
        .to_owned();
    assert_ne!(new_tag, tag);
    let second = send_json_if(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "redirectUris": ["https://second.example/cb"], "status": "disabled" }),
        &admin,
        Some(&tag),
    )
    .await;
    second.assert_problem_saying(412, "changed since you read it");
    let now = call(&app, &Method::GET, "/backend/app/~Reporting", Some(&admin)).await;
    assert_eq!(
        now.json()["redirectUris"],
        serde_json::json!(["https://first.example/cb"])
    );
    assert_eq!(now.json()["status"], "active");
    assert_eq!(now.header("etag"), Some(new_tag.as_str()));

    // A list naming the current tag matches; `*` always; a weak tag never.
    let listed = send_json_if(
        &app,
        Method::PUT,
        "/backend/app/~Reporting",
        serde_json::json!({ "name": "Reports" }),
        &admin,
        Some(&format!("{tag}, {new_tag}")),
    )
    .await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    send_json_if(
        &app,
        Method::PUT,
        "/backend/app/~Reports",
        serde_json::json!({ "name": "Reports 2" }),
        &admin,
        Some("*"),
    )
    .await;
    let weak = send_json_if(
        &app,
        Method::PUT,
        "/backend/app/~Reports 2".replace(' ', "%20").as_str(),
        serde_json::json!({ "name": "Reports 3" }),
        &admin,
        Some("W/\"4\""),
    )
    .await;
    weak.assert_problem(412);

    // The same for users, scopes and roles.
    let user = call(&app, &Method::GET, "/backend/user/~admin", Some(&admin)).await;
    let user_tag = user.header("etag").unwrap().to_owned();
    send_json_if(
        &app,
        Method::PUT,
        "/backend/user/~admin",
        serde_json::json!({ "scopes": [] }),
        &admin,
        Some("\"999\""),
    )
    .await
    .assert_problem(412);
    assert_eq!(
        call(&app, &Method::GET, "/backend/user/~admin", Some(&admin))
            .await
            .header("etag"),
        Some(user_tag.as_str()),
        "a refused update changes nothing"
    );
    send_json(
        &app,
        Method::POST,
        "/backend/scope",
        serde_json::json!({ "name": "reports", "description": "old" }),
        &admin,
    )
    .await;
    send_json_if(
        &app,
        Method::PUT,
        "/backend/scope/~reports",
        serde_json::json!({ "description": "new" }),
        &admin,
        Some("\"7\""),
    )
    .await
    .assert_problem(412);
    assert_eq!(
        call(&app, &Method::GET, "/backend/scope/~reports", Some(&admin))
            .await
            .json()["description"],
        "old"
    );
    send_json_if(
        &app,
        Method::PUT,
        "/backend/role/~Consumer",
        serde_json::json!({ "scopes": [] }),
        &admin,
        Some("\"7\""),
    )
    .await
    .assert_problem(412);
    assert_eq!(
        call(&app, &Method::GET, "/backend/role/~Consumer", Some(&admin))
            .await
            .json()["scopes"],
        serde_json::json!(["authorization", "consumer"])
    );
}

async fn roles_are_created_changed_and_deleted(backend: Backend) {
    let app = start_on(backend).await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let created = send_json(
        &app,
        Method::POST,
        "/backend/role",
        serde_json::json!({ "name": "Auditor", "scopes": ["backend.user", "backend.token"] }),
        &admin,
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    send_json(
        &app,
        Method::POST,
        "/backend/role",
        serde_json::json!({ "name": "Auditor" }),
        &admin,
    )
    .await
    .assert_problem(409);
    let unknown = send_json(
        &app,
        Method::POST,
        "/backend/role",
        serde_json::json!({ "name": "Spy", "scopes": ["no.such"] }),
        &admin,
    )
    .await;
    unknown.assert_problem_saying(400, "no.such");
    call(&app, &Method::GET, "/backend/role/~Spy", Some(&admin))
        .await
        .assert_problem(404);

    // A user with the role holds its scopes...
    send_json(
        &app,
        Method::POST,
        "/backend/user",
        serde_json::json!({ "name": "audrey", "password": "audrey's password", "role": "Auditor" }),
        &admin,
    )
    .await;
    let audrey = token(&app, "fusio", "audrey", "audrey's password").await;
    assert_eq!(
        call(&app, &Method::GET, "/backend/user", Some(&audrey))
            .await
            .status,
        200
    );
    call(&app, &Method::GET, "/backend/app", Some(&audrey))
        .await
        .assert_problem(403);
    let role = call(&app, &Method::GET, "/backend/role/~Auditor", Some(&admin)).await;
    assert_eq!(role.json()["users"], 1);
    assert_eq!(
        role.json()["scopes"],
        serde_json::json!(["backend.token", "backend.user"])
    );

    // ...and loses its token when the role loses a scope.
    let narrowed = send_json(
        &app,
        Method::PUT,
        "/backend/role/~Auditor",
        serde_json::json!({ "scopes": ["backend.token"] }),
        &admin,
    )
    .await;
    assert_eq!(narrowed.status, 200, "{}", narrowed.text());
    call(&app, &Method::GET, "/backend/token", Some(&audrey))
        .await
        .assert_problem(401);
    let audrey = token(&app, "fusio", "audrey", "audrey's password").await;
    assert_eq!(
        call(&app, &Method::GET, "/backend/token", Some(&audrey))
            .await
            .status,
        200
    );
    call(&app, &Method::GET, "/backend/user", Some(&audrey))
        .await
        .assert_problem(403);

    // Fusio's own roles keep their names, `Administrator` keeps `backend`.
    send_json(
        &app,
        Method::PUT,
        "/backend/role/~Consumer",
        serde_json::json!({ "name": "Devs" }),
        &admin,
    )
    .await
    .assert_problem(409);
    send_json(
        &app,
        Method::PUT,
        "/backend/role/~Administrator",
        serde_json::json!({ "scopes": ["consumer"] }),
        &admin,
    )
    .await
    .assert_problem_saying(409, "backend");
    call(
        &app,
        &Method::DELETE,
        "/backend/role/~Administrator",
        Some(&admin),
    )
    .await
    .assert_problem(409);
    // A role in use is not deleted; an unused one is.
    call(
        &app,
        &Method::DELETE,
        "/backend/role/~Auditor",
        Some(&admin),
    )
    .await
    .assert_problem_saying(409, "users still have");
    send_json(
        &app,
        Method::PUT,
        "/backend/user/~audrey",
        serde_json::json!({ "role": "Consumer" }),
        &admin,
    )
    .await;
    let deleted = call(
        &app,
        &Method::DELETE,
        "/backend/role/~Auditor",
        Some(&admin),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let roles = call(&app, &Method::GET, "/backend/role", Some(&admin))
        .await
        .json();
    assert_eq!(roles["totalResults"], 2);
}

async fn scopes_users_and_app_tokens_are_managed(backend: Backend) {
    let app = start_on(backend).await;
    let admin = token(&app, "fusio", "admin", "admin password").await;

    // A scope's description changes; a system scope's does not.
    send_json(
        &app,
        Method::POST,
        "/backend/scope",
        serde_json::json!({ "name": "reports" }),
        &admin,
    )
    .await;
    let changed = send_json(
        &app,
        Method::PUT,
        "/backend/scope/~reports",
        serde_json::json!({ "description": "read the reports" }),
        &admin,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    let scope = call(&app, &Method::GET, "/backend/scope/~reports", Some(&admin))
        .await
        .json();
    assert_eq!(scope["description"], "read the reports");
    assert_eq!(scope["grantedOn"], 0);
    let by_id = call(
        &app,
        &Method::GET,
        &format!("/backend/scope/{}", scope["id"]),
        Some(&admin),
    )
    .await;
    assert_eq!(by_id.json()["name"], "reports");
    send_json(
        &app,
        Method::PUT,
        "/backend/scope/~backend",
        serde_json::json!({ "description": "x" }),
        &admin,
    )
    .await
    .assert_problem(409);
    send_json(
        &app,
        Method::PUT,
        "/backend/scope/~reports",
        serde_json::json!({ "name": "renamed" }),
        &admin,
    )
    .await
    .assert_problem_saying(400, "unknown field");

    // A user's own scopes: granted, shown, and taken back with their tokens.
    send_json(
        &app,
        Method::POST,
        "/backend/user",
        serde_json::json!({ "name": "rita", "password": "rita's password", "role": "Consumer" }),
        &admin,
    )
    .await;
    let granted = send_json(
        &app,
        Method::PUT,
        "/backend/user/~rita",
        serde_json::json!({ "scopes": ["echo.read", "reports"] }),
        &admin,
    )
    .await;
    assert_eq!(granted.status, 200, "{}", granted.text());
    let rita = call(&app, &Method::GET, "/backend/user/~rita", Some(&admin))
        .await
        .json();
    assert_eq!(rita["scopes"], serde_json::json!(["echo.read", "reports"]));
    assert_eq!(rita["role"], "Consumer");
    let client = send_json(
        &app,
        Method::POST,
        "/backend/app",
        serde_json::json!({ "user": "admin", "name": "Echo client", "scopes": ["echo.read"], "public": true }),
        &admin,
    )
    .await
    .json();
    let client = client["clientId"].as_str().unwrap();
    let rita_token = token(&app, client, "rita", "rita's password").await;
    assert_eq!(app.get_bearer("/private", &rita_token).await.status, 200);
    send_json(
        &app,
        Method::PUT,
        "/backend/user/~rita",
        serde_json::json!({ "scopes": ["no.such"] }),
        &admin,
    )
    .await
    .assert_problem_saying(400, "no.such");
    assert_eq!(
        call(&app, &Method::GET, "/backend/user/~rita", Some(&admin))
            .await
            .json()["scopes"],
        serde_json::json!(["echo.read", "reports"]),
        "a refused update changes nothing"
    );
    assert_eq!(app.get_bearer("/private", &rita_token).await.status, 200);
    send_json(
        &app,
        Method::PUT,
        "/backend/user/~rita",
        serde_json::json!({ "scopes": [] }),
        &admin,
    )
    .await;
    assert_eq!(app.get_bearer("/private", &rita_token).await.status, 401);

    // An app's tokens, and only its own.
    let reporting = send_json(
        &app,
        Method::POST,
        "/backend/app",
        serde_json::json!({ "user": "admin", "name": "Reporting", "scopes": ["backend.user"] }),
        &admin,
    )
    .await
    .json();
    let client_id = reporting["clientId"].as_str().unwrap();
    let secret = reporting["clientSecret"].as_str().unwrap();
    app.client_credentials(client_id, secret).await;
    app.client_credentials(client_id, secret).await;
    let tokens = call(
        &app,
        &Method::GET,
        "/backend/app/~Reporting/token",
        Some(&admin),
    )
    .await;
    assert_eq!(tokens.status, 200, "{}", tokens.text());
    let tokens = tokens.json();
    assert_eq!(tokens["totalResults"], 2);
    let id = reporting["id"].as_str().unwrap().parse::<i64>().unwrap();
    assert!(
        tokens["entry"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["appId"] == id)
    );
    let all = call(&app, &Method::GET, "/backend/token", Some(&admin))
        .await
        .json();
    assert!(all["totalResults"].as_i64().unwrap() > 2);
    call(
        &app,
        &Method::GET,
        "/backend/app/~Nothing/token",
        Some(&admin),
    )
    .await
    .assert_problem(404);
}

#[tokio::test]
async fn requests_refused_before_a_handler_runs_get_problems_too() {
    let app = start().await;
    let admin = token(&app, "fusio", "admin", "admin password").await;
    let users_before = call(&app, &Method::GET, "/backend/user", Some(&admin))
        .await
        .json()["totalResults"]
        .clone();

    // A body over the 2 MB limit: 413, and no user.
    let huge = serde_json::json!({
        "name": "huge", "password": "x".repeat(3 << 20), "role": "Consumer"
    });
    let too_large = send_json(&app, Method::POST, "/backend/user", huge, &admin).await;
    too_large.assert_problem(413);
    assert!(too_large.json()["requestId"].is_string());
    // A query string that does not parse.
    call(&app, &Method::GET, "/backend/user?count=many", Some(&admin))
        .await
        .assert_problem_saying(400, "count");
    // A method the path does not have: 405 with `Allow`.
    let wrong = call(&app, &Method::PATCH, "/backend/user", Some(&admin)).await;
    wrong.assert_problem(405);
    assert!(
        wrong
            .header("allow")
            .is_some_and(|allow| allow.contains("POST"))
    );
    // The same on /consumer and /authorization.
    call(&app, &Method::PUT, "/consumer/register", None)
        .await
        .assert_problem(405);
    call(&app, &Method::DELETE, "/authorization/token", None)
        .await
        .assert_problem(405);

    let users_after = call(&app, &Method::GET, "/backend/user", Some(&admin))
        .await
        .json()["totalResults"]
        .clone();
    assert_eq!(users_before, users_after);
}
