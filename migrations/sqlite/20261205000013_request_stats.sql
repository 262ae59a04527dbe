-- The request log rolled up per hour and per day, one row per bucket,
-- dimension (`all`, `route`, `app`, `user`, `ip`) and value: what the
-- statistics read instead of scanning the log. The request-log writer adds
-- each batch in the transaction that stores it.
CREATE TABLE fusio_request_hourly (
    bucket TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    duration_sum BIGINT NOT NULL,
    PRIMARY KEY (dimension, bucket, value)
);
CREATE TABLE fusio_request_daily (
    bucket TEXT NOT NULL,
    dimension TEXT NOT NULL,
    value TEXT NOT NULL,
    requests BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    duration_sum BIGINT NOT NULL,
    PRIMARY KEY (dimension, bucket, value)
);
-- Tokens, users and audit entries are counted by when they were made.
CREATE INDEX fusio_token_created ON fusio_token (created_at);
CREATE INDEX fusio_user_created ON fusio_user (created_at);
CREATE INDEX fusio_audit_created ON fusio_audit (created_at);
