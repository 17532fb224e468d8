-- Galla terminal schema, version 3: the catalogue. Products with their barcodes, tax and price,
-- and a full-text index on names in any script for search at the counter.

CREATE TABLE product (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenant(id),
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    hsn              TEXT,
    gst_rate_bp      INTEGER NOT NULL CHECK (gst_rate_bp BETWEEN 0 AND 10000),
    cess_rate_bp     INTEGER NOT NULL DEFAULT 0 CHECK (cess_rate_bp BETWEEN 0 AND 10000),
    price_paise      INTEGER NOT NULL CHECK (price_paise >= 0),
    price_basis      TEXT NOT NULL CHECK (price_basis IN ('inclusive', 'exclusive')),
    unit             TEXT NOT NULL,
    -- Serialized items (phones) need one IMEI per unit at the counter, two for dual-SIM.
    serialized       INTEGER NOT NULL DEFAULT 0 CHECK (serialized IN (0, 1)),
    imeis_per_unit   INTEGER NOT NULL DEFAULT 1 CHECK (imeis_per_unit IN (1, 2)),
    stock            INTEGER,
    created_at_ms    INTEGER NOT NULL,
    updated_at_ms    INTEGER NOT NULL,
    UNIQUE (tenant_id, sku)
) STRICT;

-- EAN-13 (UPC-A stored as its EAN-13 form), one product may carry several.
CREATE TABLE product_barcode (
    id               TEXT PRIMARY KEY NOT NULL,
    tenant_id        TEXT NOT NULL REFERENCES tenant(id),
    product_id       TEXT NOT NULL REFERENCES product(id),
    barcode          TEXT NOT NULL,
    UNIQUE (tenant_id, barcode)
) STRICT;
CREATE INDEX product_barcode_product ON product_barcode(product_id);

-- Names in any script: unicode61 with combining marks (M*) kept inside tokens, so Devanagari
-- and Tamil vowel signs do not split words; prefix indexes for search-as-you-type.
CREATE VIRTUAL TABLE product_fts USING fts5(
    name, sku,
    content = 'product', content_rowid = 'rowid',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'",
    prefix = '1 2 3'
);
CREATE TRIGGER product_fts_insert AFTER INSERT ON product BEGIN
    INSERT INTO product_fts(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;
CREATE TRIGGER product_fts_delete AFTER DELETE ON product BEGIN
    INSERT INTO product_fts(product_fts, rowid, name, sku) VALUES ('delete', old.rowid, old.name, old.sku);
END;
CREATE TRIGGER product_fts_update AFTER UPDATE OF name, sku ON product BEGIN
    INSERT INTO product_fts(product_fts, rowid, name, sku) VALUES ('delete', old.rowid, old.name, old.sku);
    INSERT INTO product_fts(rowid, name, sku) VALUES (new.rowid, new.name, new.sku);
END;
