-- Accounts at external identity providers (GitHub, Google, Facebook, any
-- OpenID Connect provider) linked to Fusio users.
CREATE TABLE fusio_user_identity (
    user_id BIGINT NOT NULL REFERENCES fusio_user (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (provider, remote_id)
);
