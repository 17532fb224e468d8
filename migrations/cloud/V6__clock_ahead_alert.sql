-- Issue 21: a pushed record stamped further ahead of the cloud's clock than MAX_DRIFT_MS is
-- refused, and the owner is told once per record. A terminal's record that changes another
-- terminal's device row, removes its own or changes its enrolled public key is not applied, and
-- the owner is told.
ALTER TABLE owner_alert DROP CONSTRAINT owner_alert_kind_check;
ALTER TABLE owner_alert ADD CONSTRAINT owner_alert_kind_check
    CHECK (kind IN ('equivocation', 'duplicate_number', 'imei_conflict', 'seat_change_refused',
                    'clock_ahead', 'device_change_refused'));
