//! Stores what actions log (`fusio_log`) off the request path, through the
//! journal's batch writer (bounded queue, batches, every entry counted as
//! written, failed or dropped; metrics `fusio_log_writer_*{log="action"}`).

use crate::journal::{BatchWriter, WriterStats};
use crate::runtime::LogRecord;
use crate::store::Store;
use crate::store::log::LogEntry;

/// Entries waiting to be written, at most.
const QUEUE: usize = 10_000;

/// The sending side, shared by every snapshot of the node.
#[derive(Debug)]
pub(super) struct LogSink {
    writer: BatchWriter<LogEntry>,
}

impl LogSink {
    /// Starts the writer task for `store`.
    pub(super) fn start(store: Store) -> Self {
        let writer = BatchWriter::start("action", QUEUE, move |batch: Vec<LogEntry>, _| {
            let store = store.clone();
            async move { store.insert_log(&batch).await }
        });
        Self { writer }
    }

    /// Queues an entry; drops (and counts) it when the queue is full.
    pub(super) fn send(&self, record: LogRecord) {
        self.writer.send(LogEntry {
            id: 0,
            request_id: record.request_id,
            action: record.action,
            level: record.level.to_owned(),
            message: record.message,
            fields: record.fields,
            created_at: String::new(),
        });
    }

    /// Waits until every entry queued so far is written.
    pub(super) async fn flush(&self) {
        self.writer.flush().await;
    }

    /// What the writer did so far.
    pub(super) fn stats(&self) -> WriterStats {
        self.writer.stats()
    }
}
