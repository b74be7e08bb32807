-- The transactional outbox (docs/events.md): every event a change causes is written by the
-- same statement or transaction as the change, one row per destination, and the dispatcher of
-- any replica delivers it later. A row is `pending` until it is `delivered`, or `dead` when it
-- was still undelivered after OUTBOX_MAX_AGE_HOURS; `kept` rows were written while no
-- destination was configured (development) and are never delivered.
CREATE TABLE outbox (
    -- Write order: the order of delivery among rows of one (destination, ordering_key).
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The event's id: the idempotency key every destination receives (webhook-id).
    id              uuid        NOT NULL,
    destination     text        NOT NULL,
    -- Rows of one key (a user's id) are delivered one after the other, in seq order.
    ordering_key    text        NOT NULL,
    type            text        NOT NULL,
    -- The body delivered, as it was written.
    payload         text        NOT NULL,
    state           text        NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead', 'kept')),
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    -- A dispatcher that claimed the row delivers it alone until then (its lease).
    claimed_until   timestamptz,
    finished_at     timestamptz,
    last_error      text
);

-- The dispatcher's claim: pending rows of a destination, oldest first, and whether an earlier
-- row of the same key is still pending.
CREATE INDEX outbox_pending_idx ON outbox (destination, seq) WHERE state = 'pending';
CREATE INDEX outbox_pending_key_idx ON outbox (destination, ordering_key, seq)
    WHERE state = 'pending';
-- The purge of finished rows.
CREATE INDEX outbox_finished_idx ON outbox (finished_at) WHERE finished_at IS NOT NULL;
