-- Galla terminal schema, version 20: a sale being rung up is this terminal's scratch state, not a
-- chain of signed records. Its cart rows are still written durably on every scan (a held sale
-- survives a crash), but no longer make an audit record each; the finalize record carries what
-- the owner needs of the sale's history (who opened it, who held and resumed it), kept here
-- while the sale is made.
--
-- What an owner looks for stays on the record, as facts shared with the cloud: a line taken off
-- after it was rung up, units taken off a line, a sale thrown away, a price changed from the
-- catalogue's. One row per event, append-only.

ALTER TABLE cart ADD COLUMN history TEXT NOT NULL DEFAULT '[]';

CREATE TABLE sale_event (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenant(id),
    device_id           TEXT NOT NULL,
    -- The sale (its cart): no foreign key, since the cart row goes when the sale ends.
    cart_id             TEXT NOT NULL,
    seat_id             TEXT NOT NULL,
    at_ms               INTEGER NOT NULL,
    kind                TEXT NOT NULL
                        CHECK (kind IN ('void_line', 'void_units', 'discard', 'price_override')),
    line_no             INTEGER,
    product_id          TEXT,
    sku                 TEXT,
    description         TEXT NOT NULL,
    -- Units taken off (a void or a discard), or on the line (a price override).
    quantity            INTEGER NOT NULL CHECK (quantity >= 0),
    unit_price_paise    INTEGER NOT NULL CHECK (unit_price_paise >= 0),
    -- What was taken off at the line's price less its discount; for a price override, the
    -- catalogue's price the line had before.
    amount_paise        INTEGER NOT NULL CHECK (amount_paise >= 0)
) STRICT;
CREATE INDEX sale_event_by_time ON sale_event (tenant_id, at_ms);

CREATE TRIGGER sale_event_no_update BEFORE UPDATE ON sale_event
BEGIN SELECT RAISE(ABORT, 'sale events are facts: they are never changed'); END;
CREATE TRIGGER sale_event_no_delete BEFORE DELETE ON sale_event
BEGIN SELECT RAISE(ABORT, 'sale events are facts: they are never deleted'); END;
