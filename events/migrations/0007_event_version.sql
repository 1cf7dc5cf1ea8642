-- events.version: raised by the database on every change to an event and whenever one of its
-- sessions is added or removed, so a process may keep what registering needs to know of an
-- event and take a seat only while the event is still exactly that (registration.py).
ALTER TABLE events ADD COLUMN version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION events_raise_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

CREATE TRIGGER events_version BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_raise_version();

CREATE FUNCTION sessions_raise_event_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET version = version + 1 WHERE id = coalesce(NEW.event_id, OLD.event_id);
    RETURN NULL;
END $$;

-- Only adding or removing a session changes what registering checks (its seat counts do not).
CREATE TRIGGER sessions_event_version AFTER INSERT OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_raise_event_version();
