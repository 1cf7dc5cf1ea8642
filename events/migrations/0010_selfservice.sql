-- Attendee self-service, reminders, messages from hosts, and mail that says more (issue #15).
--
-- events.edits_close_at     attendees may change their registration until then (NULL: the start)
-- events.reminders          ISO 8601 durations before the start, one reminder mail each
-- events.cancel_reason      the host's words when cancelling, shown in the mail and on pages
-- registrations.edits       raised when the attendee (or a host) changes the sessions: the
--                           invite's SEQUENCE is the event's revision + edits (+1 once cancelled)

ALTER TABLE events ADD COLUMN edits_close_at timestamptz;
ALTER TABLE events ADD COLUMN reminders jsonb NOT NULL DEFAULT '["P1D"]';
ALTER TABLE events ADD COLUMN cancel_reason text;
ALTER TABLE registrations ADD COLUMN edits integer NOT NULL DEFAULT 0;
CREATE INDEX events_upcoming ON events (starts_at) WHERE status = 'published';

-- What time, place and title were at each revision of an event, so an update mail can say
-- what changed since the attendee last heard (old → new). Kept by a trigger.
CREATE TABLE event_revisions (
    event_id       uuid NOT NULL REFERENCES events (id),
    revision       integer NOT NULL,
    title          text NOT NULL,
    timezone       text NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    venue_name     text NOT NULL,
    venue_address  text NOT NULL,
    PRIMARY KEY (event_id, revision)
);

CREATE FUNCTION events_keep_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_revisions (event_id, revision, title, timezone, starts_at, ends_at,
                                 venue_name, venue_address)
    VALUES (NEW.id, NEW.revision, NEW.title, NEW.timezone, NEW.starts_at, NEW.ends_at,
            NEW.venue_name, NEW.venue_address)
    ON CONFLICT (event_id, revision) DO UPDATE SET title = EXCLUDED.title,
        timezone = EXCLUDED.timezone, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
        venue_name = EXCLUDED.venue_name, venue_address = EXCLUDED.venue_address;
    RETURN NULL;
END $$;

CREATE TRIGGER events_revisions_insert AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_keep_revision();
CREATE TRIGGER events_revisions_update AFTER UPDATE ON events
    FOR EACH ROW WHEN (NEW.revision IS DISTINCT FROM OLD.revision)
    EXECUTE FUNCTION events_keep_revision();

INSERT INTO event_revisions (event_id, revision, title, timezone, starts_at, ends_at,
                             venue_name, venue_address)
SELECT id, revision, title, timezone, starts_at, ends_at, venue_name, venue_address FROM events;

-- A host's message to an audience; each recipient gets one `message` outbox row
-- (revision = the message's id, so the outbox's unique key sends it once per recipient).
CREATE TABLE messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    event_id    uuid NOT NULL REFERENCES events (id),
    partner_id  uuid REFERENCES partners (id),
    subject     text NOT NULL,
    body        text NOT NULL,
    audience    jsonb NOT NULL DEFAULT '{}',
    recipients  integer NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX messages_event ON messages (event_id, id);

-- New kinds of mail, each to one registration:
--   resend    the attendee asked for their ticket link again (revision: a counter)
--   reminder  the event is near (revision: the reminder's offset in seconds: once each)
--   message   a host's message (revision: messages.id)
--   edited    the attendee's sessions changed (revision: registrations.edits)
-- The kind is checked by its shape here; the code knows each kind (an unknown one fails).
ALTER TABLE mail_outbox DROP CONSTRAINT IF EXISTS mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_shape CHECK (kind ~ '^[a-z][a-z-]{1,39}$');
