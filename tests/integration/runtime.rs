//! The sandbox: timeouts, memory caps, traps, fresh instances, pool limits.

use crate::support::logs;
use crate::support::{Backend, TestApp};
use fusio::runtime::PoolingMode;
use std::time::Duration;

const GUESTS: &str = r#"
routes:
  /spin:
    methods:
      GET: { action: spin, public: true }
  /oom:
    methods:
      GET: { action: oom, public: true }
  /panic:
    methods:
      GET: { action: panic, public: true }
  /counter:
    methods:
      GET: { action: counter, public: true }
  /echo:
    methods:
      GET: { action: echo, public: true }
action:
  spin:
    component: "{guest:spin}"
    limits: { timeout: 700ms }
  oom:
    component: "{guest:oom}"
    limits: { memory: 16 MiB }
  panic:
    component: "{guest:panic}"
  counter:
    component: "{guest:counter}"
  echo:
    component: "{guest:echo}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_loops_forever_times_out_while_others_are_served() {
    let app = TestApp::start(Backend::Sqlite, GUESTS).await;
    let spinning = app.spawn_get("/spin");
    // While the guest spins, other requests are answered promptly.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut served = 0;
    while !spinning.is_finished() && served < 20 {
        let response = app.get("/echo").await;
        assert_eq!(response.status, 200);
        served += 1;
    }
    assert!(
        served >= 5,
        "only {served} requests were served while the guest looped"
    );
    let (status, elapsed) = spinning.await.unwrap();
    assert_eq!(status, 504);
    assert!(
        elapsed >= Duration::from_millis(700),
        "stopped early: {elapsed:?}"
    );
    assert!(
        elapsed <= Duration::from_millis(800),
        "504 came {elapsed:?} after the request, limit 700ms + 100ms"
    );

    let response = app.get("/spin").await;
    let problem = response.assert_problem(504);
    assert_eq!(problem["detail"], "the action did not answer within 700ms");
    let logged = logs::lines_with(&response.request_id());
    assert!(
        logged.iter().any(|l| l.contains("spinning until stopped")),
        "what a timed-out guest printed is logged: {logged:#?}"
    );
    assert_eq!(
        app.get("/spin?quick").await.status,
        200,
        "the next request gets a fresh instance"
    );
}

#[tokio::test]
async fn a_guest_that_grows_past_its_memory_cap_gets_500_and_the_next_request_succeeds() {
    let app = TestApp::start(Backend::Sqlite, GUESTS).await;
    let response = app.get("/oom?grow").await;
    response.assert_problem(500);
    let logged = logs::lines_with(&response.request_id());
    assert!(
        logged.iter().any(|l| l.contains("action failed")),
        "{logged:#?}"
    );
    let next = app.get("/oom").await;
    assert_eq!(next.status, 200);
    assert_eq!(next.text(), "small");
}

#[tokio::test]
async fn a_panicking_guest_gets_a_problem_without_the_panic_text_which_goes_to_the_log() {
    let app = TestApp::start(Backend::Sqlite, GUESTS).await;
    let response = app.get("/panic?token=s3cr3t").await;
    let problem = response.assert_problem(500);
    assert!(
        !response.text().contains("s3cr3t"),
        "the panic text leaked: {problem}"
    );
    assert!(
        !response.text().contains("panic"),
        "the panic leaked: {problem}"
    );
    let logged = logs::lines_with(&response.request_id()).join("\n");
    assert!(
        logged.contains("guest panic with secret s3cr3t"),
        "log lines: {logged}"
    );
    assert!(logged.contains("action=\"panic\""), "log lines: {logged}");
}

#[tokio::test]
async fn every_request_gets_a_fresh_instance() {
    let app = TestApp::start(Backend::Sqlite, GUESTS).await;
    for _ in 0..5 {
        let response = app.get("/counter").await;
        assert_eq!(
            response.json()["calls"],
            1,
            "a global survived between requests"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_instance_pool_answers_503_with_retry_after() {
    let app = TestApp::start_with(Backend::Sqlite, GUESTS, |options| {
        options.engine.max_instances = 1
    })
    .await;
    assert_eq!(app.state.runtime.pooling(), PoolingMode::Pooling);
    let spinning = app.spawn_get("/spin");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let response = app.get("/echo").await;
    response.assert_problem(503);
    assert_eq!(response.header("retry-after"), Some("1"));
    assert_eq!(spinning.await.unwrap().0, 504);
    assert_eq!(app.get("/echo").await.status, 200, "the slot is free again");
}

#[tokio::test]
async fn guest_log_entries_carry_the_request_id_and_action() {
    let app = TestApp::start(Backend::Sqlite, GUESTS).await;
    let response = app.get("/echo").await;
    let logged = logs::lines_with(&response.request_id()).join("\n");
    assert!(logged.contains("echo called"), "{logged}");
    assert!(
        logged.contains("action=\"echo\"") || logged.contains("action=echo"),
        "{logged}"
    );
    assert!(
        logged.contains("path=\\\"/echo\\\"") || logged.contains("path=\"/echo\""),
        "{logged}"
    );
}
