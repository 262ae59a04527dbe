//! The developer portal's API: registration with a mailed activation link
//! through a real SMTP server (aiosmtpd), login, and the developer's apps.

use crate::support::{Backend, TestApp};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::PROTECTED_ECHO as PROJECT;

/// aiosmtpd on a free loopback port, delivering into a maildir; killed when
/// dropped.
struct SmtpServer {
    child: Child,
    port: u16,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp_server(maildir: &Path) -> SmtpServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (scripts/test installs it)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    SmtpServer { child, port }
}

/// The first mail in the maildir, waiting for it to arrive.
fn first_mail(maildir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(entry) = std::fs::read_dir(maildir.join("new"))
            .ok()
            .and_then(|mut dir| dir.next())
        {
            return std::fs::read_to_string(entry.unwrap().path()).unwrap();
        }
        assert!(Instant::now() < deadline, "no mail arrived");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn post_json(
    app: &TestApp,
    uri: &str,
    body: serde_json::Value,
    token: Option<&str>,
) -> crate::support::app::TestResponse {
    let mut request = http::Request::post(uri).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(
        request
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn register_activate_login_create_an_app_and_call_a_protected_route() {
    let maildir = tempfile::tempdir().unwrap();
    let maildir = maildir.path().join("box");
    let smtp = smtp_server(&maildir);
    let app = TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.mail.smtp_url = Some(format!("smtp://127.0.0.1:{}", smtp.port));
        options.mail.from = Some("Fusio <fusio@example.org>".into());
    })
    .await;
    app.state
        .store
        .ensure_role("Consumer", &["echo.read"])
        .await
        .unwrap();

    let bad_email = post_json(&app, "/consumer/register",
        serde_json::json!({ "name": "ada", "email": "not-an-address", "password": "a long password" }), None).await;
    bad_email.assert_problem_saying(400, "`email`");
    let unknown_field = post_json(&app, "/consumer/register",
        serde_json::json!({ "name": "ada", "email": "ada@example.org", "password": "a long password", "admin": true }), None).await;
    unknown_field.assert_problem_saying(400, "admin");

    let registered = post_json(&app, "/consumer/register",
        serde_json::json!({ "name": "ada", "email": "ada@example.org", "password": "a long password" }), None).await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let again = post_json(&app, "/consumer/register",
        serde_json::json!({ "name": "ada", "email": "other@example.org", "password": "a long password" }), None).await;
    again.assert_problem(409);

    // Pending until activated: no login yet.
    let early = post_json(
        &app,
        "/consumer/login",
        serde_json::json!({ "username": "ada", "password": "a long password" }),
        None,
    )
    .await;
    assert_eq!(early.status, 400, "{}", early.text());

    let mail = first_mail(&maildir);
    assert!(mail.contains("To: ada@example.org"), "{mail}");
    assert!(mail.contains("Subject: Activate your account"), "{mail}");
    let token = mail
        .lines()
        .find_map(|l| l.strip_prefix("or enter this token: "))
        .expect("the token is in the mail")
        .trim()
        .to_owned();
    let activated = post_json(
        &app,
        "/consumer/activate",
        serde_json::json!({ "token": token }),
        None,
    )
    .await;
    assert_eq!(activated.status, 200, "{}", activated.text());
    let reused = post_json(
        &app,
        "/consumer/activate",
        serde_json::json!({ "token": token }),
        None,
    )
    .await;
    reused.assert_problem(400);

    let login = post_json(
        &app,
        "/consumer/login",
        serde_json::json!({ "username": "ada", "password": "a long password" }),
        None,
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let first_token = login.json()["access_token"].as_str().unwrap().to_owned();
    let refresh_token = login.json()["refresh_token"].as_str().unwrap().to_owned();

    // The session is refreshed with PUT /consumer/login; a refresh token
    // works once.
    let put_json = |body: serde_json::Value| {
        let request = http::Request::put("/consumer/login")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        app.send(request)
    };
    let refreshed = put_json(serde_json::json!({ "refreshToken": refresh_token })).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text());
    assert_eq!(refreshed.header("cache-control"), Some("no-store"));
    let portal_token = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(portal_token, first_token);
    assert!(refreshed.json()["refresh_token"].is_string());
    let replayed = put_json(serde_json::json!({ "refreshToken": refresh_token })).await;
    assert_eq!(replayed.status, 400, "{}", replayed.text());
    assert_eq!(replayed.json()["error"], "invalid_grant");
    // The replay ended the whole session, the refreshed token too.
    assert_eq!(
        app.get_bearer("/consumer/account", &portal_token)
            .await
            .status,
        401
    );
    let login = post_json(
        &app,
        "/consumer/login",
        serde_json::json!({ "username": "ada", "password": "a long password" }),
        None,
    )
    .await;
    let portal_token = login.json()["access_token"].as_str().unwrap().to_owned();

    let too_much = post_json(
        &app,
        "/consumer/app",
        serde_json::json!({ "name": "Ada's app", "scopes": ["backend"] }),
        Some(&portal_token),
    )
    .await;
    too_much.assert_problem(403);
    let created = post_json(
        &app,
        "/consumer/app",
        serde_json::json!({ "name": "Ada's app", "scopes": ["echo.read"] }),
        Some(&portal_token),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let (client_id, client_secret) = (
        created.json()["clientId"].as_str().unwrap().to_owned(),
        created.json()["clientSecret"].as_str().unwrap().to_owned(),
    );
    let mine = app.get_bearer("/consumer/app", &portal_token).await.json();
    assert_eq!(mine["totalResults"], 1);
    assert_eq!(mine["entry"][0]["clientId"], client_id.as_str());
    assert!(mine["entry"][0].get("clientSecret").is_none());

    let access = app.client_credentials(&client_id, &client_secret).await;
    let called = app.get_bearer("/private", &access).await;
    assert_eq!(called.status, 200, "{}", called.text());
    assert_eq!(called.json()["context"]["app"], client_id.as_str());
}

#[tokio::test]
async fn registration_can_be_switched_off_and_mail_goes_to_the_outbox_without_smtp() {
    let closed = TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.registration = false
    })
    .await;
    let refused = post_json(&closed, "/consumer/register",
        serde_json::json!({ "name": "bob", "email": "bob@example.org", "password": "a long password" }), None).await;
    refused.assert_problem_saying(403, "switched off");
    assert!(
        closed
            .state
            .store
            .user_by_name("bob")
            .await
            .unwrap()
            .is_none()
    );

    let open = TestApp::start(Backend::Sqlite, PROJECT).await;
    let registered = post_json(&open, "/consumer/register",
        serde_json::json!({ "name": "carol", "email": "carol@example.org", "password": "a long password" }), None).await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let token = mailed_token(&open, "carol@example.org", "Activate your account");
    let outbox = std::fs::read_to_string(&open.options.mail.outbox).unwrap();
    assert!(
        outbox.contains(&format!("/developer/activate?token={token}")),
        "{outbox}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&open.options.mail.outbox)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the outbox is its owner's only");
    }
}

#[tokio::test]
async fn a_registration_whose_mail_fails_is_undone() {
    // Nothing listens on this port: the SMTP connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.mail.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    })
    .await;
    let failed = post_json(&app, "/consumer/register",
        serde_json::json!({ "name": "dave", "email": "dave@example.org", "password": "a long password" }), None).await;
    failed.assert_problem_saying(502, "mail");
    assert!(
        app.state
            .store
            .user_by_name("dave")
            .await
            .unwrap()
            .is_none()
    );
}

/// The token of the newest mail to `address` in `app`'s outbox (no SMTP
/// configured); the server's log names the mail but never holds its token.
fn mailed_token(app: &TestApp, address: &str, subject: &str) -> String {
    let outbox = std::fs::read_to_string(&app.options.mail.outbox).unwrap_or_default();
    let message = outbox
        .split("\nFrom fusio ")
        .filter(|m| m.contains(&format!("To: {address}\n")))
        .filter(|m| m.contains(&format!("Subject: {subject}\n")))
        .last()
        .unwrap_or_else(|| panic!("no `{subject}` mail to {address} in the outbox: {outbox}"));
    let token: String = message
        .split("or enter this token: ")
        .nth(1)
        .expect("the token is in the mail")
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let logged = crate::support::logs::lines_with(address);
    assert!(
        logged.iter().any(|l| l.contains("written to the outbox")),
        "the log says a mail was written: {logged:#?}"
    );
    assert!(
        crate::support::logs::lines_with(&token).is_empty(),
        "the token never reaches the log"
    );
    token
}

#[tokio::test]
async fn a_password_reset_sets_a_new_password_and_signs_every_session_out() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    let email = "erin@example.org";
    let registered = post_json(
        &app,
        "/consumer/register",
        serde_json::json!({ "name": "erin", "email": email, "password": "first password" }),
        None,
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let activation = mailed_token(&app, email, "Activate your account");
    post_json(
        &app,
        "/consumer/activate",
        serde_json::json!({ "token": activation }),
        None,
    )
    .await;
    let login = |password: &'static str| {
        let app = &app;
        async move {
            post_json(
                app,
                "/consumer/login",
                serde_json::json!({ "username": "erin", "password": password }),
                None,
            )
            .await
        }
    };
    let session = login("first password").await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.get_bearer("/authorization/whoami", &session)
            .await
            .status,
        200
    );

    let unknown = post_json(
        &app,
        "/consumer/password_reset",
        serde_json::json!({ "email": "nobody@example.org" }),
        None,
    )
    .await;
    let asked = post_json(
        &app,
        "/consumer/password_reset",
        serde_json::json!({ "email": email }),
        None,
    )
    .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(
        unknown.json()["message"],
        asked.json()["message"],
        "no hint which addresses exist"
    );
    let outbox = std::fs::read_to_string(&app.options.mail.outbox).unwrap_or_default();
    assert!(!outbox.contains("To: nobody@example.org"), "{outbox}");

    let reset = mailed_token(&app, email, "Reset your password");
    let weak = post_json(
        &app,
        "/consumer/password_reset/confirm",
        serde_json::json!({ "token": reset, "password": "short" }),
        None,
    )
    .await;
    weak.assert_problem(400);
    let done = post_json(
        &app,
        "/consumer/password_reset/confirm",
        serde_json::json!({ "token": reset, "password": "second password" }),
        None,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let reused = post_json(
        &app,
        "/consumer/password_reset/confirm",
        serde_json::json!({ "token": reset, "password": "third password" }),
        None,
    )
    .await;
    reused.assert_problem(400);

    app.get_bearer("/authorization/whoami", &session)
        .await
        .assert_problem(401);
    assert_eq!(login("first password").await.status, 400);
    assert_eq!(login("second password").await.status, 200);
}

async fn put_json(
    app: &TestApp,
    uri: &str,
    body: serde_json::Value,
    token: &str,
) -> crate::support::app::TestResponse {
    let request = http::Request::put(uri)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"));
    app.send(
        request
            .body(axum::body::Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}

/// Registers, activates (through the logged mail) and logs in the
/// developer `name` (email `name@example.org`); answers the portal token.
async fn developer(app: &TestApp, name: &str, password: &str) -> String {
    let email = format!("{name}@example.org");
    let registered = post_json(
        app,
        "/consumer/register",
        serde_json::json!({ "name": name, "email": email, "password": password }),
        None,
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.text());
    let activation = mailed_token(app, &email, "Activate your account");
    post_json(
        app,
        "/consumer/activate",
        serde_json::json!({ "token": activation }),
        None,
    )
    .await;
    let login = post_json(
        app,
        "/consumer/login",
        serde_json::json!({ "username": name, "password": password }),
        None,
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.text());
    login.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_developer_reads_and_updates_the_account_and_changes_the_password() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    let email = "frank@example.org";
    let session = developer(&app, "frank", "first password").await;

    let account = app.get_bearer("/consumer/account", &session).await;
    assert_eq!(account.status, 200, "{}", account.text());
    assert_eq!(account.json()["name"], "frank");
    assert_eq!(account.json()["email"], email);

    let invalid = put_json(
        &app,
        "/consumer/account",
        serde_json::json!({ "email": "nope" }),
        &session,
    )
    .await;
    invalid.assert_problem(400);
    let updated = put_json(
        &app,
        "/consumer/account",
        serde_json::json!({ "email": "admin-less@example.org" }),
        &session,
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(
        app.get_bearer("/consumer/account", &session).await.json()["email"],
        "admin-less@example.org"
    );
    let role_change = put_json(
        &app,
        "/consumer/account",
        serde_json::json!({ "email": email, "role": "Administrator" }),
        &session,
    )
    .await;
    role_change.assert_problem(400);

    let wrong = put_json(
        &app,
        "/consumer/account/change_password",
        serde_json::json!({ "oldPassword": "guess", "newPassword": "second password" }),
        &session,
    )
    .await;
    wrong.assert_problem_saying(400, "oldPassword");
    let changed = put_json(
        &app,
        "/consumer/account/change_password",
        serde_json::json!({ "oldPassword": "first password", "newPassword": "second password" }),
        &session,
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text());
    app.get_bearer("/consumer/account", &session)
        .await
        .assert_problem(401);
    let again = post_json(
        &app,
        "/consumer/login",
        serde_json::json!({ "username": "frank", "password": "second password" }),
        None,
    )
    .await;
    assert_eq!(again.status, 200);
}

async fn delete(app: &TestApp, uri: &str, token: &str) -> crate::support::app::TestResponse {
    let request = http::Request::delete(uri).header("authorization", format!("Bearer {token}"));
    app.send(request.body(axum::body::Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn a_developer_rotates_and_deletes_apps_and_revokes_grants() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    app.state
        .store
        .ensure_role("Consumer", &["echo.read"])
        .await
        .unwrap();
    let session = developer(&app, "gina", "gina password").await;
    let created = post_json(
        &app,
        "/consumer/app",
        serde_json::json!({ "name": "Gina's app", "scopes": ["echo.read"] }),
        Some(&session),
    )
    .await
    .json();
    let (id, client_id) = (
        created["id"].as_str().unwrap().to_owned(),
        created["clientId"].as_str().unwrap().to_owned(),
    );
    let old_secret = created["clientSecret"].as_str().unwrap().to_owned();
    let app_token = app.client_credentials(&client_id, &old_secret).await;

    let rotated = post_json(
        &app,
        &format!("/consumer/app/{id}/secret"),
        serde_json::json!({}),
        Some(&session),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    let new_secret = rotated.json()["clientSecret"].as_str().unwrap().to_owned();
    let with_old = app
        .post_form(
            "/authorization/token",
            &[("grant_type", "client_credentials")],
            Some((&client_id, &old_secret)),
        )
        .await;
    assert_eq!(with_old.status, 401, "{}", with_old.text());
    app.client_credentials(&client_id, &new_secret).await;

    // Renaming keeps the tokens; scopes beyond the developer's are refused.
    let renamed = put_json(
        &app,
        &format!("/consumer/app/{id}"),
        serde_json::json!({ "name": "Gina's tool" }),
        &session,
    )
    .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text());
    let too_much = put_json(
        &app,
        &format!("/consumer/app/{id}"),
        serde_json::json!({ "scopes": ["backend"] }),
        &session,
    )
    .await;
    too_much.assert_problem(403);
    assert_eq!(
        app.get_bearer("/consumer/app", &session).await.json()["entry"][0]["name"],
        "Gina's tool"
    );

    // Someone else's app is not the developer's to delete.
    let portal = app
        .state
        .store
        .app_by_client_id("developer")
        .await
        .unwrap()
        .unwrap();
    delete(&app, &format!("/consumer/app/{}", portal.id), &session)
        .await
        .assert_problem(404);

    let deleted = delete(&app, &format!("/consumer/app/{id}"), &session).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    app.get_bearer("/private", &app_token)
        .await
        .assert_problem(401);
    assert_eq!(
        app.get_bearer("/consumer/app", &session).await.json()["totalResults"],
        0
    );

    // The portal itself is an app the developer authorized by logging in.
    let grants = app.get_bearer("/consumer/grant", &session).await.json();
    assert_eq!(grants["totalResults"], 1, "{grants}");
    assert_eq!(grants["entry"][0]["clientId"], "developer");
    let revoked = delete(&app, &format!("/consumer/grant/{}", portal.id), &session).await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    app.get_bearer("/consumer/grant", &session)
        .await
        .assert_problem(401);
}
