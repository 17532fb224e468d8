-- Galla terminal schema, version 16: a sale remembers its terms (the customer, where the goods
-- go, the bill discount), so a held sale resumes as it was parked, not as a bare list of lines.
-- A bill discount is a percentage (basis points) or an amount (paise), never both.

ALTER TABLE cart ADD COLUMN customer_id TEXT REFERENCES customer(id);
ALTER TABLE cart ADD COLUMN place_of_supply INTEGER CHECK (place_of_supply BETWEEN 1 AND 99);
ALTER TABLE cart ADD COLUMN ship_to_customer INTEGER NOT NULL DEFAULT 0
    CHECK (ship_to_customer IN (0, 1));
ALTER TABLE cart ADD COLUMN bill_discount_bp INTEGER CHECK (bill_discount_bp BETWEEN 1 AND 10000);
ALTER TABLE cart ADD COLUMN bill_discount_paise INTEGER
    CHECK (bill_discount_paise IS NULL OR (bill_discount_paise >= 1 AND bill_discount_bp IS NULL));

-- Carts are a handful of rows (the open sales and the held ones); an index on them costs a page
-- write on every scan at the till and saves no read worth having.
DROP INDEX cart_status;
