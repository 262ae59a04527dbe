//! The `fusio` binary as separate processes: a server killed in the middle
//! of a deploy keeps its previous revision, and two nodes on one PostgreSQL
//! store serve each other's deploys within a second.

use crate::support::Backend;
use crate::support::db::TestDb;
use crate::support::guests::guest;
use crate::support::process::{Server, serve};
use fusio::client::deploy::deploy;
use fusio::client::{Client, Login};
use fusio::project::BuildOptions;
use std::path::Path;
use std::time::{Duration, Instant};

const PASSWORD: &str = "the admin password";

async fn connect(server: &Server, dir: &Path) -> Client {
    let url = format!("http://{}", server.address);
    let credentials = dir.join("credentials.json");
    fusio::client::login(&url, "admin", PASSWORD, &credentials)
        .await
        .expect("admin logs in");
    Client::connect(&url, &Login::Saved(credentials))
        .await
        .unwrap()
}

/// A project with `/version` answered by `component` with `generation` in
/// its config, and `extra` as a second route when given.
fn project(
    dir: &Path,
    name: &str,
    component: &Path,
    generation: u32,
    extra: bool,
) -> std::path::PathBuf {
    let mut yaml =
        "routes:\n  /version:\n    methods:\n      GET: { action: version, public: true }\n"
            .to_owned();
    if extra {
        yaml.push_str("  /extra:\n    methods:\n      GET: { action: version, public: true }\n");
    }
    yaml.push_str(&format!(
        "action:\n  version:\n    component: {}\n    config:\n      generation: \"{generation}\"\n",
        component.display()
    ));
    let file = dir.join(format!("{name}.yml"));
    std::fs::write(&file, yaml).unwrap();
    file
}

async fn generation(address: &str) -> Option<String> {
    let response = reqwest::get(format!("http://{address}/version"))
        .await
        .ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    Some(crate::deploy::generation(&body))
}

fn build() -> BuildOptions {
    BuildOptions {
        target_dir: Some(crate::support::guests::build_target_dir("examples")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_in_the_middle_of_a_deploy_serves_the_previous_revision() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut server = serve(&["--admin-password", PASSWORD], &data);
    let client = connect(&server, dir.path()).await;
    let v1 = project(dir.path(), "v1", &guest("echo"), 1, false);
    let first = deploy(&client, &v1, &build(), false).await.unwrap();
    assert_eq!(generation(&server.address).await.as_deref(), Some("1"));

    // v2 brings a component this server never compiled: validating it takes
    // a while, and the server dies while it does.
    let v2 = project(dir.path(), "v2", &guest("counter"), 2, true);
    let compiled = fusio::project::compile(&v2, &build()).await.unwrap();
    for (sha256, bytes) in &compiled.components {
        client.upload_component(sha256, bytes).await.unwrap();
    }
    let sending = {
        let client = client.clone();
        let project = compiled.project.clone();
        tokio::spawn(async move { client.deploy(&project, false, None).await })
    };
    let validating = tokio::task::block_in_place(|| {
        server.wait_for_log("validating a project", Duration::from_secs(120))
    });
    assert!(validating.is_some(), "the server never started validating");
    server.kill();
    assert!(
        sending.await.unwrap().is_err(),
        "the deploy cannot have been answered"
    );

    let restarted = serve(&[], &data);
    assert_eq!(generation(&restarted.address).await.as_deref(), Some("1"));
    let extra = reqwest::get(format!("http://{}/extra", restarted.address))
        .await
        .unwrap();
    assert_eq!(extra.status(), 404, "nothing of v2 is served");
    let health: serde_json::Value =
        reqwest::get(format!("http://{}/system/health", restarted.address))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(health["revision"], first.revision);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deploy_to_one_node_is_served_by_the_other_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Postgres, dir.path()).await;
    let url = db.url.clone().unwrap();
    // Every node of one store needs the same secret key.
    let key = dir.path().join("secret.key");
    let key = key.to_str().unwrap();
    let first = serve(
        &[
            "--database",
            &url,
            "--admin-password",
            PASSWORD,
            "--secret-key-file",
            key,
        ],
        &dir.path().join("first"),
    );
    let second = serve(
        &["--database", &url, "--secret-key-file", key],
        &dir.path().join("second"),
    );
    // A node with another key refuses to start, saying why.
    let stranger = tokio::process::Command::new(env!("CARGO_BIN_EXE_fusio"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &url,
            "--data-dir",
        ])
        .arg(dir.path().join("stranger"))
        .env_remove("FUSIO_SECRET_KEY")
        .kill_on_drop(true)
        .output();
    let refused = tokio::time::timeout(Duration::from_secs(60), stranger)
        .await
        .expect("a node with the wrong key stops at once")
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("does not open with this server's key"),
        "{said}"
    );
    let client = connect(&first, dir.path()).await;

    // The first deploy: the second node compiles the component itself.
    let v1 = project(dir.path(), "v1", &guest("echo"), 1, false);
    deploy(&client, &v1, &build(), false).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while generation(&second.address).await.as_deref() != Some("1") {
        assert!(Instant::now() < deadline, "the second node never served v1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The next deploy reaches it within a second.
    let v2 = project(dir.path(), "v2", &guest("echo"), 2, true);
    deploy(&client, &v2, &build(), false).await.unwrap();
    let deployed = Instant::now();
    while generation(&second.address).await.as_deref() != Some("2") {
        assert!(
            deployed.elapsed() < Duration::from_secs(1),
            "the second node did not serve the deploy within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = deployed.elapsed();
    eprintln!("the second node served the deploy after {took:?}");
    let extra = reqwest::get(format!("http://{}/extra", second.address))
        .await
        .unwrap();
    assert_eq!(extra.status(), 200);

    // A token revoked on the first node stops working on the second within
    // a second, though the second had checked (and cached) it.
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("http://{}/authorization/token", first.address))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "fusio"),
            ("username", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let users = |address: String| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            http.get(format!("http://{address}/backend/user"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(users(second.address.clone()).await, 200);
    let revoked = http
        .post(format!("http://{}/authorization/revoke", first.address))
        .form(&[("token", token.as_str()), ("client_id", "fusio")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let revoked_at = Instant::now();
    while users(second.address.clone()).await != 401 {
        assert!(
            revoked_at.elapsed() < Duration::from_secs(1),
            "the second node still accepts a revoked token"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The `fusio login`, `fusio deploy` and `fusio rollback` commands as a
/// developer and a CI pipeline run them: exit codes, the printed plan, a
/// refused file located on stderr, client credentials from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_commands_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = serve(&["--admin-password", PASSWORD], &data);
    let url = format!("http://{}", server.address);
    let credentials = dir.path().join("credentials.json");
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut command = crate::support::process::fusio();
        command
            .args(args)
            .env_remove("FUSIO_CLIENT_ID")
            .env_remove("FUSIO_CLIENT_SECRET")
            .env("FUSIO_URL", &url)
            .env("FUSIO_CREDENTIALS", &credentials)
            .env(
                "FUSIO_BUILD_TARGET_DIR",
                crate::support::guests::build_target_dir("examples"),
            )
            .stdin(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().expect("fusio runs");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (code, out, err) = run(&["login"], &[("FUSIO_PASSWORD", PASSWORD)]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Nothing to roll back to yet: the answer is no, exit code 1.
    let (code, out, err) = run(&["rollback"], &[]);
    assert_eq!(code, Some(1), "{out}{err}");
    let v1 = project(dir.path(), "v1", &guest("echo"), 1, false);
    let (code, out, err) = run(&["deploy", v1.to_str().unwrap(), "--dry-run"], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("plan against revision 0"), "{out}");
    assert!(out.contains("+/version"), "{out}");
    assert_eq!(
        generation(&server.address).await,
        None,
        "a dry run applies nothing"
    );
    let (code, out, err) = run(&["deploy", v1.to_str().unwrap()], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("is served as revision 1"), "{out}");
    assert_eq!(generation(&server.address).await.as_deref(), Some("1"));

    // A refused file: exit code 1 (the answer is no), the file and line
    // on stderr; the same with --dry-run. A file that cannot be read is
    // an error: 2.
    let bad = dir.path().join("bad.yml");
    std::fs::write(
        &bad,
        "routes:\n  /version:\n    methods:\n      GET: { action: nope, public: true }\naction: {}\n",
    )
    .unwrap();
    for dry_run in [false, true] {
        let mut args = vec!["deploy", bad.to_str().unwrap()];
        if dry_run {
            args.push("--dry-run");
        }
        let (code, _, err) = run(&args, &[]);
        assert_eq!(code, Some(1), "dry run {dry_run}: {err}");
        assert!(err.contains("bad.yml:4:7"), "{err}");
        assert!(err.contains("the action `nope` is not defined"), "{err}");
    }
    let missing = dir.path().join("missing.yml");
    let (code, _, err) = run(&["deploy", missing.to_str().unwrap()], &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot read"), "{err}");
    // A server that cannot be reached is an error too: 2.
    let (code, _, err) = run(
        &["deploy", v1.to_str().unwrap()],
        &[
            ("FUSIO_URL", "http://127.0.0.1:9"),
            ("FUSIO_CLIENT_ID", "ci"),
            ("FUSIO_CLIENT_SECRET", "secret"),
        ],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot reach"), "{err}");

    // CI: an app's client credentials instead of a login.
    let (code, out, err) = run(
        &[
            "addapp",
            "--user",
            "admin",
            "--name",
            "ci",
            "--scope",
            "backend.deploy",
            "--data-dir",
            data.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap()
            .to_owned()
    };
    let (id, secret) = (field("client_id"), field("client_secret"));
    let v2 = project(dir.path(), "v2", &guest("echo"), 2, false);
    let (code, out, err) = run(
        &["deploy", v2.to_str().unwrap()],
        &[("FUSIO_CLIENT_ID", &id), ("FUSIO_CLIENT_SECRET", &secret)],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert_eq!(generation(&server.address).await.as_deref(), Some("2"));

    // And back.
    let (code, out, err) = run(&["rollback"], &[]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("revision 3"), "{out}");
    assert_eq!(generation(&server.address).await.as_deref(), Some("1"));
}
