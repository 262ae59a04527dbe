-- Every request the server answered (user routes, and the system API
-- marked `system`), with credentials hidden, the body's beginning, and
-- what failed when the server failed: the request and error log.
CREATE TABLE fusio_request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    system INTEGER NOT NULL,
    route TEXT,
    version BIGINT,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    app TEXT,
    user_name TEXT,
    ip TEXT,
    user_agent TEXT,
    status BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT,
    error_kind TEXT,
    error_message TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX fusio_request_log_created ON fusio_request_log (created_at);
CREATE INDEX fusio_request_log_request ON fusio_request_log (request_id);
CREATE INDEX fusio_request_log_errors ON fusio_request_log (created_at) WHERE error_kind IS NOT NULL;
