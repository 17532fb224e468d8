-- Issue 21, deliver 4: an edit of a merged table (customers, products, settings, devices, alert
-- answers) by a seat that is revoked, unknown or without the table's writer right is not
-- applied, and the owner is told (change_refused); a fact (a sale, a return, a ledger entry)
-- made by a revoked or unknown seat is taken into the books and flagged (revoked_seat_fact).
ALTER TABLE owner_alert DROP CONSTRAINT owner_alert_kind_check;
ALTER TABLE owner_alert ADD CONSTRAINT owner_alert_kind_check
    CHECK (kind IN ('equivocation', 'duplicate_number', 'imei_conflict', 'seat_change_refused',
                    'clock_ahead', 'device_change_refused', 'change_refused',
                    'revoked_seat_fact'));
