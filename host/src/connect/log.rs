//! Stores what actions log (`fusio_log`) off the request path: entries go
//! into a bounded channel and one task writes them in batches. When the
//! store falls behind, entries are dropped (and counted in the server log)
//! rather than slowing requests down. Written, failed and dropped entries
//! and the queue's depth are metrics (`fusio_log_writer_*`).

use crate::runtime::LogRecord;
use crate::store::Store;
use crate::store::log::LogEntry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Entries waiting to be written, at most.
const QUEUE: usize = 10_000;
/// Entries written in one transaction, at most.
const BATCH: usize = 256;
/// How long an entry may wait for its batch.
const LINGER: Duration = Duration::from_millis(100);
/// How often entries past the retention (`logRetentionDays`) are removed.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The sending side, shared by every snapshot of the node.
#[derive(Debug)]
pub(super) struct LogSink {
    sender: mpsc::Sender<LogEntry>,
    dropped: AtomicU64,
}

impl LogSink {
    /// Starts the writer task for `store`, and the task that removes
    /// entries past the retention (now, then every hour).
    pub(super) fn start(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(prune(store.clone()));
        tokio::spawn(write(store, receiver));
        Self {
            sender,
            dropped: AtomicU64::new(0),
        }
    }

    /// Queues an entry; drops it when the queue is full.
    pub(super) fn send(&self, record: LogRecord) {
        let entry = LogEntry {
            id: 0,
            request_id: record.request_id,
            action: record.action,
            level: record.level.to_owned(),
            message: record.message,
            fields: record.fields,
            created_at: String::new(),
        };
        if self.sender.try_send(entry).is_err() {
            metrics::counter!("fusio_log_writer_dropped_total").increment(1);
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(
                    dropped,
                    "the action log cannot keep up; entries were dropped"
                );
            }
        }
    }
}

async fn write(store: Store, mut receiver: mpsc::Receiver<LogEntry>) {
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(first) = receiver.recv().await {
        batch.push(first);
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while batch.len() < BATCH {
            tokio::select! {
                next = receiver.recv() => match next {
                    Some(entry) => batch.push(entry),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        let entries = batch.len() as u64;
        match store.insert_log(&batch).await {
            Ok(()) => metrics::counter!("fusio_log_writer_written_total").increment(entries),
            Err(err) => {
                metrics::counter!("fusio_log_writer_failed_total").increment(entries);
                tracing::error!(error = %err, entries, "cannot store action log entries");
            }
        }
        metrics::gauge!("fusio_log_writer_queue").set(receiver.len() as f64);
        batch.clear();
    }
}

/// Removes entries older than the retention setting, now and then every
/// [`PRUNE_EVERY`] (each node does; the deletes are idempotent).
async fn prune(store: Store) {
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
        match store.prune_log(cutoff).await {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, days, "removed old action log entries"),
            Err(err) => tracing::warn!(error = %err, "cannot remove old action log entries"),
        }
    }
}
