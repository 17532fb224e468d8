-- The cloud's alerts for the owner (issue 7), pulled through the change feed with the rest of
-- the shared state, so the owner sees them at any counter: an invoice or credit-note number
-- taken twice, an IMEI sold on two counters while both were offline, an offline seat change
-- refused because its author no longer held the right, a terminal that signed two different
-- records under one number (quarantined). Only applying a pull writes here.
CREATE TABLE owner_alert (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    device_id       TEXT,
    detail          TEXT NOT NULL,
    raised_at_ms    INTEGER NOT NULL
) STRICT;
CREATE INDEX owner_alert_by_time ON owner_alert (raised_at_ms);
