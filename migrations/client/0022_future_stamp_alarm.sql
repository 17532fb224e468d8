-- Issue 21: a pulled row stamped from the future (its HLC beyond this terminal's clock plus
-- the drift bound) is not taken, and the owner must see that it came: only a breached cloud, or
-- one from before the cloud refused such stamps, serves one. A new alarm kind; SQLite cannot
-- change a CHECK in place, so the table is rebuilt (nothing refers to it) with its triggers.
CREATE TABLE sync_alarm_new (
    id                  INTEGER PRIMARY KEY NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN
                            ('bad_checkpoint', 'log_rewritten', 'record_missing',
                             'future_stamp')),
    detail              TEXT NOT NULL,
    evidence            TEXT NOT NULL,
    raised_at_ms        INTEGER NOT NULL
) STRICT;
INSERT INTO sync_alarm_new (id, kind, detail, evidence, raised_at_ms)
    SELECT id, kind, detail, evidence, raised_at_ms FROM sync_alarm;
DROP TABLE sync_alarm;
ALTER TABLE sync_alarm_new RENAME TO sync_alarm;
CREATE TRIGGER sync_alarm_no_update BEFORE UPDATE ON sync_alarm
BEGIN SELECT RAISE(ABORT, 'sync alarms are kept as raised'); END;
CREATE TRIGGER sync_alarm_no_delete BEFORE DELETE ON sync_alarm
BEGIN SELECT RAISE(ABORT, 'sync alarms are kept as raised'); END;
