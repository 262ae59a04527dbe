-- One-use tokens mailed to users: account activation and password reset.
CREATE TABLE fusio_user_token (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES fusio_user (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('activate', 'password_reset')),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
