-- Every revision keeps the whole project it deployed (JSON), so a rollback
-- can deploy it again, and who deployed it. The audit log records every
-- change to the configuration: who, when, what.
ALTER TABLE fusio_revision ADD COLUMN content TEXT;
ALTER TABLE fusio_revision ADD COLUMN author TEXT;

CREATE TABLE fusio_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL
);
