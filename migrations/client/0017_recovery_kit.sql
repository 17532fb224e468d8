-- Galla terminal schema, version 17: when this terminal's recovery kit was made, and by whom.
-- The kit itself (the root keys sealed under the owner's code) is the file `recovery.kit`
-- beside the database: the database cannot hold the key that opens it. This row is what the
-- status shows ("made on ..."), and its changes are the audit trail of kits made.

CREATE TABLE recovery_kit (
    id              TEXT PRIMARY KEY NOT NULL REFERENCES device(id),   -- this terminal
    created_at_ms   INTEGER NOT NULL,
    created_by      TEXT NOT NULL REFERENCES seat(id)
) STRICT;
