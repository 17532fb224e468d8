-- Galla terminal schema, version 18: every deliberate look at a customer's contact details, and
-- every export of them, as a fact written through the audited write path. Views of customers
-- are masked for every seat; a seat allowed to see contact details shows one customer's on
-- purpose (`customer.reveal`), and the owner's export of all of them is recorded as one
-- (`customers.export`). The rows hold ids and counts, never the details themselves.

CREATE TABLE pii_access (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    seat_id         TEXT NOT NULL REFERENCES seat(id),
    at_ms           INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('reveal', 'export')),
    -- The customer shown; none for an export, which is of every customer.
    customer_id     TEXT REFERENCES customer(id),
    customers       INTEGER NOT NULL CHECK (customers >= 0),
    CHECK ((kind = 'reveal') = (customer_id IS NOT NULL))
) STRICT;
CREATE INDEX pii_access_by_customer ON pii_access (customer_id, at_ms) WHERE customer_id IS NOT NULL;

CREATE TRIGGER pii_access_no_update BEFORE UPDATE ON pii_access
BEGIN SELECT RAISE(ABORT, 'a record of who saw customer details cannot be changed'); END;
CREATE TRIGGER pii_access_no_delete BEFORE DELETE ON pii_access
BEGIN SELECT RAISE(ABORT, 'a record of who saw customer details cannot be deleted'); END;
