//! Confinement: a deploy credential's project, its migrations and its
//! actions' SQL reach only their own databases — never the system store,
//! the server's files or more privilege. Every attempt is made as the CI
//! app the README recommends (scope `backend.deploy` only), and after each
//! one the store's users, roles, apps, tokens and keys are unchanged.

use crate::deploy::build;
use crate::support::app::write_project;
use crate::support::{Backend, TestApp, on_both_stores};
use axum::body::Body;
use fusio::client::deploy::{DeployCommandError, deploy};
use fusio::client::{Client, Login};
use fusio::project::ProjectError;
use http::Request;
use serde_json::{Value, json};
use std::path::PathBuf;

/// The escalation: any role but `Administrator` for `ci`, promoted.
const PROMOTE: &str = "UPDATE fusio_user SET role_id = (SELECT id FROM fusio_role WHERE name = 'Administrator') WHERE name = 'ci';";

/// An app serving the echo guest, with the user `ci` (role `Consumer`,
/// own scope `backend.deploy`) and its app `ci`; answers the app, a client
/// logged in with the CI app's credentials, and those credentials.
async fn start_ci(
    backend: Backend,
    tweak: impl FnOnce(&mut fusio::server::BootOptions),
) -> (TestApp, Client, (String, String)) {
    let app = TestApp::start_with(backend, crate::support::PROTECTED_ECHO, tweak).await;
    let store = &app.state.store;
    fusio::auth::accounts::add_user(
        store,
        &fusio::auth::accounts::Account {
            name: "ci",
            email: None,
            password: "ci password 1",
            role: "Consumer",
            scopes: &["backend.deploy".into()],
        },
    )
    .await
    .unwrap();
    let credentials = fusio::auth::accounts::add_app(
        store,
        &fusio::auth::accounts::AppRequest {
            owner: "ci",
            name: "ci",
            scopes: &["backend.deploy".into()],
            redirect_uris: &[],
            public: false,
        },
    )
    .await
    .unwrap();
    let (id, secret) = (credentials.client_id, credentials.client_secret.unwrap());
    let url = app.serve().await;
    let client = Client::connect(
        &url,
        &Login::Client {
            id: id.clone(),
            secret: secret.clone(),
        },
    )
    .await
    .expect("the CI app logs in");
    (app, client, (id, secret))
}

/// [`start_ci`] without the credentials.
async fn start(
    backend: Backend,
    tweak: impl FnOnce(&mut fusio::server::BootOptions),
) -> (TestApp, Client) {
    let (app, client, _) = start_ci(backend, tweak).await;
    (app, client)
}

/// Everything identity keeps, as text: users with roles and secrets, their
/// scopes, roles' scopes, apps with their secrets and scopes, tokens,
/// signing keys, linked identities.
async fn identity(app: &TestApp) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = app.store_connection().await;
    let mut seen = Vec::new();
    for query in [
        "SELECT CAST(id AS TEXT) || ' ' || name || ' ' || CAST(role_id AS TEXT) || ' ' || status || ' ' || COALESCE(password_hash, '') FROM fusio_user ORDER BY id",
        "SELECT CAST(user_id AS TEXT) || ' ' || CAST(scope_id AS TEXT) FROM fusio_user_scope ORDER BY user_id, scope_id",
        "SELECT CAST(role_id AS TEXT) || ' ' || CAST(scope_id AS TEXT) FROM fusio_role_scope ORDER BY role_id, scope_id",
        "SELECT CAST(id AS TEXT) || ' ' || name || ' ' || status || ' ' || COALESCE(secret_hash, '') FROM fusio_app ORDER BY id",
        "SELECT CAST(app_id AS TEXT) || ' ' || CAST(scope_id AS TEXT) FROM fusio_app_scope ORDER BY app_id, scope_id",
        "SELECT jti || ' ' || scope || ' ' || CAST(revoked AS TEXT) FROM fusio_token ORDER BY id",
        "SELECT kid || ' ' || private_key FROM fusio_signing_key ORDER BY kid",
        "SELECT provider || ' ' || remote_id FROM fusio_user_identity ORDER BY provider, remote_id",
    ] {
        let rows: Vec<(String,)> = sqlx::query_as(query).fetch_all(&mut conn).await.unwrap();
        seen.push(format!("-- {query}"));
        seen.extend(rows.into_iter().map(|(row,)| row));
    }
    let _ = conn.close().await;
    seen
}

/// Writes `yaml` (with `{guest:NAME}` paths) and the migration `sql` as
/// `attempt.sql` into a fresh directory below the app's.
fn attempt(app: &TestApp, name: &str, yaml: &str, sql: &str) -> PathBuf {
    let dir = app.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("attempt.sql"), sql).unwrap();
    write_project(&dir, yaml)
}

/// A project granting the sqlrun guest the connection `url`, migrated
/// with `attempt.sql` when `migrate`.
fn project(url: &str, migrate: bool) -> String {
    let migration = if migrate {
        "migration:\n  Default: [attempt.sql]\n"
    } else {
        ""
    };
    format!(
        r#"
routes:
  /private:
    methods:
      GET: {{ action: echo, scopes: [echo.read] }}
  /sql:
    methods:
      POST: {{ action: run, public: true }}
action:
  echo:
    component: "{{guest:echo}}"
  run:
    component: "{{guest:sqlrun}}"
    connections: [Default]
    config:
      connection: Default
connection:
  Default:
    type: sql
    config:
      url: "{url}"
{migration}"#
    )
}

/// The refusal's text, or a panic naming what happened instead.
fn refused(result: Result<fusio::client::Deployed, DeployCommandError>) -> String {
    match result {
        Err(DeployCommandError::Project(err @ ProjectError::Invalid { .. })) => err.to_string(),
        other => panic!("expected a refused project, got {other:?}"),
    }
}

/// What the sqlrun guest answers for `statements` on its connection.
async fn run_sql(app: &TestApp, statements: Value) -> crate::support::app::TestResponse {
    app.send(
        Request::post("/sql")
            .header("content-type", "application/json")
            .body(Body::from(json!({ "statements": statements }).to_string()))
            .unwrap(),
    )
    .await
}

async fn no_connection_reaches_the_system_store(backend: Backend) {
    let (app, client) = start(backend, |_| {}).await;
    let before = identity(&app).await;
    let served = app.state.live.current().revision;
    let store_file = app.options.data_dir.join("fusio.db");
    let mut urls = vec![
        "sqlite:../fusio.db".to_owned(),
        "sqlite:x/../fusio.db".to_owned(),
        "sqlite://fusio.db".to_owned(),
        "sqlite:fusio.db?mode=rw".to_owned(),
        format!("sqlite:file:{}", store_file.display()),
        format!("sqlite:{}", store_file.display()),
        format!("sqlite:{}/./fusio.db", app.options.data_dir.display()),
        format!("sqlite:{}", app.options.secret_key_file.display()),
    ];
    if let Some(store_url) = &app.options.database_url {
        urls.push(store_url.clone());
    }
    for (n, url) in urls.iter().enumerate() {
        let file = attempt(&app, &format!("refused-{n}"), &project(url, true), PROMOTE);
        let message = refused(deploy(&client, &file, &build(), false).await);
        assert!(message.contains("connection.Default"), "{url}: {message}");
        assert!(message.contains("fusio.yml:"), "{url}: located: {message}");
        assert_eq!(app.state.live.current().revision, served, "{url}");
        assert_eq!(identity(&app).await, before, "{url}");
    }

    // `sqlite:fusio.db` and `sqlite:./fusio.db` are files of the
    // connection's own: the migration finds no users to promote.
    for (n, url) in ["sqlite:fusio.db", "sqlite:./fusio.db"]
        .into_iter()
        .enumerate()
    {
        let file = attempt(&app, &format!("own-{n}"), &project(url, true), PROMOTE);
        let message = refused(deploy(&client, &file, &build(), false).await);
        assert!(
            message.contains("no such table: fusio_user"),
            "{url}: {message}"
        );
        assert_eq!(identity(&app).await, before, "{url}");
    }
    assert!(app.options.data_dir.join("connections/fusio.db").is_file());

    // Through an action's SQL on a connection of its own: the store
    // cannot be attached, whichever way it is named.
    let file = attempt(&app, "action", &project("sqlite:app.db", false), "");
    deploy(&client, &file, &build(), false).await.unwrap();
    for target in [
        store_file.display().to_string(),
        format!("file:{}?mode=rw", store_file.display()),
    ] {
        let answer = run_sql(
            &app,
            json!([
                { "sql": format!("ATTACH DATABASE '{target}' AS store") },
                { "sql": PROMOTE.replace("fusio_user", "store.fusio_user") },
            ]),
        )
        .await;
        assert_eq!(answer.status, 502, "{target}: {}", answer.text());
        assert_eq!(answer.json()["error"], "query", "{target}");
        assert!(
            answer.json()["detail"]
                .as_str()
                .unwrap()
                .contains("not authorized"),
            "{target}: {}",
            answer.text()
        );
    }
    assert_eq!(identity(&app).await, before);
}

on_both_stores!(no_connection_reaches_the_system_store);

/// One way SQLite reaches a file other than its own database (`sql`,
/// given the directory `outside` to aim at): refused through an action's
/// SQL and through a migration, and no file appears there.
async fn refuses_a_way_out(sql: impl Fn(&std::path::Path) -> String) {
    let (app, client) = start(Backend::Sqlite, |_| {}).await;
    let before = identity(&app).await;
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let sql = sql(&outside);
    let file = attempt(&app, "own", &project("sqlite:own.db", false), "");
    deploy(&client, &file, &build(), false).await.unwrap();
    let served = app.state.live.current().revision;

    let answer = run_sql(
        &app,
        json!([{ "sql": sql, "rows": sql.starts_with("SELECT") }]),
    )
    .await;
    assert_eq!(answer.status, 502, "{sql}: {}", answer.text());
    let detail = answer.json()["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("not authorized")
            || detail.contains("authorization denied")
            || detail.contains("too many attached"),
        "{sql}: {detail}"
    );

    let file = attempt(&app, "migration", &project("sqlite:own.db", true), &sql);
    let message = refused(deploy(&client, &file, &build(), false).await);
    assert!(message.contains("`attempt.sql` failed"), "{sql}: {message}");
    assert_eq!(app.state.live.current().revision, served, "{sql}");

    let left: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
    assert!(left.is_empty(), "{sql} wrote outside: {left:?}");
    assert_eq!(identity(&app).await, before);
}

/// One test per way out of a SQLite connection's own file.
macro_rules! ways_out {
    ($($name:ident => $sql:expr;)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                refuses_a_way_out($sql).await
            }
        )*
    };
}

ways_out! {
    attach_is_refused => |dir: &std::path::Path| format!("ATTACH DATABASE '{}' AS other", dir.join("attached.db").display());
    attach_by_uri_is_refused => |dir: &std::path::Path| format!("ATTACH DATABASE 'file:{}?mode=rwc' AS other", dir.join("uri.db").display());
    attach_in_memory_is_refused => |_: &std::path::Path| "ATTACH DATABASE ':memory:' AS other".to_owned();
    vacuum_into_is_refused => |dir: &std::path::Path| format!("VACUUM INTO '{}'", dir.join("copy.db").display());
    load_extension_is_refused => |dir: &std::path::Path| format!("SELECT load_extension('{}')", dir.join("ext.so").display());
    temp_store_directory_is_refused => |dir: &std::path::Path| format!("PRAGMA temp_store_directory = '{}'", dir.display());
    writable_schema_is_refused => |_: &std::path::Path| "PRAGMA writable_schema = ON".to_owned();
}

/// The guard takes nothing an action needs from its own database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confined_sqlite_connection_works_as_usual() {
    let (app, client) = start(Backend::Sqlite, |_| {}).await;
    let file = attempt(&app, "own", &project("sqlite:own.db", false), "");
    deploy(&client, &file, &build(), false).await.unwrap();
    let answer = run_sql(
        &app,
        json!([
            { "sql": "CREATE TABLE IF NOT EXISTS note (text TEXT)" },
            { "sql": "INSERT INTO note VALUES ('kept')" },
            { "sql": "PRAGMA journal_mode = WAL", "rows": true },
            { "sql": "PRAGMA table_info(note)", "rows": true },
            { "sql": "SELECT text FROM note", "rows": true },
        ]),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["results"][4]["rows"][0][0]["text"], "kept");
}

/// An absolute path works only below a directory the operator allowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absolute_sqlite_paths_need_an_allowed_directory() {
    let allowed = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let allowed_dir = allowed.path().to_owned();
    let (app, client) = start(Backend::Sqlite, move |options| {
        options.sqlite_dirs = vec![allowed_dir];
    })
    .await;
    let inside = allowed.path().join("app.db");
    let file = attempt(
        &app,
        "inside",
        &project(&format!("sqlite:{}", inside.display()), true),
        "CREATE TABLE t (n INTEGER);",
    );
    deploy(&client, &file, &build(), false).await.unwrap();
    assert!(inside.is_file(), "the migration ran on the allowed file");

    let outside = elsewhere.path().join("app.db");
    let file = attempt(
        &app,
        "outside",
        &project(&format!("sqlite:{}", outside.display()), true),
        "CREATE TABLE t (n INTEGER);",
    );
    let message = refused(deploy(&client, &file, &build(), false).await);
    assert!(
        message.contains("not below a directory the server allows"),
        "{message}"
    );
    assert!(!outside.exists());
}

/// On a PostgreSQL store, a connection to the store's own database is
/// refused however its URL is spelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_to_the_postgres_store_is_refused() {
    let (app, client) = start(Backend::Postgres, |_| {}).await;
    let store_url = app.options.database_url.clone().unwrap();
    let database = store_url.rsplit('/').next().unwrap().to_owned();
    let before = identity(&app).await;
    for url in [
        store_url.clone(),
        format!("postgres://someone:pw@localhost:5432/{database}"),
        format!("postgresql://postgres@[::1]/{database}"),
    ] {
        let file = attempt(&app, "pg", &project(&url, true), PROMOTE);
        let message = refused(deploy(&client, &file, &build(), false).await);
        assert!(message.contains("system store"), "{url}: {message}");
    }
    assert_eq!(identity(&app).await, before);
}

/// Every project field that names a connection or a file, as a
/// `backend.deploy` app: a component, a migration, config, includes —
/// none changes who may do what.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_credential_stays_a_deploy_credential() {
    let (app, client, (id, secret)) = start_ci(Backend::Sqlite, |_| {}).await;
    let before = identity(&app).await;
    let data = app.options.data_dir.display().to_string();
    let cases: Vec<(&str, String)> = vec![
        // A component or an include outside the project's directory.
        (
            "component",
            format!(
                "routes:\n  /x:\n    methods:\n      GET: {{ action: x, public: true }}\naction:\n  x:\n    component: {data}/fusio.db\n"
            ),
        ),
        ("include", format!("routes: !include {data}/secret.key\n")),
        // A migration whose file is the store itself.
        (
            "migration file",
            format!(
                "{}migration:\n  Default: [{data}/fusio.db]\n",
                project("sqlite:own.db", false)
            ),
        ),
        // A connection of another kind pointing at the store's file.
        (
            "http connection",
            project_with_connection("type: http\n    config:\n      url: \"file:///etc/passwd\""),
        ),
        (
            "redis connection",
            project_with_connection(&format!(
                "type: redis\n    config:\n      url: \"redis+unix://{data}/fusio.db\""
            )),
        ),
        (
            "amqp connection",
            project_with_connection(&format!(
                "type: amqp\n    config:\n      url: \"file://{data}/fusio.db\""
            )),
        ),
    ];
    for (what, yaml) in cases {
        let dir = app
            .dir
            .path()
            .join(format!("case-{}", what.replace(' ', "-")));
        std::fs::create_dir_all(&dir).unwrap();
        let file = write_project(&dir, &yaml);
        let result = deploy(&client, &file, &build(), false).await;
        assert!(result.is_err(), "{what}: {result:?}");
        assert_eq!(identity(&app).await, before, "{what}");
    }
    // The deploy scope cannot reach the identity API either.
    let token = app.client_credentials(&id, &secret).await;
    let before = identity(&app).await;
    for uri in [
        "/backend/user",
        "/backend/app",
        "/backend/role",
        "/backend/token",
        "/backend/scope",
    ] {
        let answer = app.get_bearer(uri, &token).await;
        answer.assert_problem(403);
    }
    assert_eq!(identity(&app).await, before);
}

fn project_with_connection(connection: &str) -> String {
    format!(
        "routes:\n  /x:\n    methods:\n      GET: {{ action: x, public: true }}\naction:\n  x:\n    component: \"{{guest:sqlrun}}\"\n    connections: [C]\nconnection:\n  C:\n    {connection}\n"
    )
}

const HEADERS: &str = r#"
routes:
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
  /public:
    methods:
      GET: { action: echo, public: true }
  /forwarded:
    methods:
      GET: { action: cookies, public: true }
action:
  echo:
    component: "{guest:echo}"
  cookies:
    component: "{guest:echo}"
    forwardHeaders: [Cookie]
"#;

/// The header names the echo guest saw.
fn seen(answer: &crate::support::app::TestResponse) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["headerNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn credentials_never_reach_an_action_unless_it_opts_in() {
    let app = TestApp::start(Backend::Sqlite, HEADERS).await;
    let (id, secret) = app.developer_app("echo.read").await;
    let token = app.client_credentials(&id, &secret).await;
    let call = |uri: &str, authorization: String| {
        Request::get(uri)
            .header("authorization", authorization)
            .header("cookie", "session=s3cr3t")
            .header("proxy-authorization", "Basic cHJveHk6cHc=")
            .header("x-test", "kept")
            .body(Body::empty())
            .unwrap()
    };
    for (uri, authorization) in [
        ("/private", format!("Bearer {token}")),
        ("/public", "Bearer not-even-a-token".to_owned()),
    ] {
        let answer = app.send(call(uri, authorization)).await;
        let names = seen(&answer);
        assert!(names.contains(&"x-test".to_owned()), "{uri}: {names:?}");
        for credential in ["authorization", "cookie", "proxy-authorization"] {
            assert!(!names.contains(&credential.to_owned()), "{uri}: {names:?}");
        }
        assert!(!answer.text().contains("s3cr3t"), "{uri}");
    }
    // The caller is still known to the action, through its context.
    let answer = app.send(call("/private", format!("Bearer {token}"))).await;
    assert!(
        answer.json()["context"]["app"].is_string(),
        "{}",
        answer.text()
    );

    let answer = app.send(call("/forwarded", "Bearer x".into())).await;
    let names = seen(&answer);
    assert!(names.contains(&"cookie".to_owned()), "{names:?}");
    assert!(!names.contains(&"authorization".to_owned()), "{names:?}");
}

/// A password grant for `admin` over TCP from the loopback address `from`.
async fn admin_login(url: &str, from: [u8; 4], password: &str) -> reqwest::StatusCode {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .unwrap();
    http.post(format!("{url}/authorization/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "fusio"),
            ("username", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn failures_from_one_address_do_not_lock_the_admin_out_from_another() {
    let app = TestApp::start_with(Backend::Sqlite, crate::support::PROTECTED_ECHO, |options| {
        options.admin_password = Some("the admin password".into());
    })
    .await;
    let url = app.serve().await;
    for _ in 0..fusio::auth::throttle::ACCOUNT_FAILURES {
        assert_eq!(admin_login(&url, [127, 0, 0, 2], "wrong").await, 400);
    }
    assert_eq!(
        admin_login(&url, [127, 0, 0, 2], "the admin password").await,
        429,
        "the guessing address waits"
    );
    assert_eq!(
        admin_login(&url, [127, 0, 0, 3], "the admin password").await,
        200,
        "the owner elsewhere logs in"
    );
}
