-- Personal data (issue 19): consent, erasure and retention.
--
-- An erased registration keeps its row, its counts and its check-in times; its personal values
-- (name, email, answers) are overwritten in place and `erased_at` says when. It is always over
-- (cancelled, or rejected), so the one-live-registration-per-email index never blocks anyone.
-- Events keep personal data `retention_days` after they end (then the retention job of
-- events/privacy.py erases it) and may ask for consent to a line of text with a link to the
-- host's privacy statement; a registration stores the text it consented to and when.

ALTER TABLE events
    ADD COLUMN retention_days integer NOT NULL DEFAULT 180
        CHECK (retention_days BETWEEN 1 AND 3650),
    ADD COLUMN consent_text text NOT NULL DEFAULT '',
    ADD COLUMN privacy_url text NOT NULL DEFAULT '';

ALTER TABLE registrations
    ADD COLUMN consent text,
    ADD COLUMN consent_at timestamptz,
    ADD COLUMN erased_at timestamptz,
    ADD CONSTRAINT registrations_erased_over
        CHECK (erased_at IS NULL OR status IN ('cancelled', 'rejected'));

-- The retention job's question: whose data is due, oldest events first.
CREATE INDEX registrations_not_erased ON registrations (event_id) WHERE erased_at IS NULL;
