-- Identity: scopes and their grants on route methods, roles, users, apps,
-- authorization codes, tokens and the keys that sign them.

CREATE TABLE fusio_scope (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    system INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- A scope granted on a route method: a token holding the scope may call it.
CREATE TABLE fusio_scope_route (
    scope_id BIGINT NOT NULL REFERENCES fusio_scope (id) ON DELETE CASCADE,
    method_id BIGINT NOT NULL REFERENCES fusio_routes_method (id) ON DELETE CASCADE,
    PRIMARY KEY (scope_id, method_id)
);

CREATE TABLE fusio_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

-- The scopes a role's users get by default.
CREATE TABLE fusio_role_scope (
    role_id BIGINT NOT NULL REFERENCES fusio_role (id) ON DELETE CASCADE,
    scope_id BIGINT NOT NULL REFERENCES fusio_scope (id) ON DELETE CASCADE,
    PRIMARY KEY (role_id, scope_id)
);

CREATE TABLE fusio_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    role_id BIGINT NOT NULL REFERENCES fusio_role (id),
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'pending')),
    name TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Scopes a user holds beyond the role's.
CREATE TABLE fusio_user_scope (
    user_id BIGINT NOT NULL REFERENCES fusio_user (id) ON DELETE CASCADE,
    scope_id BIGINT NOT NULL REFERENCES fusio_scope (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, scope_id)
);

CREATE TABLE fusio_app (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES fusio_user (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'pending')),
    name TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL UNIQUE,
    -- NULL for a public client (RFC 6749 2.1), which cannot keep a secret:
    -- it may use the password, code (with PKCE) and refresh grants only.
    secret_hash TEXT,
    redirect_uris TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE fusio_app_scope (
    app_id BIGINT NOT NULL REFERENCES fusio_app (id) ON DELETE CASCADE,
    scope_id BIGINT NOT NULL REFERENCES fusio_scope (id) ON DELETE CASCADE,
    PRIMARY KEY (app_id, scope_id)
);

-- Authorization codes (RFC 6749 4.1) with their PKCE challenge; one use.
CREATE TABLE fusio_app_code (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    app_id BIGINT NOT NULL REFERENCES fusio_app (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES fusio_user (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

-- Every issued access token, with its refresh token (hashed). A refresh
-- grant marks the old row's refresh token used; `family` ties a chain of
-- rotations together so that replaying a used refresh token revokes it all.
CREATE TABLE fusio_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    jti TEXT NOT NULL UNIQUE,
    family TEXT NOT NULL,
    app_id BIGINT NOT NULL REFERENCES fusio_app (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES fusio_user (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    refresh_hash TEXT UNIQUE,
    refresh_expires_at BIGINT,
    refresh_used INTEGER NOT NULL,
    revoked INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX fusio_token_family ON fusio_token (family);

-- The keys that sign access tokens; the newest unretired one signs, every
-- unretired one verifies and is published in the JWKS.
CREATE TABLE fusio_signing_key (
    kid TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);
