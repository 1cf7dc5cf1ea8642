-- Partner users (people who sign in to the console) and their cookie sessions.
-- Passwords are argon2id hashes; a session cookie holds a random secret of which only the
-- SHA-256 is stored, as for API tokens.

CREATE TABLE partner_users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    partner_id     uuid NOT NULL REFERENCES partners (id),
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
CREATE UNIQUE INDEX partner_users_email ON partner_users (lower(email));

CREATE TABLE web_sessions (
    secret_hash  bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES partner_users (id),
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
