//! `/system/metrics`: Prometheus' text format, read by Prometheus' own
//! parser (Python `prometheus_client`), its counters moving with the
//! requests; off unless configured, and behind its bearer token.

use crate::support::{Backend, TestApp};
use axum::body::Body;
use http::Request;

const PROJECT: &str = r#"
routes:
  /metered/:id:
    methods:
      GET: { action: echo, public: true }
  /chained:
    methods:
      GET: { action: chain, public: true }
action:
  echo:
    component: "{guest:echo}"
  chain:
    component: "{guest:chain}"
    config: { next: echo, name: chain }
"#;

async fn scrape(app: &TestApp, token: Option<&str>) -> crate::support::app::TestResponse {
    let mut request = Request::get("/system/metrics");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

/// The value of the sample `name` whose labels include all of `labels`,
/// as Prometheus' parser reads the text (0 when there is none).
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let wanted: serde_json::Map<String, serde_json::Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    let script = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
name, wanted = sys.argv[1], json.loads(sys.argv[2])
total = 0.0
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in wanted.items()):
            total += s.value
print(total)
"#;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            name,
            &serde_json::Value::Object(wanted).to_string(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "Prometheus' parser refuses the text:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn the_counters_move_with_the_requests_and_parse_as_prometheus_text() {
    let app = TestApp::start_with(Backend::Sqlite, PROJECT, |options| {
        options.metrics = fusio::telemetry::MetricsAccess::Token("scrape secret".into());
    })
    .await;
    let route = [
        ("route", "/metered/:id"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    let before = scrape(&app, Some("scrape secret")).await;
    assert_eq!(before.status, 200, "{}", before.text());
    assert!(
        before
            .header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let counted = sample(&before.text(), "fusio_http_requests_total", &route);
    for id in 0..3 {
        let answer = app.get(&format!("/metered/{id}")).await;
        assert_eq!(answer.status, 200);
    }
    let after = scrape(&app, Some("scrape secret")).await.text();
    assert_eq!(
        sample(&after, "fusio_http_requests_total", &route),
        counted + 3.0
    );
    assert!(sample(&after, "fusio_http_request_duration_seconds_count", &route) >= 3.0);
    let invoked = [("action", "echo"), ("outcome", "answered")];
    assert!(sample(&after, "fusio_action_invocations_total", &invoked) >= 3.0);
    assert_eq!(
        sample(
            &after,
            "fusio_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );

    // The action logged a line per call; the writer stores them in batches
    // off the request path, and counts what it wrote.
    app.state.deployer.pools().flush_action_log().await;
    let text = scrape(&app, Some("scrape secret")).await.text();
    assert!(
        sample(
            &text,
            "fusio_log_writer_written_total",
            &[("log", "action")]
        ) >= 3.0
    );
    // ... and so does the request log's writer.
    app.state.journal.as_ref().unwrap().flush().await;
    let text = scrape(&app, Some("scrape secret")).await.text();
    assert!(
        sample(
            &text,
            "fusio_log_writer_written_total",
            &[("log", "request")]
        ) >= 3.0
    );

    // Calls of one action to another, by outcome; the instance pool's
    // use (nothing alive between requests) and size.
    let calls = |text: &str| {
        sample(
            text,
            "fusio_processor_calls_total",
            &[("outcome", "answered")],
        )
    };
    let before = calls(&scrape(&app, Some("scrape secret")).await.text());
    assert_eq!(app.get("/chained").await.status, 200);
    let text = scrape(&app, Some("scrape secret")).await.text();
    assert_eq!(calls(&text), before + 1.0);
    assert_eq!(sample(&text, "fusio_action_instances", &[]), 0.0);
    assert!(sample(&text, "fusio_action_instances_max", &[]) >= 1.0);

    // A method a client makes up is counted as OTHER, never as itself: the
    // label set cannot be made to grow.
    let made_up = app
        .send(
            Request::builder()
                .method("BREW1234")
                .uri("/metered/1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(made_up.status, 405);
    let text = scrape(&app, Some("scrape secret")).await.text();
    assert!(!text.contains("BREW1234"), "{text}");
    let other = [("route", "/metered/:id"), ("method", "OTHER")];
    assert!(sample(&text, "fusio_http_requests_total", &other) >= 1.0);

    // Without the token, or with another: 401.
    scrape(&app, None).await.assert_problem(401);
    scrape(&app, Some("guess")).await.assert_problem(401);
}

#[tokio::test]
async fn metrics_are_off_unless_configured() {
    let app = TestApp::start(Backend::Sqlite, PROJECT).await;
    scrape(&app, None).await.assert_problem(404);
}
