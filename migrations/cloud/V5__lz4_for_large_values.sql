-- Audit records (a sale's is about 12 KB of JSON) and shared rows are stored out of line once a
-- row passes 2 KB, compressed. PostgreSQL's default (pglz) was a large share of the server's
-- time on a push; lz4 compresses these about as well at a fraction of the CPU. Applies to
-- values written from now on; older ones stay readable as they are.
ALTER TABLE audit_record ALTER COLUMN record SET COMPRESSION lz4;
ALTER TABLE shared_row ALTER COLUMN data SET COMPRESSION lz4;
ALTER TABLE shared_row ALTER COLUMN stamps SET COMPRESSION lz4;
