-- Pruning old action log entries (the log retention setting) finds them by time.
CREATE INDEX fusio_log_created ON fusio_log (created_at);
