-- Galla terminal schema, version 10: the product name index keeps which column a word is in,
-- not where in the column (FTS5 detail=column). Search is word-prefix matching, never phrases,
-- so positions were never used, and they made ranking a large match set three times slower.
-- Prefix indexes up to 6 characters: a typed word up to that long is looked up directly
-- instead of merging every word it starts (21 ms to 8 ms a search at 200k products,
-- docs/benchmarks.md). The index is rebuilt from the product table.

DROP TRIGGER product_fts_insert;
DROP TRIGGER product_fts_delete;
DROP TRIGGER product_fts_update;
DROP TABLE product_fts;

CREATE VIRTUAL TABLE product_fts USING fts5(
    name, sku,
    content = 'product', content_rowid = 'rowid',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'",
    prefix = '1 2 3 4 5 6',
    detail = column
);
INSERT INTO product_fts(product_fts) VALUES ('rebuild');
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

-- Names starting with what was typed, for the searches that match too much to rank.
CREATE INDEX product_name ON product(tenant_id, name COLLATE NOCASE);
