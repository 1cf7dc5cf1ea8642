-- Rendered files (QR images, calendar files) shared by every worker and machine: one row per
-- subject (a registration or an event) and kind, replaced when what it shows changes.
CREATE TABLE rendered_files (
    subject   uuid NOT NULL,
    kind      text NOT NULL,
    version   text NOT NULL,
    body      bytea NOT NULL,
    made_at   timestamptz NOT NULL,
    PRIMARY KEY (subject, kind)
);
