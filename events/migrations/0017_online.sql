-- Online and hybrid events (issue #22).
--
-- An event's `format` is in_person, online or hybrid. Online and hybrid events keep the
-- host's meeting link (`online_url`), which only hosts ever read: attendees get a personal
-- link of this service (/join/<secret>) that redirects to it inside its window.
--
-- Places: every registration that counts against `capacity` takes a seat from shards 0-15 as
-- before (in-person attendees, and everyone of an online event). A hybrid event's online places
-- are a second, independent set of 16 shards numbered 16-31 (capacity `online_capacity`, or
-- without a limit a capacity no event reaches), so the existing statements that name a shard
-- by number need no change and the in-person hot path stays one statement. `online_place`
-- says which set a registration holds (or waits for): its waitlist is its own.

ALTER TABLE events ADD COLUMN format text NOT NULL DEFAULT 'in_person'
    CHECK (format IN ('in_person', 'online', 'hybrid'));
ALTER TABLE events ADD COLUMN online_url text;
ALTER TABLE events ADD COLUMN online_instructions text NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN online_reveal_before text NOT NULL DEFAULT 'PT1H';
ALTER TABLE events ADD COLUMN online_capacity integer CHECK (online_capacity >= 0);
ALTER TABLE events ADD CONSTRAINT events_online_url
    CHECK (format = 'in_person' OR online_url LIKE 'https://%');

ALTER TABLE registrations ADD COLUMN attendance text NOT NULL DEFAULT 'in_person'
    CHECK (attendance IN ('in_person', 'online'));
ALTER TABLE registrations ADD COLUMN online_place boolean NOT NULL DEFAULT false;
-- the first use of the personal join link: the online attendee's check-in
ALTER TABLE registrations ADD COLUMN joined_at timestamptz;
ALTER TABLE registrations ADD CONSTRAINT registrations_online_place
    CHECK ((NOT online_place OR attendance = 'online')
           AND (shard IS NULL OR (shard >= 16) = online_place));
CREATE INDEX registrations_online_waitlist ON registrations (event_id, waitlist_order)
    WHERE status = 'waitlisted' AND online_place;
