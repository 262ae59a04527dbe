-- Failed logins, counted where every node of the store sees them: per
-- account and client address pair, and per address. A row lives until
-- `expires_at` (unix seconds), moved on by each failure.
CREATE TABLE fusio_login_failure (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX fusio_login_failure_expires ON fusio_login_failure (expires_at);
