-- The audit log (who changed what, who read whose personal data) and partners' webhooks.
--
-- audit_log is append-only: rows are written in the same transaction as the change they
-- record (events/audit.py; the registration hot path writes its entry inside its one
-- statement), and a trigger refuses every UPDATE, DELETE and TRUNCATE. One narrow door is
-- left for erasing personal data: `SELECT audit_scrub('<subject id>')` blanks the personal
-- values (name, email, answers, an attendee actor's label) of the entries about that subject
-- and keeps everything else; the trigger lets exactly that through, and nothing else. (The
-- door is a session setting the function sets for its own statement: it keeps the
-- application and mistakes out, not a superuser, who can drop triggers anyway.)
--
-- Webhooks: each audit entry of an event is fanned out, by a trigger in the same
-- transaction, to one webhook_messages row per active webhook of a partner hosting that
-- event that asked for that action (an outbox, like mail_outbox); the worker in
-- events/webhook_delivery.py sends them after commit and logs each try in webhook_attempts.

CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    -- the event the entry is about (NULL: a partner's own business, e.g. its webhooks)
    event_id      uuid,
    partner_id    uuid,
    actor_type    text NOT NULL
                  CHECK (actor_type IN ('partner', 'door', 'attendee', 'operator', 'system')),
    actor_id      text,
    actor_label   text NOT NULL DEFAULT '',
    action        text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    subject_type  text NOT NULL,
    subject_id    text,
    -- {"field": [old, new]}
    changes       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_event ON audit_log (event_id, id) WHERE event_id IS NOT NULL;
CREATE INDEX audit_log_partner ON audit_log (partner_id, id) WHERE partner_id IS NOT NULL;

CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('events.audit_scrub', true) = 'on'
       AND (NEW.id, NEW.at, NEW.event_id, NEW.partner_id, NEW.actor_type, NEW.actor_id,
            NEW.action, NEW.subject_type, NEW.subject_id)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.event_id, OLD.partner_id, OLD.actor_type, OLD.actor_id,
            OLD.action, OLD.subject_type, OLD.subject_id) THEN
        RETURN NEW;  -- audit_scrub(): only personal values change
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- The personal values of an entry's changes, blanked: [old, new] becomes [null, null].
CREATE FUNCTION audit_scrubbed(changes jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg(key, CASE WHEN key IN ('name', 'email', 'answers')
                                               THEN '[null, null]'::jsonb ELSE value END), '{}')
    FROM jsonb_each(changes)
$$;

-- The door for erasing personal data: scrub every entry about `subject` (a registration's
-- id) or done by it (an attendee actor). Returns how many entries were scrubbed.
CREATE FUNCTION audit_scrub(subject text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    scrubbed integer;
BEGIN
    PERFORM set_config('events.audit_scrub', 'on', true);
    UPDATE audit_log
    SET changes = audit_scrubbed(changes),
        actor_label = CASE WHEN actor_type = 'attendee' THEN '' ELSE actor_label END
    WHERE subject_id = subject OR (actor_type = 'attendee' AND actor_id = subject);
    GET DIAGNOSTICS scrubbed = ROW_COUNT;
    PERFORM set_config('events.audit_scrub', 'off', true);
    RETURN scrubbed;
END $$;

CREATE TABLE webhooks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    partner_id      uuid NOT NULL REFERENCES partners (id),
    event_id        uuid REFERENCES events (id),   -- NULL: every event the partner hosts
    url             text NOT NULL,
    events          text[] NOT NULL,               -- actions, or '*' for all
    -- signing needs the secret itself, so it is stored (whsec_ + base64 of 32 random bytes)
    secret          text NOT NULL,
    -- after a rotation the old secret signs too, until previous_until (receivers switch over)
    previous_secret text,
    previous_until  timestamptz,
    status          text NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'disabled', 'deleted')),
    disabled_reason text,
    failing_since   timestamptz,                   -- first failure since the last success
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX webhooks_partner ON webhooks (partner_id, seq) WHERE status <> 'deleted';

-- One message per (webhook, audit entry); `ordering` (the subject) keeps one registration's
-- messages in order: none is sent while an earlier one of the same subject is pending.
-- Status: pending → delivered | failed (gave up, or the webhook was disabled) | dropped
-- (no longer the partner's to see, or the webhook was deleted).
CREATE TABLE webhook_messages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    audit_id         bigint NOT NULL REFERENCES audit_log (id),
    ordering         text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivered', 'failed', 'dropped')),
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    claim            uuid,
    claimed_until    timestamptz,
    finished_at      timestamptz,
    last_error       text
);
CREATE INDEX webhook_messages_due ON webhook_messages (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_messages_order ON webhook_messages (webhook_id, ordering, id)
    WHERE status = 'pending';
CREATE INDEX webhook_messages_webhook ON webhook_messages (webhook_id, id);

CREATE TABLE webhook_attempts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id       bigint NOT NULL REFERENCES webhook_messages (id),
    webhook_id       uuid NOT NULL REFERENCES webhooks (id),
    at               timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('delivered', 'failed')),
    response_status  integer,
    error            text,
    duration_ms      integer NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);

CREATE FUNCTION webhooks_on_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_messages (webhook_id, audit_id, ordering, created_at, next_attempt_at)
    SELECT w.id, NEW.id, NEW.subject_type || ':' || coalesce(NEW.subject_id, ''), NEW.at, NEW.at
    FROM event_hosts h JOIN webhooks w ON w.partner_id = h.partner_id
    WHERE h.event_id = NEW.event_id AND w.status = 'active'
      AND (w.event_id IS NULL OR w.event_id = NEW.event_id)
      AND (NEW.action = ANY (w.events) OR '*' = ANY (w.events))
    ORDER BY w.seq;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_log_webhooks AFTER INSERT ON audit_log
    FOR EACH ROW WHEN (NEW.event_id IS NOT NULL) EXECUTE FUNCTION webhooks_on_audit();
