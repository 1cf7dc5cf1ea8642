-- Mail to partners and their console users (not to attendees: that is mail_outbox):
-- password-reset links and co-host invitations. Written in the transaction of the change,
-- sent after commit by the periodic job `send-partner-mail` (events/partner_mail.py).
-- Status: pending → sent (SMTP accepted it) | logged (no SMTP_URL) | failed (refused for good,
-- or ten attempts). Rows are kept.
CREATE TABLE partner_mail (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('password-reset', 'cohost-invitation')),
    to_email     text NOT NULL,
    subject      text NOT NULL,
    body         text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'logged', 'failed')),
    created_at   timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    sent_at      timestamptz,
    last_error   text
);
CREATE INDEX partner_mail_due ON partner_mail (next_attempt_at, id) WHERE status = 'pending';

-- A console user's password-reset link: a random secret of which only the SHA-256 is kept,
-- good once, for an hour.
CREATE TABLE password_resets (
    secret_hash  bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES partner_users (id),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);
