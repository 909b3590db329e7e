-- Watchlists, their items and alert rules. The feeders read the union of all items plus the rules
-- (common/src/watchset/pg.ts); keep those column names in step with it.
-- Timestamps use clock_timestamp(), not now(): rows added in one transaction keep their order.
CREATE TABLE watchlists (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  description text CHECK (char_length(description) <= 1000),
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX watchlists_created_idx ON watchlists (created_at, id);

CREATE TABLE watchlist_items (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  watchlist_id uuid NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
  symbol       text NOT NULL,
  asset_type   text NOT NULL CHECK (asset_type IN ('crypto', 'stock', 'index', 'forex')),
  exchange     text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- the same instrument once per watchlist (concurrent adds: one wins, the other gets 409)
  CONSTRAINT watchlist_items_unique UNIQUE (watchlist_id, exchange, symbol)
);

CREATE TABLE alert_rules (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  symbol           text NOT NULL,
  condition        text NOT NULL CHECK (condition IN ('above', 'below', 'pct_change')),
  threshold        double precision NOT NULL,
  window_seconds   integer CHECK (window_seconds > 0),
  cooldown_seconds integer NOT NULL DEFAULT 300 CHECK (cooldown_seconds >= 0),
  severity         text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK (condition <> 'pct_change' OR window_seconds IS NOT NULL)
);
CREATE INDEX alert_rules_created_idx ON alert_rules (created_at, id);
