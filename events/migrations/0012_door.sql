-- The door: session doors, labels on check-ins, in/out with re-entry, walk-ins.

-- A door token may be scoped to one session (a room door): it checks in to that session only.
ALTER TABLE api_tokens ADD COLUMN session_id uuid REFERENCES sessions (id);

-- With `reentry` an attendee who went out may come in again.
ALTER TABLE events ADD COLUMN reentry boolean NOT NULL DEFAULT false;

-- A check-in remembers the label of the door that admitted it, whether its holder is inside
-- now (scans with direction `out` clear it, a re-entry sets it again), and the scan that last
-- moved it: a scan whose proposed id is stored in `last_move` is the one that moved it, so
-- concurrent scans of one ticket move it once.
ALTER TABLE checkins
    ADD COLUMN door      text NOT NULL DEFAULT '',
    ADD COLUMN inside    boolean NOT NULL DEFAULT true,
    ADD COLUMN last_move uuid,
    ADD COLUMN moved_at  timestamptz;

-- Every move through a door (in, out, again in), for the record.
CREATE TABLE checkin_moves (
    id              uuid PRIMARY KEY,
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    checkin_id      uuid NOT NULL REFERENCES checkins (id),
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    at              timestamptz NOT NULL,
    door            text NOT NULL DEFAULT '',
    device          text NOT NULL DEFAULT ''
);
CREATE INDEX checkin_moves_checkin ON checkin_moves (checkin_id, seq);

-- A registration made at the door (a walk-in).
ALTER TABLE registrations ADD COLUMN walk_in boolean NOT NULL DEFAULT false;
