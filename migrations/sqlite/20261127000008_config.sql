-- Settings administrators change at runtime (`/backend/config`), one row
-- per setting that differs from its default; the value is JSON.
CREATE TABLE fusio_config (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
