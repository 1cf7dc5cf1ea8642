-- Registrations, their chosen sessions, and the seat counters that keep capacity exact.
--
-- An event's capacity is split over 16 counter rows (seat_shards); a registration takes a
-- seat from one shard chosen at random, so a surge on one event spreads its row locks over
-- 16 rows instead of queueing on one (PERFORMANCE.md). The CHECK on each shard, and the sum
-- of shard capacities kept equal to events.capacity, make overbooking impossible.

CREATE TABLE seat_shards (
    event_id    uuid NOT NULL REFERENCES events (id),
    shard       smallint NOT NULL CHECK (shard >= 0),
    capacity    integer NOT NULL CHECK (capacity >= 0),
    confirmed   integer NOT NULL DEFAULT 0 CHECK (confirmed >= 0 AND confirmed <= capacity),
    PRIMARY KEY (event_id, shard)
);

ALTER TABLE sessions ADD COLUMN confirmed integer NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD CONSTRAINT sessions_confirmed_within_capacity
    CHECK (confirmed >= 0 AND (capacity IS NULL OR confirmed <= capacity));

CREATE TABLE registrations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id        uuid NOT NULL REFERENCES events (id),
    name            text NOT NULL,
    email           text NOT NULL,
    locale          text NOT NULL DEFAULT 'en',
    answers         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    -- the seat shard this registration holds while confirmed
    shard           smallint,
    -- waitlist order: first come, first served; a host may move one to the front
    waitlist_order  bigint,
    -- raised when a ticket is re-issued: older ticket codes stop working
    ticket_version  integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    confirmed_at    timestamptz,
    cancelled_at    timestamptz,
    cancelled_by    text,
    updated_at      timestamptz NOT NULL,
    CHECK ((status = 'confirmed') = (shard IS NOT NULL)),
    CHECK ((status = 'waitlisted') = (waitlist_order IS NOT NULL))
);
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, lower(email)) WHERE status <> 'cancelled';
CREATE INDEX registrations_event ON registrations (event_id, seq);
CREATE INDEX registrations_waitlist ON registrations (event_id, waitlist_order)
    WHERE status = 'waitlisted';

CREATE TABLE registration_sessions (
    registration_id uuid NOT NULL REFERENCES registrations (id),
    session_id      uuid NOT NULL REFERENCES sessions (id),
    PRIMARY KEY (registration_id, session_id)
);
CREATE INDEX registration_sessions_session ON registration_sessions (session_id);

-- Secrets shared by every process of the service (e.g. the key that derives attendees'
-- access tokens), made once on first start.
CREATE TABLE server_secrets (
    name        text PRIMARY KEY,
    secret      bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE registrations_waitlist_order;
