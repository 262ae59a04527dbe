//! The system store on both backends: migrations, deploys as revisions,
//! content-addressed components, and restarts from the precompile cache.

use crate::support::{Backend, TestApp, on_both_stores};
use fusio::digest::sha256_hex;

const HELLO: &str = r#"
routes:
  /counter:
    methods:
      GET: { action: counter, public: true }
action:
  counter:
    component: "{guest:counter}"
    config: { a: "1" }
    limits: { memory: 32 MiB, timeout: 3s }
"#;

async fn deploy_is_stored_as_a_revision(backend: Backend) {
    let app = TestApp::start(backend, HELLO).await;
    let stored = app.state.store.current().await.unwrap();
    assert_eq!(stored.revision, 1);
    assert_eq!(stored.project.actions.len(), 1);
    let action = &stored.project.actions[0];
    assert_eq!(action.name, "counter");
    assert_eq!(action.limits.memory, 32 * 1024 * 1024);
    assert_eq!(action.limits.timeout, std::time::Duration::from_secs(3));
    assert_eq!(action.config.get("a").map(String::as_str), Some("1"));
    assert_eq!(stored.project.routes[0].path, "/counter");
    assert!(stored.project.routes[0].versions[0].methods[0].public);
    let bytes = app.state.store.component(&action.sha256).await.unwrap();
    assert_eq!(
        sha256_hex(&bytes),
        action.sha256,
        "components are content-addressed"
    );
    app.state
        .store
        .migrate()
        .await
        .expect("migrating twice is a no-op");
}

async fn a_restart_serves_the_stored_revision_from_the_precompile_cache(backend: Backend) {
    // A cache of its own, so the first start must compile.
    let app = TestApp::start_with(backend, HELLO, |options| {
        options.engine.cache_dir = options.data_dir.join("own-cache");
    })
    .await;
    assert_eq!(app.state.runtime.precompile_stats().misses, 1);
    assert_eq!(app.get("/counter").await.status, 200);

    let app = app.restart(false).await;
    let stats = app.state.runtime.precompile_stats();
    assert_eq!(stats.misses, 0, "nothing was compiled again");
    assert_eq!(stats.hits, 1, "the component came from the cache");
    assert_eq!(app.state.live.current().revision, 1);
    assert_eq!(app.get("/counter").await.json()["calls"], 1);
}

on_both_stores!(
    deploy_is_stored_as_a_revision,
    a_restart_serves_the_stored_revision_from_the_precompile_cache,
);
