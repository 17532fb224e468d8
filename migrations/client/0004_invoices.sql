-- Galla terminal schema, version 4: finalized invoices (facts: never updated or deleted), their
-- lines, IMEIs and payments, and each terminal's document series per financial year. Cart lines
-- learn which product they are, so finalizing can tax them.

ALTER TABLE cart_line ADD COLUMN product_id TEXT REFERENCES product(id);
ALTER TABLE cart_line ADD COLUMN sku TEXT;
ALTER TABLE cart_line ADD COLUMN hsn TEXT;
ALTER TABLE cart_line ADD COLUMN unit TEXT;
ALTER TABLE cart_line ADD COLUMN price_basis TEXT CHECK (price_basis IN ('inclusive', 'exclusive'));
ALTER TABLE cart_line ADD COLUMN gst_rate_bp INTEGER CHECK (gst_rate_bp BETWEEN 0 AND 10000);
ALTER TABLE cart_line ADD COLUMN cess_rate_bp INTEGER CHECK (cess_rate_bp BETWEEN 0 AND 10000);
ALTER TABLE cart_line ADD COLUMN imeis_required INTEGER NOT NULL DEFAULT 0 CHECK (imeis_required >= 0);
-- JSON array of IMEIs captured for this line.
ALTER TABLE cart_line ADD COLUMN imeis TEXT NOT NULL DEFAULT '[]';

-- The last number issued per terminal, document kind and financial year (CGST Rule 46(b):
-- consecutive, unique per year; a new year starts at 1).
CREATE TABLE doc_series (
    id              TEXT PRIMARY KEY NOT NULL,          -- device/kind/fy
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    device_id       TEXT NOT NULL REFERENCES device(id),
    kind            TEXT NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    fy              INTEGER NOT NULL,
    series_code     TEXT NOT NULL,
    last_number     INTEGER NOT NULL CHECK (last_number >= 0),
    UNIQUE (device_id, kind, fy)
) STRICT;

CREATE TABLE invoice (
    id                   TEXT PRIMARY KEY NOT NULL,
    tenant_id            TEXT NOT NULL REFERENCES tenant(id),
    device_id            TEXT NOT NULL REFERENCES device(id),
    number               TEXT NOT NULL,
    fy                   INTEGER NOT NULL,
    number_in_year       INTEGER NOT NULL CHECK (number_in_year >= 1),
    doc_kind             TEXT NOT NULL
        CHECK (doc_kind IN ('tax_invoice', 'bill_of_supply', 'invoice_cum_bill_of_supply')),
    issued_at_ms         INTEGER NOT NULL,
    seat_id              TEXT NOT NULL REFERENCES seat(id),
    customer_id          TEXT REFERENCES customer(id),
    supply               TEXT NOT NULL
        CHECK (supply IN ('intra_state', 'intra_union_territory', 'inter_state')),
    place_of_supply      INTEGER NOT NULL,
    bill_discount_paise  INTEGER NOT NULL CHECK (bill_discount_paise >= 0),
    taxable_paise        INTEGER NOT NULL,
    cgst_paise           INTEGER NOT NULL,
    sgst_paise           INTEGER NOT NULL,
    igst_paise           INTEGER NOT NULL,
    cess_paise           INTEGER NOT NULL,
    subtotal_paise       INTEGER NOT NULL,
    round_off_paise      INTEGER NOT NULL CHECK (round_off_paise BETWEEN -49 AND 50),
    total_paise          INTEGER NOT NULL CHECK (total_paise >= 0),
    UNIQUE (tenant_id, number, fy),
    UNIQUE (device_id, fy, number_in_year)
) STRICT;
CREATE INDEX invoice_issued ON invoice(tenant_id, issued_at_ms);

CREATE TABLE invoice_line (
    id                   TEXT PRIMARY KEY NOT NULL,
    invoice_id           TEXT NOT NULL REFERENCES invoice(id),
    line_no              INTEGER NOT NULL CHECK (line_no >= 1),
    product_id           TEXT NOT NULL REFERENCES product(id),
    sku                  TEXT NOT NULL,
    description          TEXT NOT NULL,
    hsn                  TEXT,
    unit                 TEXT NOT NULL,
    quantity             INTEGER NOT NULL CHECK (quantity >= 1),
    unit_price_paise     INTEGER NOT NULL CHECK (unit_price_paise >= 0),
    price_basis          TEXT NOT NULL CHECK (price_basis IN ('inclusive', 'exclusive')),
    gst_rate_bp          INTEGER NOT NULL,
    cess_rate_bp         INTEGER NOT NULL,
    gross_paise          INTEGER NOT NULL,
    line_discount_paise  INTEGER NOT NULL,
    bill_discount_paise  INTEGER NOT NULL,
    taxable_paise        INTEGER NOT NULL,
    cgst_paise           INTEGER NOT NULL,
    sgst_paise           INTEGER NOT NULL,
    igst_paise           INTEGER NOT NULL,
    cess_paise           INTEGER NOT NULL,
    total_paise          INTEGER NOT NULL,
    UNIQUE (invoice_id, line_no)
) STRICT;

-- One row per IMEI sold; looked up to refuse selling an unreturned IMEI twice.
CREATE TABLE invoice_imei (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    invoice_id      TEXT NOT NULL REFERENCES invoice(id),
    line_id         TEXT NOT NULL REFERENCES invoice_line(id),
    imei            TEXT NOT NULL
) STRICT;
CREATE INDEX invoice_imei_imei ON invoice_imei(tenant_id, imei);

CREATE TABLE payment (
    id              TEXT PRIMARY KEY NOT NULL,
    invoice_id      TEXT NOT NULL REFERENCES invoice(id),
    mode            TEXT NOT NULL CHECK (mode IN ('cash', 'upi', 'card', 'credit')),
    amount_paise    INTEGER NOT NULL CHECK (amount_paise > 0),
    tendered_paise  INTEGER,
    change_paise    INTEGER,
    reference_ct    BLOB               -- UPI or card reference, column-encrypted like PII
) STRICT;
CREATE INDEX payment_invoice ON payment(invoice_id);

CREATE TRIGGER invoice_no_update BEFORE UPDATE ON invoice
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be changed: issue a credit note'); END;
CREATE TRIGGER invoice_no_delete BEFORE DELETE ON invoice
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be deleted: issue a credit note'); END;
CREATE TRIGGER invoice_line_no_update BEFORE UPDATE ON invoice_line
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be changed: issue a credit note'); END;
CREATE TRIGGER invoice_line_no_delete BEFORE DELETE ON invoice_line
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be deleted: issue a credit note'); END;
CREATE TRIGGER invoice_imei_no_update BEFORE UPDATE ON invoice_imei
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be changed: issue a credit note'); END;
CREATE TRIGGER invoice_imei_no_delete BEFORE DELETE ON invoice_imei
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be deleted: issue a credit note'); END;
CREATE TRIGGER payment_no_update BEFORE UPDATE ON payment
BEGIN SELECT RAISE(ABORT, 'a recorded payment cannot be changed'); END;
CREATE TRIGGER payment_no_delete BEFORE DELETE ON payment
BEGIN SELECT RAISE(ABORT, 'a recorded payment cannot be deleted'); END;
