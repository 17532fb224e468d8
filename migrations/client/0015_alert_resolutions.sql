-- The owner's answer to a cloud alert (issue 7): what was done about an IMEI sold on two
-- counters, a number taken twice, a refused seat change. Written through the audited write path
-- at the counter where the owner resolved it, and shared through the cloud like the shop's
-- other settings (the later resolution wins), so every counter shows the alert as resolved.
-- The alert itself stays as the cloud raised it; this table only answers it.
CREATE TABLE alert_resolution (
    id              TEXT PRIMARY KEY NOT NULL,  -- the alert's id
    resolved_by     TEXT NOT NULL,              -- the seat that resolved it
    resolved_at_ms  INTEGER NOT NULL,
    note            TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 500)
) STRICT;
