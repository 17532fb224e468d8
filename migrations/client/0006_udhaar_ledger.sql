-- Galla terminal schema, version 6: udhaar (credit) ledgers. Per-customer append-only entries;
-- the balance is always their sum, never a stored number that could drift.

-- What the shop lets the customer owe; NULL: no credit without a seat allowed to exceed limits.
ALTER TABLE customer ADD COLUMN credit_limit_paise INTEGER CHECK (credit_limit_paise >= 0);

CREATE TABLE ledger_entry (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenant(id),
    -- The terminal that recorded it (its day close counts udhaar received there).
    device_id           TEXT NOT NULL REFERENCES device(id),
    customer_id         TEXT NOT NULL REFERENCES customer(id),
    kind                TEXT NOT NULL CHECK (kind IN ('credit_sale', 'payment', 'credit_note')),
    -- Signed: positive when the customer owes more, negative when less.
    amount_paise        INTEGER NOT NULL CHECK (amount_paise <> 0),
    invoice_id          TEXT REFERENCES invoice(id),
    credit_note_id      TEXT REFERENCES credit_note(id),
    mode                TEXT CHECK (mode IN ('cash', 'upi', 'card')),
    reference_ct        BLOB,           -- UPI or card reference, column-encrypted
    -- Set when the entry took the balance over the limit: the seat's right to allow it was used.
    over_limit          INTEGER NOT NULL DEFAULT 0 CHECK (over_limit IN (0, 1)),
    seat_id             TEXT NOT NULL REFERENCES seat(id),
    at_ms               INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_entry_customer ON ledger_entry(tenant_id, customer_id, at_ms);

CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE ON ledger_entry
BEGIN SELECT RAISE(ABORT, 'a ledger entry cannot be changed: record a correcting entry'); END;
CREATE TRIGGER ledger_entry_no_delete BEFORE DELETE ON ledger_entry
BEGIN SELECT RAISE(ABORT, 'a ledger entry cannot be deleted: record a correcting entry'); END;
