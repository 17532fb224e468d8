-- Shared state (issue 7): what the shop's terminals agree on, derived from the audit records
-- they push, in the push's own transaction, so a record and its effect on the shop's books are
-- committed together or not at all. Terminals read it back through the change feed.

-- One row per (table, id) as the terminals store it (column names and values as in their
-- SQLite tables; PII columns stay ciphertext under the tenant's data key, which this server
-- never holds). `data` is null for a row deleted on a terminal (a tombstone, so the deletion
-- reaches the others). `stamps` holds, for tables merged field by field, each column's winning
-- hybrid-logical-clock stamp. `change` is the row's place in the tenant's change feed: every
-- change takes the next number, so a row sits at its latest change.
CREATE TABLE shared_row (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    tbl             text NOT NULL CHECK (tbl ~ '^[a-z_]{1,40}$'),
    row_id          text NOT NULL CHECK (length(row_id) BETWEEN 1 AND 200),
    data            jsonb,
    stamps          jsonb,
    device_id       uuid NOT NULL,
    change          bigint NOT NULL CHECK (change >= 1),
    PRIMARY KEY (tenant_id, tbl, row_id)
);
CREATE UNIQUE INDEX shared_row_by_change ON shared_row (tenant_id, change);

-- The last change number handed out, per tenant.
CREATE TABLE change_feed (
    tenant_id       uuid PRIMARY KEY REFERENCES tenant (tenant_id),
    last_change     bigint NOT NULL CHECK (last_change >= 0)
);

-- Every invoice and credit-note number taken, per financial year: a second document with a
-- number already taken stays in the audit log (it happened, and was signed) but is not taken
-- into the shared books, and the owner is alerted.
CREATE TABLE doc_number (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    kind            text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    fy              integer NOT NULL,
    number          text NOT NULL CHECK (length(number) BETWEEN 1 AND 40),
    row_id          text NOT NULL,
    device_id       uuid NOT NULL,
    PRIMARY KEY (tenant_id, kind, fy, number)
);

-- Every IMEI sold and not returned. A second sale of one (two terminals offline at once)
-- stands, since it happened, and raises an owner conflict.
CREATE TABLE imei_sale (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    imei            text NOT NULL CHECK (imei ~ '^[0-9]{15}$'),
    invoice_id      text NOT NULL,
    device_id       uuid NOT NULL,
    returned        boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, imei, invoice_id)
);

-- A linked shop's history from before it linked is taken as it is (the cloud knows nothing
-- better about it); the device's own `sync.link` record ends it.
ALTER TABLE device ADD COLUMN pre_link_history boolean NOT NULL DEFAULT false;

ALTER TABLE owner_alert DROP CONSTRAINT owner_alert_kind_check;
ALTER TABLE owner_alert ADD CONSTRAINT owner_alert_kind_check
    CHECK (kind IN ('equivocation', 'duplicate_number', 'imei_conflict', 'seat_change_refused'));

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['shared_row', 'change_feed', 'doc_number', 'imei_sale']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END;
$$;

GRANT SELECT, INSERT, UPDATE (data, stamps, device_id, change) ON shared_row TO galla_app;
GRANT SELECT, INSERT, UPDATE (last_change) ON change_feed TO galla_app;
GRANT SELECT, INSERT ON doc_number TO galla_app;
GRANT SELECT, INSERT, UPDATE (returned) ON imei_sale TO galla_app;
GRANT UPDATE (pre_link_history) ON device TO galla_app;
-- The roster follows the seats' shared rows (seats are server-authoritative).
GRANT UPDATE (display_name, roles, revoked) ON seat TO galla_app;
