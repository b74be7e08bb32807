-- Sessions and refresh tokens (docs/sessions.md). A session is created at sign-in; every access
-- token names it (claim `sid`), and every authenticated read checks it in the same statement as
-- the user, so a revocation is seen by every replica on the next request.
CREATE TABLE sessions (
    id             uuid        PRIMARY KEY,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    last_used_at   timestamptz NOT NULL,
    -- The earlier of the sliding refresh expiry and max_expires_at; moved on every refresh.
    expires_at     timestamptz NOT NULL,
    -- Absolute: created_at + SESSION_MAX_AGE_DAYS. No refresh extends a session past it.
    max_expires_at timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoke_reason  text,
    user_agent     text        NOT NULL,
    client_ip      text        NOT NULL
);

-- The user's sessions (listing, revoke-all) and the purge's scan of ended sessions.
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Every refresh token a session has been given, as the SHA-256 of the token (hex); the token
-- itself is never stored. A spent token keeps its row so that presenting it again is recognised
-- as reuse. successor_enc is the next token XOR a key derived from THIS token: only a holder of
-- this token can recover it, to be given the same successor on a retry inside the grace period.
CREATE TABLE refresh_tokens (
    token_hash     text        PRIMARY KEY,
    session_id     uuid        NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at      timestamptz NOT NULL,
    spent_at       timestamptz,
    successor_hash text,
    successor_enc  text
);

CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
