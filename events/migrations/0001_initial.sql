-- Partners, their tokens, events, sessions, hosts, co-host invitations, idempotency keys.
-- Every list is ordered by a `seq` column (creation order); ids are opaque UUIDs.

CREATE TABLE partners (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq                     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    slug                    text NOT NULL UNIQUE,
    owner_id                uuid NOT NULL REFERENCES partners (id),
    title                   text NOT NULL,
    description             text NOT NULL DEFAULT '',
    timezone                text NOT NULL,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    venue_name              text NOT NULL DEFAULT '',
    venue_address           text NOT NULL DEFAULT '',
    capacity                integer NOT NULL CHECK (capacity >= 0),
    waitlist                boolean NOT NULL DEFAULT false,
    visibility              text NOT NULL DEFAULT 'public'
                            CHECK (visibility IN ('public', 'unlisted', 'private')),
    status                  text NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'published', 'cancelled')),
    registration_opens_at   timestamptz,
    registration_closes_at  timestamptz,
    questions               jsonb NOT NULL DEFAULT '[]',
    -- raised whenever time, place or title changes: calendar invites carry it as SEQUENCE
    revision                integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    published_at            timestamptz,
    cancelled_at            timestamptz,
    CHECK (ends_at > starts_at),
    CHECK (registration_closes_at IS NULL OR registration_opens_at IS NULL
           OR registration_closes_at > registration_opens_at)
);
CREATE INDEX events_listing ON events (seq) WHERE status = 'published' AND visibility = 'public';

CREATE TABLE event_hosts (
    event_id    uuid NOT NULL REFERENCES events (id),
    partner_id  uuid NOT NULL REFERENCES partners (id),
    role        text NOT NULL CHECK (role IN ('owner', 'cohost')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, partner_id)
);
CREATE INDEX event_hosts_partner ON event_hosts (partner_id, event_id);
CREATE UNIQUE INDEX event_hosts_one_owner ON event_hosts (event_id) WHERE role = 'owner';

CREATE TABLE sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id    uuid NOT NULL REFERENCES events (id),
    title       text NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    room        text,
    capacity    integer CHECK (capacity IS NULL OR capacity >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX sessions_event ON sessions (event_id, seq);

CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    token_hash  bytea NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('partner', 'door')),
    partner_id  uuid NOT NULL REFERENCES partners (id),
    event_id    uuid REFERENCES events (id),
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((kind = 'door') = (event_id IS NOT NULL))
);

CREATE TABLE cohost_invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id    uuid NOT NULL REFERENCES events (id),
    partner_id  uuid NOT NULL REFERENCES partners (id),
    invited_by  uuid NOT NULL REFERENCES partners (id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz
);
CREATE UNIQUE INDEX cohost_invitations_one_pending
    ON cohost_invitations (event_id, partner_id) WHERE status = 'pending';
CREATE INDEX cohost_invitations_partner ON cohost_invitations (partner_id, seq);

-- Idempotency-Key: the first response to (scope, key) is replayed for the same request.
CREATE TABLE idempotency_keys (
    scope         text NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer NOT NULL,
    body          bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);
