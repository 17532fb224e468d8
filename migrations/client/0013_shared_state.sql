-- Shared state pulled from the cloud (issue 7).
--
-- Customers and products are merged across terminals field by field, the later
-- hybrid-logical-clock stamp winning (galla_proto::hlc): each row carries the stamp of its
-- newest edit, set by the unit of work on every write, and the cloud keeps one per column.
-- The index lets the clock resume from the newest stamp this terminal has seen.
ALTER TABLE customer ADD COLUMN hlc TEXT;
ALTER TABLE product ADD COLUMN hlc TEXT;
CREATE INDEX customer_by_hlc ON customer (hlc);
CREATE INDEX product_by_hlc ON product (hlc);

-- The change feed: rows are staged here page by page (bookkeeping), and applied together,
-- in one transaction, once the feed is complete; `pull_cursor` is where the applied state
-- stands, `pull_staged` how far the staging has read.
ALTER TABLE sync_state ADD COLUMN pull_cursor INTEGER NOT NULL DEFAULT 0 CHECK (pull_cursor >= 0);
ALTER TABLE sync_state ADD COLUMN pull_staged INTEGER NOT NULL DEFAULT 0 CHECK (pull_staged >= 0);
ALTER TABLE sync_state ADD COLUMN last_pull_ms INTEGER;

CREATE TABLE pull_inbox (
    change          INTEGER PRIMARY KEY NOT NULL,
    tbl             TEXT NOT NULL,
    row_id          TEXT NOT NULL,
    row             TEXT NOT NULL,      -- JSON, as the cloud sent it ('null': deleted)
    device_id       TEXT NOT NULL
) STRICT;
