-- Email verification and password reset (docs/account-emails.md).
-- Whether the user proved the current email address: set by a verification link (or a password
-- reset link, which proves the same), cleared by an email change.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- Single-use tokens sent by email, as the SHA-256 of the token (hex); the token itself is never
-- stored here. `email` is the address the token was sent to: a verification token proves only
-- that address, so it stops working when the user's email changes.
CREATE TABLE account_tokens (
    token_hash text        PRIMARY KEY,
    purpose    text        NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- A reset spends the user's other reset tokens; the purge scans by expiry.
CREATE INDEX account_tokens_user_id_idx ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires_at_idx ON account_tokens (expires_at);
