-- SQL migrations that deploys ran against a project's connections: each
-- file runs once; its hash shows when an applied file was changed.
CREATE TABLE fusio_deploy_migration (
    id BIGSERIAL PRIMARY KEY,
    connection TEXT NOT NULL,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    UNIQUE (connection, file)
);
