-- Galla terminal schema, version 21: a sale writes fewer pages.
--
-- Every table or index a transaction touches costs at least one written page, and with SQLCipher
-- each written page is encrypted and authenticated (about 9 µs, docs/benchmarks.md run 6). A
-- rowid table with a TEXT primary key is two b-trees (the rows, and the key's index); as
-- WITHOUT ROWID it is one, the rows kept in key order. So:
--
-- * `cart`, `cart_line` (scratch: a handful of rows, open and held sales) are keyed by id alone;
--   the index on (cart_id, line_no) goes, since a cart's lines are found by reading the few rows
--   there are, and line numbers are taken inside the cart's transaction.
-- * `invoice` is keyed by id; the key on (device_id, fy, number_in_year) goes: the number
--   already names the terminal's series and the year's count, and (tenant_id, number, fy)
--   keeps it unique.
-- * `invoice_line` stays a rowid table: its ten rows a sale are appended at the right edge, which
--   SQLite's quick balance does in one page, while a WITHOUT ROWID b-tree splits by sharing
--   cells among siblings and wrote 7.8 pages a sale where the rowid form writes 6.8 (measured;
--   docs/benchmarks.md run 8).
-- * `payment` is kept in (invoice_id, id) order (ids are time-ordered, so a bill's payments read
--   back in the order they were given), and its separate index on invoice_id goes.
--
-- Foreign keys are off while migrations run (store.rs), and the rebuilt tables' keys are
-- checked before the upgrade commits. Columns keep their order and names.

CREATE TABLE cart_new (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenant(id),
    opened_by           TEXT NOT NULL REFERENCES seat(id),
    status              TEXT NOT NULL CHECK (status IN ('open', 'held')),
    held_reason         TEXT,
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL,
    customer_id         TEXT REFERENCES customer(id),
    place_of_supply     INTEGER CHECK (place_of_supply BETWEEN 1 AND 99),
    ship_to_customer    INTEGER NOT NULL DEFAULT 0 CHECK (ship_to_customer IN (0, 1)),
    bill_discount_bp    INTEGER CHECK (bill_discount_bp BETWEEN 1 AND 10000),
    bill_discount_paise INTEGER
        CHECK (bill_discount_paise IS NULL OR (bill_discount_paise >= 1 AND bill_discount_bp IS NULL)),
    history             TEXT NOT NULL DEFAULT '[]'
) STRICT, WITHOUT ROWID;
INSERT INTO cart_new SELECT * FROM cart;

CREATE TABLE cart_line_new (
    id                  TEXT PRIMARY KEY NOT NULL,
    cart_id             TEXT NOT NULL REFERENCES cart(id),
    line_no             INTEGER NOT NULL CHECK (line_no >= 1),
    description         TEXT NOT NULL,
    quantity            INTEGER NOT NULL CHECK (quantity >= 1),
    unit_price_paise    INTEGER NOT NULL CHECK (unit_price_paise >= 0),
    discount_bp         INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    product_id          TEXT REFERENCES product(id),
    sku                 TEXT,
    hsn                 TEXT,
    unit                TEXT,
    price_basis         TEXT CHECK (price_basis IN ('inclusive', 'exclusive')),
    gst_rate_bp         INTEGER CHECK (gst_rate_bp BETWEEN 0 AND 10000),
    cess_rate_bp        INTEGER CHECK (cess_rate_bp BETWEEN 0 AND 10000),
    imeis_required      INTEGER NOT NULL DEFAULT 0 CHECK (imeis_required >= 0),
    imeis               TEXT NOT NULL DEFAULT '[]'
) STRICT, WITHOUT ROWID;
INSERT INTO cart_line_new SELECT * FROM cart_line;

DROP TABLE cart_line;
DROP TABLE cart;
ALTER TABLE cart_new RENAME TO cart;
ALTER TABLE cart_line_new RENAME TO cart_line;

CREATE TABLE invoice_new (
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
    declaration          TEXT,
    supplier_name        TEXT,
    supplier_gstin       TEXT,
    supplier_state       INTEGER,
    supplier_address     TEXT,
    buyer_name           TEXT,
    buyer_gstin_ct       BLOB,
    buyer_state          INTEGER,
    buyer_address_ct     BLOB,
    UNIQUE (tenant_id, number, fy)
) STRICT, WITHOUT ROWID;
INSERT INTO invoice_new SELECT * FROM invoice;

CREATE TABLE payment_new (
    id              TEXT NOT NULL,
    invoice_id      TEXT NOT NULL REFERENCES invoice(id),
    mode            TEXT NOT NULL CHECK (mode IN ('cash', 'upi', 'card', 'credit')),
    amount_paise    INTEGER NOT NULL CHECK (amount_paise > 0),
    tendered_paise  INTEGER,
    change_paise    INTEGER,
    reference_ct    BLOB,              -- UPI or card reference, column-encrypted like PII
    PRIMARY KEY (invoice_id, id)
) STRICT, WITHOUT ROWID;
INSERT INTO payment_new SELECT * FROM payment;

DROP TABLE payment;
DROP TABLE invoice;
ALTER TABLE invoice_new RENAME TO invoice;
ALTER TABLE payment_new RENAME TO payment;

CREATE INDEX invoice_issued ON invoice(tenant_id, issued_at_ms);
CREATE INDEX invoice_customer ON invoice(tenant_id, customer_id, issued_at_ms)
    WHERE customer_id IS NOT NULL;

CREATE TRIGGER invoice_no_update BEFORE UPDATE ON invoice
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be changed: issue a credit note'); END;
CREATE TRIGGER invoice_no_delete BEFORE DELETE ON invoice
BEGIN SELECT RAISE(ABORT, 'a finalized invoice cannot be deleted: issue a credit note'); END;
CREATE TRIGGER payment_no_update BEFORE UPDATE ON payment
BEGIN SELECT RAISE(ABORT, 'a recorded payment cannot be changed'); END;
CREATE TRIGGER payment_no_delete BEFORE DELETE ON payment
BEGIN SELECT RAISE(ABORT, 'a recorded payment cannot be deleted'); END;
