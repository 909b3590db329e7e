-- Issue 20 point 3: several traders on one terminal (docs/USERS.md). Users with a role, their API tokens
-- (only a SHA-256 of each is stored), browser sessions opened with a token, saved terminal layouts, and an
-- owner (+ a shared flag) on watchlists and alert rules. Every existing row becomes the built-in admin's,
-- the identity of API_TOKEN, so what the single token saw and changed before it still does.
CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- also the Grafana login (nginx hands it to Grafana's auth proxy): no spaces, no upper case
  name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  role        text NOT NULL CHECK (role IN ('admin', 'trader', 'viewer')),
  disabled_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX users_created_idx ON users (created_at, id);
-- The built-in admin (a fixed id the API knows without a query; renamed at start-up to API_ADMIN_USER).
INSERT INTO users (id, name, role) VALUES ('00000000-0000-4000-8000-000000000001', 'admin', 'admin');

CREATE TABLE api_tokens (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- SHA-256 of the whole token: a lookup by index, never the token itself
  token_hash bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  -- the first characters, shown in lists so a user can tell tokens apart
  prefix     text NOT NULL,
  label      text CHECK (char_length(label) <= 100),
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked_at timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at);

-- A browser session (the cookie Grafana's pages are opened with) hangs off the credential it was opened with:
-- revoking that token, disabling its user, or changing API_TOKEN (for the admin's sessions opened with it)
-- ends the session on the next request.
CREATE TABLE sessions (
  id_hash          bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  user_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_id         uuid REFERENCES api_tokens (id) ON DELETE CASCADE,
  -- SHA-256 of the API_TOKEN a session of the built-in admin was opened with
  admin_token_hash bytea,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at       timestamptz NOT NULL,
  CHECK ((token_id IS NULL) <> (admin_token_hash IS NULL))
);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE layouts (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- the short link /l/<code>
  code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_-]{8,32}$'),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  dashboards  text[] NOT NULL CHECK (cardinality(dashboards) BETWEEN 1 AND 10),
  symbols     text[] NOT NULL DEFAULT '{}',
  variables   jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(variables) = 'object'),
  time_from   text NOT NULL DEFAULT 'now-6h',
  time_to     text NOT NULL DEFAULT 'now',
  refresh     text,
  shared      boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX layouts_owner_idx ON layouts (owner_id, created_at, id);

ALTER TABLE watchlists
  ADD COLUMN owner_id uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES users (id),
  ADD COLUMN shared   boolean NOT NULL DEFAULT false;
ALTER TABLE watchlists ALTER COLUMN owner_id DROP DEFAULT;
CREATE INDEX watchlists_owner_idx ON watchlists (owner_id);
ALTER TABLE alert_rules
  ADD COLUMN owner_id uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001' REFERENCES users (id),
  ADD COLUMN shared   boolean NOT NULL DEFAULT false;
ALTER TABLE alert_rules ALTER COLUMN owner_id DROP DEFAULT;
CREATE INDEX alert_rules_owner_idx ON alert_rules (owner_id);
