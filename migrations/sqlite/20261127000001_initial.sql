-- The first system-store schema: deploy revisions, content-addressed
-- components, actions and routes with their methods.
CREATE TABLE fusio_revision (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE fusio_component (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE fusio_action (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    component TEXT NOT NULL REFERENCES fusio_component (sha256),
    config TEXT NOT NULL,
    memory_limit INTEGER NOT NULL,
    timeout_ms INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fusio_routes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    version INTEGER NOT NULL,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fusio_routes_method (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    route_id INTEGER NOT NULL REFERENCES fusio_routes (id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    action TEXT NOT NULL REFERENCES fusio_action (name),
    public INTEGER NOT NULL,
    UNIQUE (route_id, method)
);
