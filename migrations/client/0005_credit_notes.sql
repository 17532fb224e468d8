-- Galla terminal schema, version 5: credit notes (CGST s. 34; numbered per Rule 53(1A)) for
-- returns and cancellations. Each references the invoice and the lines it reverses, in its own
-- per-terminal series; like invoices they are facts, never changed or deleted.

CREATE TABLE credit_note (
    id                   TEXT PRIMARY KEY NOT NULL,
    tenant_id            TEXT NOT NULL REFERENCES tenant(id),
    device_id            TEXT NOT NULL REFERENCES device(id),
    number               TEXT NOT NULL,
    fy                   INTEGER NOT NULL,
    number_in_year       INTEGER NOT NULL CHECK (number_in_year >= 1),
    invoice_id           TEXT NOT NULL REFERENCES invoice(id),
    issued_at_ms         INTEGER NOT NULL,
    seat_id              TEXT NOT NULL REFERENCES seat(id),
    reason               TEXT NOT NULL,
    settlement           TEXT NOT NULL
        CHECK (settlement IN ('refund_cash', 'refund_upi', 'refund_card', 'ledger_credit')),
    refund_reference_ct  BLOB,             -- UPI or card refund reference, column-encrypted
    taxable_paise        INTEGER NOT NULL,
    cgst_paise           INTEGER NOT NULL,
    sgst_paise           INTEGER NOT NULL,
    igst_paise           INTEGER NOT NULL,
    cess_paise           INTEGER NOT NULL,
    -- The note that completes the return of a whole invoice carries its round-off, so the
    -- customer gets back exactly what was paid.
    round_off_paise      INTEGER NOT NULL DEFAULT 0,
    total_paise          INTEGER NOT NULL CHECK (total_paise >= 0),
    UNIQUE (tenant_id, number, fy),
    UNIQUE (device_id, fy, number_in_year)
) STRICT;
CREATE INDEX credit_note_invoice ON credit_note(invoice_id);

CREATE TABLE credit_note_line (
    id                   TEXT PRIMARY KEY NOT NULL,
    credit_note_id       TEXT NOT NULL REFERENCES credit_note(id),
    invoice_line_id      TEXT NOT NULL REFERENCES invoice_line(id),
    quantity             INTEGER NOT NULL CHECK (quantity >= 1),
    taxable_paise        INTEGER NOT NULL,
    cgst_paise           INTEGER NOT NULL,
    sgst_paise           INTEGER NOT NULL,
    igst_paise           INTEGER NOT NULL,
    cess_paise           INTEGER NOT NULL,
    total_paise          INTEGER NOT NULL
) STRICT;
CREATE INDEX credit_note_line_invoice_line ON credit_note_line(invoice_line_id);

-- IMEIs taken back: sellable again.
CREATE TABLE credit_note_imei (
    id                   TEXT PRIMARY KEY NOT NULL,
    tenant_id            TEXT NOT NULL REFERENCES tenant(id),
    credit_note_id       TEXT NOT NULL REFERENCES credit_note(id),
    imei                 TEXT NOT NULL
) STRICT;
CREATE INDEX credit_note_imei_imei ON credit_note_imei(tenant_id, imei);

CREATE TRIGGER credit_note_no_update BEFORE UPDATE ON credit_note
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be changed: issue another'); END;
CREATE TRIGGER credit_note_no_delete BEFORE DELETE ON credit_note
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be deleted'); END;
CREATE TRIGGER credit_note_line_no_update BEFORE UPDATE ON credit_note_line
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be changed: issue another'); END;
CREATE TRIGGER credit_note_line_no_delete BEFORE DELETE ON credit_note_line
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be deleted'); END;
CREATE TRIGGER credit_note_imei_no_update BEFORE UPDATE ON credit_note_imei
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be changed: issue another'); END;
CREATE TRIGGER credit_note_imei_no_delete BEFORE DELETE ON credit_note_imei
BEGIN SELECT RAISE(ABORT, 'a credit note cannot be deleted'); END;
