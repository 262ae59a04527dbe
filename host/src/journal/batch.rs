//! One way to write records off the request path: a bounded queue and one
//! task that writes what arrives in batches (at most [`BATCH`] records, or
//! what came within [`LINGER`]). A full queue drops the record rather than
//! slow the request down; every record is counted as written, failed (the
//! store refused its batch) or dropped, in `/system/health` and in the
//! metrics (`fusio_log_writer_*{log=…}`).

use crate::store::StoreError;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Records written in one batch, at most.
pub const BATCH: usize = 1024;
/// How long a record may wait for its batch.
const LINGER: Duration = Duration::from_millis(100);

enum Message<T> {
    Record(T),
    /// Write what is queued, then answer.
    Flush(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
struct Counts {
    written: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// What a writer did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct WriterStats {
    /// Records stored.
    pub written: u64,
    /// Records whose batch the store refused.
    pub failed: u64,
    /// Records dropped because the queue was full.
    pub dropped: u64,
    /// Records waiting now.
    pub queued: u64,
}

/// The sending side of one writer. Cheap to clone.
pub struct BatchWriter<T> {
    sender: mpsc::Sender<Message<T>>,
    counts: Arc<Counts>,
    log: &'static str,
}

impl<T> Clone for BatchWriter<T> {
    fn clone(&self) -> Self {
        Self {
            sender: self.sender.clone(),
            counts: self.counts.clone(),
            log: self.log,
        }
    }
}

impl<T> std::fmt::Debug for BatchWriter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchWriter")
            .field("log", &self.log)
            .field("counts", &self.counts)
            .finish()
    }
}

impl<T: Send + 'static> BatchWriter<T> {
    /// Starts the task that writes batches with `write`; `log` names the
    /// writer in messages and metrics; at most `queue` records wait.
    /// `write` gets each batch and whether more records are queued.
    pub fn start<W, F>(log: &'static str, queue: usize, write: W) -> Self
    where
        W: Fn(Vec<T>, bool) -> F + Send + 'static,
        F: Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(queue.max(1));
        let counts = Arc::new(Counts::default());
        tokio::spawn(run(log, receiver, counts.clone(), write));
        Self {
            sender,
            counts,
            log,
        }
    }

    /// Queues a record; drops (and counts) it when the queue is full.
    pub fn send(&self, record: T) {
        if self.sender.try_send(Message::Record(record)).is_err() {
            let dropped = self.counts.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if crate::telemetry::enabled() {
                metrics::counter!("fusio_log_writer_dropped_total", "log" => self.log).increment(1);
            }
            if dropped.is_power_of_two() {
                tracing::warn!(
                    log = self.log,
                    dropped,
                    "a log writer cannot keep up; records were dropped"
                );
            }
        }
    }

    /// Waits until every record queued before this call is written (or
    /// counted as failed).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// What this writer did so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            written: self.counts.written.load(Ordering::Relaxed),
            failed: self.counts.failed.load(Ordering::Relaxed),
            dropped: self.counts.dropped.load(Ordering::Relaxed),
            queued: (self.sender.max_capacity() - self.sender.capacity()) as u64,
        }
    }
}

async fn run<T, W, F>(
    log: &'static str,
    mut receiver: mpsc::Receiver<Message<T>>,
    counts: Arc<Counts>,
    write: W,
) where
    W: Fn(Vec<T>, bool) -> F,
    F: Future<Output = Result<(), StoreError>>,
{
    let mut batch = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = receiver.recv().await {
        match first {
            Message::Record(record) => batch.push(record),
            Message::Flush(done) => waiting.push(done),
        }
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while batch.len() < BATCH && waiting.is_empty() {
            tokio::select! {
                next = receiver.recv() => match next {
                    Some(Message::Record(record)) => batch.push(record),
                    Some(Message::Flush(done)) => waiting.push(done),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        if !batch.is_empty() {
            let records = batch.len() as u64;
            let more = !receiver.is_empty();
            let outcome = write(
                std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                more,
            )
            .await;
            let enabled = crate::telemetry::enabled();
            match outcome {
                Ok(()) => {
                    counts.written.fetch_add(records, Ordering::Relaxed);
                    if enabled {
                        metrics::counter!("fusio_log_writer_written_total", "log" => log)
                            .increment(records);
                    }
                }
                Err(err) => {
                    counts.failed.fetch_add(records, Ordering::Relaxed);
                    if enabled {
                        metrics::counter!("fusio_log_writer_failed_total", "log" => log)
                            .increment(records);
                    }
                    tracing::error!(log, error = %err, records, "cannot store log records");
                }
            }
            if enabled {
                metrics::gauge!("fusio_log_writer_queue", "log" => log).set(receiver.len() as f64);
            }
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn every_record_is_written_failed_or_dropped() {
        let stored = Arc::new(Mutex::new(Vec::new()));
        let sink = stored.clone();
        let writer = BatchWriter::start("test", 4, move |batch: Vec<u32>, _| {
            let sink = sink.clone();
            async move {
                if batch.contains(&13) {
                    return Err(StoreError::Corrupt("unlucky".into()));
                }
                sink.lock().unwrap().extend(batch);
                Ok(())
            }
        });
        // The test runtime has one thread: nothing is written until it
        // waits, so a queue of 4 takes 4 of 100 and drops 96.
        for record in 0..100 {
            writer.send(record);
        }
        writer.flush().await;
        writer.send(13);
        writer.flush().await;
        let stats = writer.stats();
        assert_eq!(stored.lock().unwrap().clone(), [0, 1, 2, 3]);
        assert_eq!((stats.written, stats.failed, stats.dropped), (4, 1, 96));
        assert_eq!(stats.queued, 0);
    }
}
