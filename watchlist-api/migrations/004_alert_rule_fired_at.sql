-- Issue 17: `trigger: once` survives restarts. The market feeder sets fired_at when a once-rule fires and
-- never fires a rule that has it; PATCH {"fired_at": null} re-arms the rule (docs/ALERTING.md). Null for
-- every existing row: nothing has fired yet as far as the database knows.
ALTER TABLE alert_rules ADD COLUMN fired_at timestamptz;
