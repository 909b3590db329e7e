-- Issue 17: more conditions and noise control on alert rules (docs/ALERTING.md). Existing rows keep their
-- behaviour: every new column has a default that means "as before".
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_condition_check;
ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_condition_check CHECK (condition IN (
  'above', 'below', 'pct_change', 'crosses_above', 'crosses_below', 'rsi_above', 'rsi_below',
  'macd_cross_up', 'macd_cross_down', 'bollinger_break_up', 'bollinger_break_down', 'volume_spike',
  'funding_above', 'funding_below', 'fear_greed_above', 'fear_greed_below',
  'news_sentiment_above', 'news_sentiment_below', 'news_keyword', 'feed_stale'));
-- conditions such as macd_cross_up or news_keyword have no threshold
ALTER TABLE alert_rules ALTER COLUMN threshold DROP NOT NULL;
ALTER TABLE alert_rules
  ADD COLUMN timeframe      text CHECK (timeframe IN ('1m', '5m', '1h', '1d')),
  ADD COLUMN params         jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(params) = 'object'),
  ADD COLUMN trigger        text NOT NULL DEFAULT 'every_time' CHECK (trigger IN ('once', 'every_time', 'once_per_bar')),
  ADD COLUMN hysteresis_pct double precision NOT NULL DEFAULT 0 CHECK (hysteresis_pct >= 0 AND hysteresis_pct <= 50),
  ADD COLUMN expires_at     timestamptz,
  ADD COLUMN muted_until    timestamptz;
