-- The first system-store schema: deploy revisions, content-addressed
-- components, actions and routes with their methods.
CREATE TABLE fusio_revision (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE fusio_component (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    content BYTEA NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE fusio_action (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    component TEXT NOT NULL REFERENCES fusio_component (sha256),
    config TEXT NOT NULL,
    memory_limit BIGINT NOT NULL,
    timeout_ms BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fusio_routes (
    id BIGSERIAL PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    version BIGINT NOT NULL,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fusio_routes_method (
    id BIGSERIAL PRIMARY KEY,
    route_id BIGINT NOT NULL REFERENCES fusio_routes (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    action TEXT NOT NULL REFERENCES fusio_action (name),
    public BIGINT NOT NULL,
    UNIQUE (route_id, method)
);
