-- Galla terminal schema, version 19: the buyer as the bill names them, copied when it is issued
-- (CGST Rule 46(e)), so a reprint years later says what the first print said even after the
-- customer's record was corrected. The name always; a registered buyer's GSTIN; the state; the
-- address only where the rule asks for it (a registered buyer, or a bill of Rs 50,000 or more).
-- GSTIN and address are column-encrypted under the invoice's id, as the customer's are under
-- theirs. Invoices from before this version have none (their receipt reads the customer).

ALTER TABLE invoice ADD COLUMN buyer_name TEXT;
ALTER TABLE invoice ADD COLUMN buyer_gstin_ct BLOB;
ALTER TABLE invoice ADD COLUMN buyer_state INTEGER;
ALTER TABLE invoice ADD COLUMN buyer_address_ct BLOB;
