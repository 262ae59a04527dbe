//! What the server records about the requests it answers, off the request
//! path: the request log (with the error log in it) and the writers that
//! store it and what actions log (`batch.rs`), and the retention that
//! removes both after `logRetentionDays`.

mod batch;

pub use batch::{BatchWriter, WriterStats};

use crate::store::Store;
use crate::store::request_log::RequestRecord;
use crate::store::request_stats::Rollups;
use http::{HeaderMap, HeaderName};
use std::sync::Arc;
use std::time::Duration;

/// How a node logs requests.
#[derive(Debug, Clone)]
pub struct RequestLogSettings {
    /// Whether requests are logged at all.
    pub enabled: bool,
    /// How much of a request body is kept (0: none).
    pub body_limit: usize,
    /// Header names whose values are hidden, besides the credentials
    /// (`authorization`, `proxy-authorization`, `cookie`) that always are.
    pub redact: Vec<HeaderName>,
    /// Query parameter names whose values are hidden on user routes,
    /// besides `access_token`, which always is (names compared decoded
    /// and ignoring case).
    pub redact_query: Vec<String>,
    /// Records waiting to be written, at most; more are dropped (counted).
    pub queue: usize,
}

impl Default for RequestLogSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            body_limit: 4096,
            redact: Vec::new(),
            redact_query: Vec::new(),
            queue: 10_000,
        }
    }
}

/// What a hidden header value is shown as.
pub const HIDDEN: &str = "(hidden)";

/// Headers whose values are always hidden.
const CREDENTIALS: [HeaderName; 3] = [
    http::header::AUTHORIZATION,
    http::header::PROXY_AUTHORIZATION,
    http::header::COOKIE,
];

/// The request log of a node. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RequestLog {
    writer: BatchWriter<RequestRecord>,
    settings: Arc<RequestLogSettings>,
}

impl RequestLog {
    /// Starts the writer into `store`; `None` when logging is off.
    pub fn start(store: &Store, settings: RequestLogSettings) -> Option<Self> {
        if !settings.enabled {
            return None;
        }
        let store = store.clone();
        let pending = Arc::new(tokio::sync::Mutex::new(Pending::default()));
        let writer = BatchWriter::start("request", settings.queue, move |batch, more| {
            let (store, pending) = (store.clone(), pending.clone());
            async move { write_batch(&store, &pending, &batch, more).await }
        });
        Some(Self {
            writer,
            settings: Arc::new(settings),
        })
    }

    /// How much of a body to keep.
    pub fn body_limit(&self) -> usize {
        self.settings.body_limit
    }

    /// `headers` as the log keeps them: credentials and the configured
    /// names hidden.
    pub fn headers(&self, headers: &HeaderMap) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let hidden = CREDENTIALS.contains(name) || self.settings.redact.contains(name);
                let value = if hidden {
                    HIDDEN.to_owned()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.as_str().to_owned(), value)
            })
            .collect()
    }

    /// A user route's `query` as the log keeps it: as sent, but for the
    /// values of `access_token` and the configured names.
    pub fn query(&self, query: &str) -> String {
        query
            .split('&')
            .map(|pair| {
                let (raw_name, _) = pair.split_once('=').unwrap_or((pair, ""));
                let name = form_urlencoded::parse(raw_name.as_bytes())
                    .next()
                    .map(|(name, _)| name.into_owned())
                    .unwrap_or_default();
                let hidden = name.eq_ignore_ascii_case("access_token")
                    || self
                        .settings
                        .redact_query
                        .iter()
                        .any(|r| r.eq_ignore_ascii_case(&name));
                if hidden && pair.contains('=') {
                    format!("{raw_name}={HIDDEN}")
                } else {
                    pair.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Queues `record` for writing.
    pub fn record(&self, record: RequestRecord) {
        self.writer.send(record);
    }

    /// Waits until every record queued so far is written.
    pub async fn flush(&self) {
        self.writer.flush().await;
    }

    /// What the writer did so far.
    pub fn stats(&self) -> WriterStats {
        self.writer.stats()
    }
}

/// The client's address (when the server knows it) and `User-Agent`.
pub fn client_of<B>(request: &http::Request<B>) -> (Option<String>, Option<String>) {
    let ip = crate::peer::address(request.extensions()).map(|ip| ip.to_string());
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    (ip, user_agent)
}

/// Where a system-API handler leaves who called, for the request log: the
/// logging layer puts an empty slot into the request, the scope check
/// fills it.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<std::sync::OnceLock<Arc<crate::store::identity::TokenHolder>>>);

impl CallerSlot {
    /// Records the caller (the first one named wins).
    pub fn fill(&self, holder: &Arc<crate::store::identity::TokenHolder>) {
        let _ = self.0.set(holder.clone());
    }

    /// The caller, when a handler named one.
    pub fn holder(&self) -> Option<&Arc<crate::store::identity::TokenHolder>> {
        self.0.get()
    }
}

/// How long, at most, rollup tallies wait while records keep coming.
const ROLLUP_EVERY: Duration = Duration::from_secs(1);

/// What the rollups still lack of the records already stored.
#[derive(Debug)]
struct Pending {
    rollups: Rollups,
    since: std::time::Instant,
}

impl Default for Pending {
    fn default() -> Self {
        Self {
            rollups: Rollups::default(),
            since: std::time::Instant::now(),
        }
    }
}

/// Stores a batch of records. While more keep coming (`more`), what they
/// add to the rollups is summed in memory and stored with a batch once a
/// second — a rollup row then takes a second's requests in one upsert
/// instead of one per batch; once the queue is empty it is stored with the
/// batch at once, so an idle log's statistics are complete.
async fn write_batch(
    store: &Store,
    pending: &tokio::sync::Mutex<Pending>,
    batch: &[RequestRecord],
    more: bool,
) -> Result<(), crate::store::StoreError> {
    let tallies = Rollups::of(batch);
    let mut pending = pending.lock().await;
    if more && pending.since.elapsed() < ROLLUP_EVERY {
        store.store_requests(batch, None).await?;
        pending.rollups.merge(tallies);
        return Ok(());
    }
    let mut due = pending.rollups.clone();
    due.merge(tallies);
    store.store_requests(batch, Some(&due)).await?;
    *pending = Pending::default();
    Ok(())
}

/// How often records past the retention (`logRetentionDays`) are removed.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Removes request and action log records older than the retention
/// setting, now and then every hour (each node does; the deletes are
/// idempotent).
pub async fn prune(store: Store) {
    let mut every = tokio::time::interval(PRUNE_EVERY);
    loop {
        every.tick().await;
        let days = match store.settings().await {
            Ok(settings) => settings.log_retention_days,
            Err(err) => {
                tracing::warn!(error = %err, "cannot read the log retention");
                continue;
            }
        };
        if days == 0 {
            continue;
        }
        let cutoff = std::time::SystemTime::now() - Duration::from_secs(u64::from(days) * 86_400);
        for (what, removed) in [
            ("action log entries", store.prune_log(cutoff).await),
            ("logged requests", store.prune_requests(cutoff).await),
        ] {
            match removed {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, days, "removed old {what}"),
                Err(err) => tracing::warn!(error = %err, "cannot remove old {what}"),
            }
        }
    }
}
