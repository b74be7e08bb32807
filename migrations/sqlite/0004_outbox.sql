-- The transactional outbox (docs/events.md), SQLite types: UUIDs as lowercase text, timestamps
-- as RFC 3339 UTC text with microseconds (sortable as text). See the PostgreSQL migration of
-- the same number for what each column means.
CREATE TABLE outbox (
    -- The rowid: a new row's is above every row's still in the table, which is all the order of
    -- delivery needs (AUTOINCREMENT would cost every write a second table's update).
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL,
    destination     TEXT    NOT NULL,
    ordering_key    TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead', 'kept')),
    created_at      TEXT    NOT NULL,
    next_attempt_at TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   TEXT,
    finished_at     TEXT,
    last_error      TEXT
) STRICT;

CREATE INDEX outbox_pending_idx ON outbox (destination, seq) WHERE state = 'pending';
CREATE INDEX outbox_pending_key_idx ON outbox (destination, ordering_key, seq)
    WHERE state = 'pending';
CREATE INDEX outbox_finished_idx ON outbox (finished_at) WHERE finished_at IS NOT NULL;
