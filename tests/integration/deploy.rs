//! `fusio deploy` and `fusio rollback` against a served Fusio: components
//! uploaded once, the plan, idempotence, conditional apply, rollback, the
//! audit log, refused projects that change nothing, and hot swaps under load.

use crate::support::app::write_project;
use crate::support::{Backend, TestApp, on_both_stores};
use fusio::client::deploy::{DeployCommandError, deploy, rollback};
use fusio::client::{Client, ClientError, Login};
use fusio::project::{BuildOptions, ProjectError};
use std::path::PathBuf;

const ECHO: &str = r#"
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
action:
  echo:
    component: "{guest:echo}"
    config:
      generation: "0"
"#;

pub(crate) async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, ECHO, |options| {
        options.admin_password = Some("admin password".into());
    })
    .await
}

/// Serves `app`, logs in as admin and answers a client for the server.
pub(crate) async fn connect(app: &TestApp) -> Client {
    let url = app.serve().await;
    let credentials = app.dir.path().join("credentials.json");
    fusio::client::login(&url, "admin", "admin password", &credentials)
        .await
        .expect("admin logs in");
    Client::connect(&url, &Login::Saved(credentials))
        .await
        .expect("the saved login works")
}

/// Writes `yaml` as `NAME.yml` in its own directory below the app's.
fn project(app: &TestApp, name: &str, yaml: &str) -> PathBuf {
    let dir = app.dir.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let file = write_project(&dir, yaml);
    let named = dir.join(format!("{name}.yml"));
    std::fs::rename(file, &named).unwrap();
    named
}

/// The `generation` config value the echo guest answers (its config is a
/// list of pairs).
pub(crate) fn generation(answer: &serde_json::Value) -> String {
    answer["config"]
        .as_array()
        .and_then(|pairs| pairs.iter().find(|pair| pair[0] == "generation"))
        .and_then(|pair| pair[1].as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(crate) fn build() -> BuildOptions {
    BuildOptions {
        target_dir: Some(crate::support::guests::build_target_dir("examples")),
    }
}

async fn deploys_plan_apply_and_change_nothing_twice(backend: Backend) {
    let app = start(backend).await;
    let client = connect(&app).await;
    let first = app.state.live.current().revision;
    let file = project(
        &app,
        "v2",
        r#"
routes:
  /echo:
    methods:
      GET: { action: echo, public: true }
  /private:
    methods:
      GET: { action: echo, scopes: [echo.read] }
action:
  echo:
    component: "{guest:echo}"
    config:
      generation: "2"
"#,
    );

    // A dry run plans and changes nothing.
    let dry = deploy(&client, &file, &build(), true).await.unwrap();
    assert!(dry.changed);
    assert_eq!(dry.revision, first);
    assert_eq!(dry.plan.routes.created, ["/private"]);
    assert_eq!(dry.plan.actions.changed, ["echo"]);
    assert_eq!(app.state.live.current().revision, first);
    assert_eq!(generation(&app.get("/echo").await.json()), "0");

    let applied = deploy(&client, &file, &build(), false).await.unwrap();
    assert!(applied.changed);
    assert_eq!(applied.revision, first + 1);
    assert_eq!(app.state.live.current().revision, first + 1);
    assert_eq!(generation(&app.get("/echo").await.json()), "2");
    app.get("/private").await.assert_problem(401);

    // The same file again: nothing to do, no new revision.
    let again = deploy(&client, &file, &build(), false).await.unwrap();
    assert!(!again.changed);
    assert_eq!(again.revision, first + 1);
    assert!(
        again.message.contains("nothing changed"),
        "{}",
        again.message
    );
    assert_eq!(app.state.store.latest_revision().await.unwrap(), first + 1);

    // The audit log names who deployed what.
    let (_, audit) = app
        .state
        .store
        .list_audit(fusio::store::Page {
            search: None,
            start: 0,
            count: 10,
        })
        .await
        .unwrap();
    assert_eq!(audit[0].action, "deploy");
    assert_eq!(audit[0].actor, "admin via fusio");
    assert_eq!(audit[0].entity, format!("revision:{}", first + 1));
    assert_eq!(audit[0].detail["routes"]["created"][0], "/private");

    // A plan made against an older revision is refused with 412.
    let compiled = fusio::project::compile(&file, &build()).await.unwrap();
    let mut changed = compiled.project.clone();
    changed.routes.pop();
    match client.deploy(&changed, false, Some(first)).await {
        Err(ClientError::Refused { status: 412, .. }) => {}
        other => panic!("expected 412, got {other:?}"),
    }
    assert_eq!(app.state.live.current().revision, first + 1);
}

async fn a_rollback_serves_the_earlier_routes_and_components(backend: Backend) {
    let app = start(backend).await;
    let client = connect(&app).await;
    let first = app.state.live.current().revision;
    let v2 = project(
        &app,
        "v2",
        r#"
routes:
  /count:
    methods:
      GET: { action: counter, public: true }
action:
  counter:
    component: "{guest:counter}"
"#,
    );
    deploy(&client, &v2, &build(), false).await.unwrap();
    assert_eq!(app.get("/echo").await.status, 404);
    assert_eq!(app.get("/count").await.status, 200);

    // Back to the revision before: its routes and its component again.
    let back = rollback(&client, None, false).await.unwrap();
    assert_eq!(back.revision, first + 2);
    assert_eq!(back.plan.routes.created, ["/echo"]);
    assert_eq!(back.plan.routes.removed, ["/count"]);
    assert_eq!(generation(&app.get("/echo").await.json()), "0");
    assert_eq!(app.get("/count").await.status, 404);
    let stored = app.state.store.current().await.unwrap();
    assert_eq!(stored.revision, first + 2);
    assert_eq!(stored.project.routes[0].path, "/echo");

    // And forward again to the second revision, by number.
    rollback(&client, Some(first + 1), false).await.unwrap();
    assert_eq!(app.get("/count").await.status, 200);
    let revisions = client.revisions().await.unwrap();
    assert_eq!(revisions[0].source, format!("rollback:{}", first + 1));
    assert!(revisions[0].current);
    match rollback(&client, Some(999), false).await {
        Err(DeployCommandError::Client(ClientError::Refused { status: 404, .. })) => {}
        other => panic!("expected 404, got {other:?}"),
    }
}

on_both_stores!(
    deploys_plan_apply_and_change_nothing_twice,
    a_rollback_serves_the_earlier_routes_and_components,
);

/// Every file of the invalid corpus, deployed over HTTP the way CI does,
/// is refused naming the file and the line/column or the entry, and the
/// served revision stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invalid_corpus_is_refused_remotely_and_changes_nothing() {
    let app = start(Backend::Sqlite).await;
    let client = connect(&app).await;
    let served = app.state.live.current().revision;
    let failures = crate::project::corpus_failures(app.dir.path(), |file| {
        let client = client.clone();
        async move {
            match deploy(&client, &file, &build(), false).await {
                Ok(_) => None,
                Err(DeployCommandError::Project(
                    err @ (ProjectError::Invalid { .. } | ProjectError::Parse { .. }),
                )) => Some(err.to_string()),
                Err(other) => Some(format!("refused without naming the file: {other}")),
            }
        }
    })
    .await;
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(app.state.store.latest_revision().await.unwrap(), served);
    assert_eq!(app.state.live.current().revision, served);
    assert_eq!(app.get("/echo").await.status, 200);
}

/// `!include` of another file and `${env.NAME}`/`${dir.src}` variables,
/// as in PHP Fusio's `.fusio.yml`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn includes_and_variables_are_resolved() {
    let app = start(Backend::Sqlite).await;
    let client = connect(&app).await;
    let dir = app.dir.path().join("included");
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    std::fs::copy(crate::support::guests::guest("echo"), dir.join("echo.wasm")).unwrap();
    std::fs::write(
        dir.join("parts/routes.yml"),
        "/included:\n  methods:\n    GET: { action: echo, public: true }\n",
    )
    .unwrap();
    let file = dir.join("fusio.yml");
    std::fs::write(
        &file,
        "routes: !include parts/routes.yml\naction:\n  echo:\n    component: ${dir.src}/echo.wasm\n    config:\n      generation: ${env.CARGO_PKG_NAME}\n      literal: $${env.NOT_REPLACED}\n",
    )
    .unwrap();
    // Cargo sets CARGO_PKG_NAME for the tests it runs.
    let deployed = deploy(&client, &file, &build(), false).await.unwrap();
    assert!(deployed.changed, "{}", deployed.message);
    let answer = app.get("/included").await.json();
    assert_eq!(generation(&answer), env!("CARGO_PKG_NAME"));
    assert!(answer["config"].to_string().contains("${env.NOT_REPLACED}"));
}

/// The generation an answer of the load test's action carries: the echo
/// guest's config value, or the number the hello example greets with.
fn generation_of(answer: &serde_json::Value) -> Option<u32> {
    let text = match answer["message"].as_str() {
        Some(message) => message.split(' ').next()?.to_owned(),
        None => generation(answer),
    };
    text.parse().ok()
}

/// 100 clients call one route while 20 deploys alternate its action between
/// two components (the echo guest and the hello example), each deploy with
/// the next generation in its config: no request fails, and no client sees
/// an older generation after a newer one. (No rate limits: the load is far
/// beyond the default rate of one address.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_deploys_under_load_drop_nothing_and_never_go_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    const CLIENTS: usize = 100;
    const DEPLOYS: u32 = 20;

    let app = start(Backend::Sqlite).await;
    let client = connect(&app).await;
    let hello = crate::support::guests::root().join("examples/hello");
    let write = |generation: u32| {
        let component = if generation.is_multiple_of(2) {
            crate::support::guests::guest("echo").display().to_string()
        } else {
            hello.display().to_string()
        };
        let file = app.dir.path().join(format!("load-{generation}.yml"));
        std::fs::write(
            &file,
            format!(
                "rate: {{}}\n\
                 routes:\n  /version:\n    methods:\n      GET: {{ action: version, public: true }}\n\
                 action:\n  version:\n    component: {component}\n    config:\n      \
                 generation: \"{generation}\"\n      greeting: \"{generation}\"\n"
            ),
        )
        .unwrap();
        file
    };
    // Both components built, uploaded and precompiled before the load.
    deploy(&client, &write(1), &build(), false).await.unwrap();
    deploy(&client, &write(0), &build(), false).await.unwrap();

    let url = client.url().to_owned();
    let http = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let mut callers = Vec::new();
    for _ in 0..CLIENTS {
        let (http, url, stop) = (http.clone(), url.clone(), stop.clone());
        callers.push(tokio::spawn(async move {
            let (mut last, mut calls, mut failures, mut went_back) =
                (0u32, 0u32, Vec::new(), Vec::new());
            let mut seen_all = std::collections::BTreeSet::new();
            loop {
                // One more call after the stop, to see the last generation.
                let stopping = stop.load(Ordering::SeqCst);
                match http.get(format!("{url}/version")).send().await {
                    Ok(response) if response.status() == 200 => {
                        let body: serde_json::Value = response.json().await.unwrap_or_default();
                        match generation_of(&body) {
                            Some(seen) if seen < last => went_back.push((last, seen)),
                            Some(seen) => {
                                last = seen;
                                seen_all.insert(seen);
                            }
                            None => failures.push(format!("no generation in {body}")),
                        }
                    }
                    Ok(response) => failures.push(format!("status {}", response.status())),
                    Err(err) => failures.push(err.to_string()),
                }
                calls += 1;
                if stopping {
                    return (last, calls, failures, went_back, seen_all);
                }
            }
        }));
    }
    for generation in 1..=DEPLOYS {
        let deployed = deploy(&client, &write(generation), &build(), false)
            .await
            .unwrap();
        assert!(deployed.changed);
    }
    stop.store(true, Ordering::SeqCst);
    let (mut total, mut generations) = (0, std::collections::BTreeSet::new());
    for caller in callers {
        let (last, calls, failures, went_back, seen) = caller.await.unwrap();
        generations.extend(seen);
        assert!(failures.is_empty(), "failed requests: {failures:?}");
        assert!(went_back.is_empty(), "a client went back: {went_back:?}");
        assert_eq!(last, DEPLOYS, "every client ends on the last deploy");
        total += calls;
    }
    eprintln!("{total} calls during {DEPLOYS} deploys");
    // The swaps happened under load: clients saw most generations go by.
    assert!(
        generations.len() >= DEPLOYS as usize / 2,
        "clients saw only the generations {generations:?}"
    );
}
