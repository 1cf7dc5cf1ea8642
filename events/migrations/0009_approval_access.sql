-- Approval (hold | screen), invite-only events, access codes and guest lists (issue #13).
--
-- Registrations gain two states: `pending` (waiting for a host's decision) and `rejected`.
-- A pending registration of a `hold` event keeps a seat of the event's shards while it
-- waits, so approving it cannot fail: it then has a shard without being confirmed. Every
-- other state keeps the old rule (a shard exactly while confirmed).
-- `approval_needed`: not yet approved by a host. A waitlisted registration with it set moves
-- up to `pending` (holding the freed seat) rather than straight to `confirmed`.

ALTER TABLE events ADD COLUMN approval text NOT NULL DEFAULT 'none'
    CHECK (approval IN ('none', 'hold', 'screen'));
ALTER TABLE events ADD COLUMN invite_only boolean NOT NULL DEFAULT false;

ALTER TABLE registrations DROP CONSTRAINT registrations_status_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_status_check
    CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'pending', 'rejected'));
ALTER TABLE registrations DROP CONSTRAINT registrations_check;
ALTER TABLE registrations ADD CONSTRAINT registrations_seat_while_confirmed
    CHECK (CASE status WHEN 'confirmed' THEN shard IS NOT NULL
                       WHEN 'pending' THEN true
                       ELSE shard IS NULL END);
ALTER TABLE registrations ADD COLUMN approval_needed boolean NOT NULL DEFAULT false;
ALTER TABLE registrations ADD COLUMN rejection_reason text;
ALTER TABLE registrations ADD COLUMN decided_at timestamptz;
CREATE INDEX registrations_pending ON registrations (event_id, seq) WHERE status = 'pending';

-- Access codes: a use is counted in the transaction that stores the registration; the CHECK
-- makes `max_uses` exact whatever the concurrency.
CREATE TABLE access_codes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id        uuid NOT NULL REFERENCES events (id),
    code            text NOT NULL CHECK (code ~ '^[A-Za-z0-9-]{4,40}$'),
    uses            integer NOT NULL DEFAULT 0,
    max_uses        integer CHECK (max_uses IS NULL OR max_uses >= 1),
    expires_at      timestamptz,
    skip_approval   boolean NOT NULL DEFAULT false,
    revoked_at      timestamptz,
    created_at      timestamptz NOT NULL,
    CHECK (uses >= 0 AND (max_uses IS NULL OR uses <= max_uses))
);
CREATE UNIQUE INDEX access_codes_event_code ON access_codes (event_id, upper(code));

-- Guests: a personal invitation (its token is in the guest's link), one per email per event.
CREATE TABLE guests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id        uuid NOT NULL REFERENCES events (id),
    name            text NOT NULL,
    email           text NOT NULL,
    locale          text NOT NULL DEFAULT 'en',
    token           text NOT NULL UNIQUE,
    status          text NOT NULL DEFAULT 'invited'
                    CHECK (status IN ('invited', 'registered', 'declined', 'revoked')),
    registration_id uuid REFERENCES registrations (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX guests_event_email ON guests (event_id, lower(email));
CREATE INDEX guests_event ON guests (event_id, seq);

ALTER TABLE registrations ADD COLUMN access_code_id uuid REFERENCES access_codes (id);
ALTER TABLE registrations ADD COLUMN guest_id uuid REFERENCES guests (id);

-- A guest whose registration is cancelled has declined.
CREATE FUNCTION guests_follow_registration() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'cancelled' THEN
        UPDATE guests SET status = 'declined', updated_at = NEW.updated_at
        WHERE id = NEW.guest_id AND status = 'registered';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER registrations_guest AFTER UPDATE OF status ON registrations
    FOR EACH ROW WHEN (NEW.guest_id IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION guests_follow_registration();

-- Mail: pending (under review), approved, rejected, and a guest's invitation (no
-- registration yet: the row names the guest instead).
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check CHECK (kind IN
    ('confirmation', 'waitlisted', 'promotion', 'update', 'cancellation',
     'pending', 'approved', 'rejected', 'guest-invitation'));
ALTER TABLE mail_outbox ALTER COLUMN registration_id DROP NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN guest_id uuid REFERENCES guests (id);
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_about
    CHECK ((registration_id IS NULL) <> (guest_id IS NULL));

CREATE OR REPLACE FUNCTION mail_on_registration() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    mail_kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        mail_kind := CASE NEW.status WHEN 'confirmed' THEN 'confirmation'
                                     WHEN 'waitlisted' THEN 'waitlisted'
                                     WHEN 'pending' THEN 'pending' END;
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        mail_kind := CASE
            WHEN NEW.status = 'confirmed' AND OLD.status = 'waitlisted' THEN 'promotion'
            WHEN NEW.status = 'confirmed' AND OLD.status = 'pending' THEN 'approved'
            WHEN NEW.status = 'waitlisted' AND OLD.status = 'pending' THEN 'waitlisted'
            WHEN NEW.status = 'pending' THEN 'pending'
            WHEN NEW.status = 'rejected' THEN 'rejected'
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

-- Rejected registrations hear nothing more of the event (updates, its cancellation).
CREATE OR REPLACE FUNCTION mail_on_event() RETURNS trigger LANGUAGE plpgsql AS $$
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
    FROM registrations r WHERE r.event_id = NEW.id AND r.status NOT IN ('cancelled', 'rejected')
    ORDER BY r.seq
    ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING;
    RETURN NULL;
END
$$;
