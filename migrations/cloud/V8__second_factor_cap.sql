-- Issue 21: sign-in failures are counted per source, so someone who knows the owner's
-- passphrase and holds many addresses (an IPv6 /48 is 65,536 /64s) could try hundreds of
-- thousands of authenticator codes every fifteen minutes. Wrong codes given with the right
-- passphrase are now also counted per tenant: every fifth locks owner sign-in for the tenant,
-- for 15 minutes doubling with each lock (at most a day), and tells the owner. A right code
-- clears the count.
ALTER TABLE owner_account
    ADD COLUMN totp_failures integer NOT NULL DEFAULT 0 CHECK (totp_failures >= 0),
    ADD COLUMN totp_locked_until_ms bigint NOT NULL DEFAULT 0;
GRANT UPDATE (totp_failures, totp_locked_until_ms) ON owner_account TO galla_app;

ALTER TABLE owner_alert DROP CONSTRAINT owner_alert_kind_check;
ALTER TABLE owner_alert ADD CONSTRAINT owner_alert_kind_check
    CHECK (kind IN ('equivocation', 'duplicate_number', 'imei_conflict', 'seat_change_refused',
                    'clock_ahead', 'device_change_refused', 'change_refused',
                    'revoked_seat_fact', 'second_factor_guessing'));
