-- Galla terminal schema, version 9: the shop's tax registration facts that change what a bill
-- must say. The turnover band sets how many HSN digits an invoice needs (Notification 78/2020);
-- a composition dealer issues bills of supply and collects no tax (CGST s. 10, Rule 49).
-- Each invoice keeps who issued it and the declaration it was printed with (Rule 46: supplier's
-- name, address and GSTIN), so a later change of settings never rewrites what an old bill said.

ALTER TABLE tenant ADD COLUMN address TEXT;
ALTER TABLE tenant ADD COLUMN turnover_band TEXT NOT NULL DEFAULT 'up_to_5_crore'
    CHECK (turnover_band IN ('up_to_5_crore', 'above_5_crore'));
ALTER TABLE tenant ADD COLUMN composition INTEGER NOT NULL DEFAULT 0
    CHECK (composition IN (0, 1));

ALTER TABLE invoice ADD COLUMN declaration TEXT;
ALTER TABLE invoice ADD COLUMN supplier_name TEXT;
ALTER TABLE invoice ADD COLUMN supplier_gstin TEXT;
ALTER TABLE invoice ADD COLUMN supplier_state INTEGER;
ALTER TABLE invoice ADD COLUMN supplier_address TEXT;
