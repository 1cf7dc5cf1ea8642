-- A registration writes less (issue 12, measured with pgbench in its note):
-- * the outbox row of a new registration is written by one statement-level trigger per
--   INSERT statement (a batch of registrations is one set-based INSERT, not a plpgsql call
--   and an events lookup per row); the row trigger keeps following status changes;
-- * the outbox's unique key leads with the registration, so it also serves the lookups by
--   registration, and the separate index on registration_id goes;
-- * registrations.seq is an identity (unique by construction) and is always looked up with
--   its event, through registrations_event (event_id, seq): its own unique index goes.
CREATE FUNCTION mail_on_registrations_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO mail_outbox (kind, registration_id, revision, created_at, next_attempt_at)
    SELECT CASE n.status WHEN 'confirmed' THEN 'confirmation'
                         WHEN 'waitlisted' THEN 'waitlisted' ELSE 'pending' END,
           n.id, e.revision, n.updated_at, n.updated_at
    FROM created n JOIN events e ON e.id = n.event_id
    WHERE n.status IN ('confirmed', 'waitlisted', 'pending')
    ON CONFLICT ON CONSTRAINT mail_outbox_once DO NOTHING;
    RETURN NULL;
END
$$;

DROP TRIGGER registrations_mail ON registrations;
CREATE TRIGGER registrations_mail AFTER UPDATE OF status ON registrations
    FOR EACH ROW EXECUTE FUNCTION mail_on_registration();
CREATE TRIGGER registrations_mail_inserted AFTER INSERT ON registrations
    REFERENCING NEW TABLE AS created
    FOR EACH STATEMENT EXECUTE FUNCTION mail_on_registrations_inserted();

ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_once;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_once UNIQUE (registration_id, kind, revision);
DROP INDEX mail_outbox_registration;

ALTER TABLE registrations DROP CONSTRAINT registrations_seq_key;
