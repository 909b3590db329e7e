-- A watchlist or alert rule inserted without an owner (a script, a benchmark, SQL by hand: anything but the API,
-- which always names one) belongs to the built-in admin, as every row did before users (003, docs/USERS.md).
ALTER TABLE watchlists ALTER COLUMN owner_id SET DEFAULT '00000000-0000-4000-8000-000000000001';
ALTER TABLE alert_rules ALTER COLUMN owner_id SET DEFAULT '00000000-0000-4000-8000-000000000001';
