//! Counters and histograms of what the server does, in Prometheus' text
//! format at `GET /system/metrics` (the `metrics` crate records; its
//! Prometheus exporter writes the text). One recorder per process, installed
//! on first use: requests by route, method and status class, their
//! latency, and build information; other layers record through the
//! `metrics` macros under the `fusio_` prefix.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether a recorder is installed: until then the request path skips
/// building labels at all.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether anything is recorded (metrics are on).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}
use std::time::Duration;

/// Who may read `/system/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Nobody: the path answers 404 (the default).
    #[default]
    Off,
    /// Anyone (the network decides who reaches it).
    Public,
    /// A scraper presenting `Authorization: Bearer <token>`.
    Token(String),
}

/// Latency buckets in seconds: from 100 µs to 10 s.
const BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

/// The process's recorder, installed on first use; `None` when another
/// recorder was installed first (then nothing is exported).
fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .ok()?
                .install_recorder()
                .ok()?;
            metrics::gauge!("fusio_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
            ENABLED.store(true, Ordering::Relaxed);
            Some(handle)
        })
        .as_ref()
}

/// Installs the recorder, so what is recorded from now on is kept.
pub fn install() {
    let _ = handle();
}

/// Everything recorded so far, in Prometheus' text format.
pub fn render() -> String {
    handle()
        .map(|handle| {
            handle.run_upkeep();
            handle.render()
        })
        .unwrap_or_default()
}

/// The class of an HTTP status: `2xx`, `4xx`, …
fn class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A request method as a label: the standard ones by name, any other as
/// `OTHER`, so a client inventing methods cannot make the label set grow.
fn method_label(method: &http::Method) -> &'static str {
    match *method {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PUT => "PUT",
        http::Method::PATCH => "PATCH",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// One request to a user route (`route` as written in the project, `-`
/// for none) and how long it took.
pub fn request(route: &str, method: &http::Method, status: u16, took: Duration) {
    if !enabled() {
        return;
    }
    let labels = [
        ("route", route.to_owned()),
        ("method", method_label(method).to_owned()),
        ("status", class(status).to_owned()),
    ];
    metrics::counter!("fusio_http_requests_total", &labels).increment(1);
    metrics::histogram!("fusio_http_request_duration_seconds", &labels).record(took.as_secs_f64());
}

/// One invocation of `action` and how it ended (`answered`, `trap`,
/// `timeout`, `pool_exhausted`, `instantiate`).
pub fn invocation(action: &str, outcome: &'static str, took: Duration) {
    if !enabled() {
        return;
    }
    metrics::counter!("fusio_action_invocations_total", "action" => action.to_owned(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("fusio_action_duration_seconds", "action" => action.to_owned())
        .record(took.as_secs_f64());
}

/// How many action log entries were dropped so far (queue full or budget
/// spent), set when metrics are read.
pub fn dropped_log_entries(count: u64) {
    metrics::gauge!("fusio_action_log_dropped_total").set(count as f64);
}

/// What the runtime counted, set at scrape time: instances alive and the
/// pool's size, and calls of actions to other actions by outcome.
pub fn runtime_usage(live: u64, max: u64, calls: &[(&'static str, u64)]) {
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!("fusio_action_instances").set(live as f64);
        metrics::gauge!("fusio_action_instances_max").set(max as f64);
    }
    for (outcome, count) in calls {
        metrics::counter!("fusio_processor_calls_total", "outcome" => *outcome).absolute(*count);
    }
}
