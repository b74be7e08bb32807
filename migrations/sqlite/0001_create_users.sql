-- Users (SPEC §5), SQLite types: UUIDs as lowercase text, timestamps as RFC 3339 UTC text with
-- microseconds (sortable as text). Emails are stored normalized; the unique index on
-- lower(email) makes case-insensitive uniqueness race-safe.
CREATE TABLE users (
    id            TEXT NOT NULL PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE INDEX users_created_at_id_idx ON users (created_at DESC, id DESC);
