-- Galla terminal schema, version 7: the day close. The report is stored when the day is closed
-- and never recomputed: later corrections are credit notes on later days.

CREATE TABLE day_close (
    id              TEXT PRIMARY KEY NOT NULL,      -- device/YYYY-MM-DD
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    device_id       TEXT NOT NULL REFERENCES device(id),
    day             TEXT NOT NULL,                  -- IST calendar date
    closed_at_ms    INTEGER NOT NULL,
    seat_id         TEXT NOT NULL REFERENCES seat(id),
    report          TEXT NOT NULL,                  -- JSON of galla_client::DayReport
    UNIQUE (device_id, day)
) STRICT;

CREATE TRIGGER day_close_no_update BEFORE UPDATE ON day_close
BEGIN SELECT RAISE(ABORT, 'a closed day cannot be changed'); END;
CREATE TRIGGER day_close_no_delete BEFORE DELETE ON day_close
BEGIN SELECT RAISE(ABORT, 'a closed day cannot be deleted'); END;
