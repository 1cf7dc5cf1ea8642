-- Sessions a registration was invited to and no longer holds: taken off by a self-service
-- edit, or deleted by the host. Each row is what a METHOD:CANCEL for that session's VEVENT
-- needs (the session itself may be gone), at the invite's SEQUENCE of that moment; the
-- outbox row `sessions-withdrawn` (revision = that sequence) mails it once.
CREATE TABLE withdrawn_sessions (
    registration_id uuid NOT NULL REFERENCES registrations (id),
    session_id      uuid NOT NULL,
    sequence        integer NOT NULL,
    title           text NOT NULL,
    translations    jsonb NOT NULL DEFAULT '{}',
    room            text,
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    withdrawn_at    timestamptz NOT NULL,
    PRIMARY KEY (registration_id, sequence, session_id)
);
