-- Tickets and check-in: per-event signing keys, check-ins, and the nonces of offline scans.

-- One Ed25519 key pair per event, made on first need. The private key (its 32-byte seed)
-- never leaves the server; the public key is handed to door devices in the check-in kit.
CREATE TABLE event_keys (
    event_id    uuid PRIMARY KEY REFERENCES events (id),
    private_key bytea NOT NULL CHECK (length(private_key) = 32),
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- A check-in at the event's door (session_id NULL) or at a session. `scope` is the session
-- or else the event, so one unique index admits a ticket once per door, also when fifty
-- devices scan it in the same millisecond. An undone check-in stays, marked, and frees
-- the ticket to be checked in again.
CREATE TABLE checkins (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    event_id        uuid NOT NULL REFERENCES events (id),
    registration_id uuid NOT NULL REFERENCES registrations (id),
    session_id      uuid REFERENCES sessions (id),
    scope           uuid NOT NULL,
    checked_in_at   timestamptz NOT NULL,   -- when the device scanned it
    recorded_at     timestamptz NOT NULL,   -- when the server stored it
    device          text NOT NULL DEFAULT '',
    token_id        uuid REFERENCES api_tokens (id),
    nonce           text,
    undone_at       timestamptz,
    undone_by       uuid REFERENCES partners (id),
    CHECK (scope = coalesce(session_id, event_id)),
    CHECK (checked_in_at <= recorded_at),
    CHECK ((undone_at IS NULL) = (undone_by IS NULL))
);
CREATE UNIQUE INDEX checkins_once ON checkins (registration_id, scope) WHERE undone_at IS NULL;
CREATE INDEX checkins_event ON checkins (event_id, seq);

-- Offline scans are uploaded with a nonce each; the first upload's result is kept here and
-- replayed for every later upload of the same nonce.
CREATE TABLE checkin_nonces (
    event_id    uuid NOT NULL REFERENCES events (id),
    nonce       text NOT NULL,
    result      jsonb,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, nonce)
);
