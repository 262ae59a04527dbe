//! The `fusio` binary as a user runs it.

use crate::support::guests::root;
use crate::support::process::{Server, fusio};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `fusio serve` on a free port and answers the server and its address.
fn serve(args: &[&str], data_dir: &std::path::Path) -> (Server, String) {
    let server = crate::support::process::serve(args, data_dir);
    let address = server.address.clone();
    (server, address)
}

async fn get_json(address: &str, path: &str) -> serde_json::Value {
    let response = reqwest::get(format!("http://{address}{path}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_example_project_serves_hello_from_its_component() {
    let dir = tempfile::tempdir().unwrap();
    let project = root().join("fusio.yml");
    let (_server, address) = serve(&["--deploy", project.to_str().unwrap()], dir.path());
    let response = reqwest::get(format!("http://{address}/hello"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(response.headers().contains_key("x-request-id"));
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({ "message": "Hello World!" }));
    assert_eq!(
        get_json(&address, "/hello?name=Ada").await["message"],
        "Hello Ada!"
    );
    // The README's tour: examples/greet.
    assert_eq!(
        get_json(&address, "/greet/Ada?loud").await["message"],
        "HELLO ADA!"
    );
    let missing = reqwest::get(format!("http://{address}/greet"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    assert!(
        dir.path().join("fusio.db").is_file(),
        "the embedded store was created"
    );
}

/// Runs a command that must fail with exit code 2; answers its stderr.
fn refused(command: &mut Command) -> String {
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    stderr
}

#[test]
fn version_prints_the_version() {
    let output = fusio().arg("version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("fusio {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn serve_help_documents_every_option_with_its_environment_variable() {
    let output = fusio().args(["serve", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "FUSIO_LISTEN",
        "FUSIO_DATA_DIR",
        "FUSIO_DATABASE_URL",
        "FUSIO_DEPLOY",
        "FUSIO_MAX_INSTANCES",
        "FUSIO_MAX_ACTION_MEMORY",
        "FUSIO_NO_POOLING",
        "FUSIO_KEEP_RESIDENT",
        "FUSIO_BUILD_TARGET_DIR",
        "FUSIO_LOG",
    ] {
        assert!(
            help.contains(variable),
            "`{variable}` missing from:\n{help}"
        );
    }
    assert!(help.contains("[default: 0.0.0.0:8080]"), "{help}");
}

#[test]
fn migrate_creates_the_embedded_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let output = fusio()
        .arg("migrate")
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(data.join("fusio.db").is_file());
}

#[test]
fn errors_exit_with_2_and_say_why() {
    let stderr = refused(fusio().args(["migrate", "--database", "mysql://nowhere/db"]));
    assert!(
        stderr.contains("unsupported database URL `mysql://nowhere/db`"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.yml");
    std::fs::write(
        &file,
        "routes:\n  /backend:\n    methods:\n      GET: { action: x }\n",
    )
    .unwrap();
    let stderr = refused(
        fusio()
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--deploy")
            .arg(&file),
    );
    assert!(stderr.contains("broken.yml:"), "{stderr}");
    assert!(stderr.contains("reserved"), "{stderr}");
}

#[test]
fn a_dead_database_or_a_missing_project_file_stops_the_start_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let stderr = refused(
        fusio()
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--database", "postgres://postgres@127.0.0.1:1/none"]),
    );
    assert!(
        stderr.contains("cannot connect to the database"),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("refused"),
        "the cause is named: {stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it took {:?}",
        started.elapsed()
    );

    let stderr = refused(
        fusio()
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--deploy", "/nonexistent/fusio.yml"]),
    );
    assert!(
        stderr.contains("cannot read /nonexistent/fusio.yml"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("No such file").count(),
        1,
        "the cause once: {stderr}"
    );
}

#[tokio::test]
async fn adduser_and_addapp_make_credentials_that_get_a_token() {
    use crate::support::{Backend, TestApp};
    let app = TestApp::start(
        Backend::Sqlite,
        "routes:\n  /private:\n    methods:\n      GET: { action: echo, scopes: [echo.read] }\n\
         action:\n  echo:\n    component: \"{guest:echo}\"\n",
    )
    .await;
    let data = app.options.data_dir.clone();
    let run = |args: &[&str], password: Option<&str>| {
        let mut command = fusio();
        command.args(args).arg("--data-dir").arg(&data);
        match password {
            Some(password) => command.env("FUSIO_USER_PASSWORD", password),
            None => command.env_remove("FUSIO_USER_PASSWORD"),
        };
        command.stdin(Stdio::null()).output().expect("fusio runs")
    };

    let weak = run(&["adduser", "--name", "weak"], Some("short"));
    assert_eq!(weak.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 8 characters"));
    let unknown_scope = run(
        &["adduser", "--name", "cli-dev", "--scope", "nope"],
        Some("long enough"),
    );
    assert_eq!(unknown_scope.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown_scope.stderr).contains("scope `nope` does not exist"));
    assert!(
        app.state
            .store
            .user_by_name("cli-dev")
            .await
            .unwrap()
            .is_none(),
        "a refused user is not half created"
    );

    let added = run(
        &["adduser", "--name", "cli-dev", "--scope", "echo.read"],
        Some("long enough"),
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(String::from_utf8_lossy(&added.stdout).contains("created the user `cli-dev`"));

    let created = run(
        &[
            "addapp",
            "--user",
            "cli-dev",
            "--name",
            "CLI app",
            "--scope",
            "echo.read",
        ],
        None,
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8_lossy(&created.stdout);
    let value = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .to_owned()
    };
    let (client_id, client_secret) = (value("client_id="), value("client_secret="));

    let token = app.client_credentials(&client_id, &client_secret).await;
    assert_eq!(app.get_bearer("/private", &token).await.status, 200);
}

#[tokio::test]
async fn login_keeps_a_working_token_only_its_owner_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, address) = serve(&["--admin-password", "the admin password"], dir.path());
    let credentials = dir.path().join("config/fusio/credentials.json");
    let login = |password: &str| {
        fusio()
            .args([
                "login",
                "--url",
                &format!("http://{address}"),
                "--credentials",
            ])
            .arg(&credentials)
            .env("FUSIO_PASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .expect("fusio runs")
    };

    let refused = login("wrong");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("refused the login"));
    assert!(!credentials.exists(), "a refused login writes nothing");

    let done = login("the admin password");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&credentials)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&credentials).unwrap()).unwrap();
    let me = reqwest::Client::new()
        .get(format!("http://{address}/authorization/whoami"))
        .bearer_auth(saved["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["name"],
        "admin"
    );
}

#[test]
fn export_writes_the_openapi_document_of_a_file_without_a_server() {
    let output = fusio()
        .args(["export", "openapi"])
        .arg(root().join("fusio.yml"))
        .args(["--public-url", "https://api.example.com"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "https://api.example.com");
    assert!(document["paths"]["/todo"]["post"]["security"][0]["oauth2"][0] == "todo");
    assert!(document["paths"]["/greet/{id}"]["get"].is_object());
    assert!(document["components"]["schemas"]["TodoCollection"].is_object());

    let yaml = fusio()
        .args([
            "export",
            "openapi",
            "--yaml",
            "--version",
            "1",
            "--path",
            "/greet/:id",
        ])
        .arg(root().join("fusio.yml"))
        .output()
        .unwrap();
    assert!(yaml.status.success());
    let from_yaml: serde_json::Value =
        serde_saphyr::from_str(&String::from_utf8_lossy(&yaml.stdout)).unwrap();
    assert_eq!(from_yaml["paths"]["/greet/{id}"]["get"]["deprecated"], true);

    let raml = fusio()
        .args(["export", "raml"])
        .arg(root().join("fusio.yml"))
        .output()
        .unwrap();
    assert!(raml.status.success());
    let raml = String::from_utf8_lossy(&raml.stdout);
    assert!(
        raml.starts_with("#%RAML 1.0\n") && raml.contains("\"/greet/{id}\":"),
        "{raml}"
    );

    // A file that is refused is a "no" (1), naming the entry, like a deploy.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("fusio.yml");
    std::fs::write(&bad, "routes:\n  /x:\n    methods:\n      GET: { action: a, public: true, parameters: { n: { type: date } } }\n").unwrap();
    let output = fusio()
        .args(["export", "openapi"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("date"));
}
