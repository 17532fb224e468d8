-- Galla terminal schema, version 8: customers found by any word of their name, in any script,
-- as they are typed (the name is the one customer field kept out of column encryption so the
-- counter can search it; SQLCipher still encrypts it on disk).

CREATE VIRTUAL TABLE customer_fts USING fts5(
    name,
    content = 'customer', content_rowid = 'rowid',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'",
    prefix = '1 2 3'
);
INSERT INTO customer_fts(customer_fts) VALUES ('rebuild');
CREATE TRIGGER customer_fts_insert AFTER INSERT ON customer BEGIN
    INSERT INTO customer_fts(rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER customer_fts_delete AFTER DELETE ON customer BEGIN
    INSERT INTO customer_fts(customer_fts, rowid, name) VALUES ('delete', old.rowid, old.name);
END;
CREATE TRIGGER customer_fts_update AFTER UPDATE OF name ON customer BEGIN
    INSERT INTO customer_fts(customer_fts, rowid, name) VALUES ('delete', old.rowid, old.name);
    INSERT INTO customer_fts(rowid, name) VALUES (new.rowid, new.name);
END;
