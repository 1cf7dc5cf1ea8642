-- Calendar replies (iTIP REPLY by mail): an attendee who declines the invite in their
-- calendar program frees their seat; an accept is recorded.
--
-- events.calendar_replies: what a DECLINED reply does — cancel (as if the attendee cancelled:
-- seat to the waitlist, a CANCEL goes back), notify (hosts are told; nothing changes), ignore.
-- registrations.calendar_reply / calendar_replied_at: the last PARTSTAT the attendee's calendar
-- sent and when; accepted_at: the first ACCEPTED.
-- inbound_messages: every message the inbound listener or IMAP poller received, with what came
-- of it, for the operator (`python -m events inbound list`); nothing here is ever deleted by a
-- reply. Only a bounded head of each message is kept (raw), enough to see why it did not match.

ALTER TABLE events ADD COLUMN calendar_replies text NOT NULL DEFAULT 'cancel'
    CHECK (calendar_replies IN ('cancel', 'notify', 'ignore'));

ALTER TABLE registrations
    ADD COLUMN accepted_at timestamptz,
    ADD COLUMN calendar_reply text
        CHECK (calendar_reply IN ('ACCEPTED', 'DECLINED', 'TENTATIVE')),
    ADD COLUMN calendar_replied_at timestamptz;

CREATE TABLE inbound_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL,
    via              text NOT NULL CHECK (via IN ('smtp', 'lmtp', 'imap')),
    message_id       text,
    mail_from        text NOT NULL DEFAULT '',
    recipient        text NOT NULL DEFAULT '',
    subject          text NOT NULL DEFAULT '',
    registration_id  uuid REFERENCES registrations (id),
    partstat         text,
    -- applied: the reply changed the registration; unchanged: the same reply again;
    -- notified: the event's rule is notify; ignored: the rule is ignore;
    -- rejected: no registration matches (unknown address, wrong secret, UID or attendee);
    -- invalid: no calendar part, or one that cannot be read
    outcome          text NOT NULL
        CHECK (outcome IN ('applied', 'unchanged', 'notified', 'ignored', 'rejected', 'invalid')),
    detail           text NOT NULL DEFAULT '',
    raw              bytea NOT NULL DEFAULT ''
);
CREATE INDEX inbound_messages_registration ON inbound_messages (registration_id)
    WHERE registration_id IS NOT NULL;
