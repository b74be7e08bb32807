-- Users (SPEC §5). Emails are stored normalized (trimmed, lowercased); the unique index on
-- lower(email) makes the case-insensitive uniqueness race-safe whatever the application does.
CREATE TABLE users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Keyset pagination, newest first (GET /api/v1/users).
CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);
