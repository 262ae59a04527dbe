-- What actions logged through `fusio:action/logger`, with the request id and
-- the action, for the backend's log view.
CREATE TABLE fusio_log (
    id BIGSERIAL PRIMARY KEY,
    request_id TEXT NOT NULL,
    action TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX fusio_log_request ON fusio_log (request_id);
