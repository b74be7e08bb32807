-- Sessions and refresh tokens (docs/sessions.md), SQLite types: UUIDs as lowercase text,
-- timestamps as RFC 3339 UTC text with microseconds (sortable as text). See the PostgreSQL
-- migration of the same number for what each column means.
CREATE TABLE sessions (
    id             TEXT NOT NULL PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    max_expires_at TEXT NOT NULL,
    revoked_at     TEXT,
    revoke_reason  TEXT,
    user_agent     TEXT NOT NULL,
    client_ip      TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    token_hash     TEXT NOT NULL PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at      TEXT NOT NULL,
    spent_at       TEXT,
    successor_hash TEXT,
    successor_enc  TEXT
) STRICT;

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
