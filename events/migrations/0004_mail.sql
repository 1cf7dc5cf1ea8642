-- The mail outbox: one row per mail to send, written by triggers in the same transaction as
-- the change that causes it (so a mail is never lost, and never queued for a change that
-- rolled back), delivered after commit by the worker in events/mail.py.
--
-- Dedupe: one row per (kind, registration, event revision). A change that would queue the
-- same mail twice (a registration cancelled after its event was cancelled, a retried
-- statement) finds the row there and adds nothing, so no one gets one change twice.
--
-- Kinds:   confirmation  a registration was inserted confirmed
--          waitlisted    a registration was inserted waitlisted
--          promotion     waitlisted → confirmed (a freed seat, a host's promote, more capacity)
--          update        a published event's revision went up (time, place, title, sessions)
--          cancellation  the registration was cancelled, or its event was (live ones only)
-- Status:  pending → sent (SMTP accepted it) | logged (no SMTP_URL: written to the log)
--          | superseded (no longer true when its turn came, e.g. an update overtaken by a
--          newer one, a confirmation of a registration cancelled since) | failed (the SMTP
--          server refused it for good, 5xx). Rows are kept: nothing is deleted.

CREATE TABLE mail_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN
                         ('confirmation', 'waitlisted', 'promotion', 'update', 'cancellation')),
    registration_id  uuid NOT NULL REFERENCES registrations (id),
    revision         integer NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'logged', 'superseded', 'failed')),
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    -- a worker's lease: while claimed_until is in the future no other worker takes the row
    claim            uuid,
    claimed_until    timestamptz,
    sent_at          timestamptz,
    last_error       text,
    CONSTRAINT mail_outbox_once UNIQUE (kind, registration_id, revision)
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX mail_outbox_registration ON mail_outbox (registration_id);

-- An attendee's subscription feed lists every registration of one email address.
CREATE INDEX registrations_email ON registrations (lower(email), seq);

CREATE FUNCTION mail_on_registration() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mail_kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        mail_kind := CASE NEW.status WHEN 'confirmed' THEN 'confirmation'
                                     WHEN 'waitlisted' THEN 'waitlisted' END;
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        mail_kind := CASE
            WHEN NEW.status = 'confirmed' AND OLD.status = 'waitlisted' THEN 'promotion'
            WHEN NEW.status = 'cancelled' THEN 'cancellation' END;
    END IF;
    IF mail_kind IS NOT NULL THEN
        INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)
        SELECT mail_kind, NEW.id, e.revision, NEW.updated_at, NEW.updated_at
        FROM events e WHERE e.id = NEW.event_id
        ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER registrations_mail AFTER INSERT OR UPDATE OF status ON registrations
    FOR EACH ROW EXECUTE FUNCTION mail_on_registration();

CREATE FUNCTION mail_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mail_kind text;
BEGIN
    IF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        mail_kind := 'cancellation';
    ELSIF NEW.status = 'published' AND OLD.status = 'published'
          AND NEW.revision > OLD.revision THEN
        mail_kind := 'update';
    ELSE
        RETURN NULL;
    END IF;
    INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)
    SELECT mail_kind, r.id, NEW.revision, NEW.updated_at, NEW.updated_at
    FROM registrations r WHERE r.event_id = NEW.id AND r.status <> 'cancelled' ORDER BY r.seq
    ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_mail AFTER UPDATE OF status, revision ON events
    FOR EACH ROW EXECUTE FUNCTION mail_on_event();
