-- Sync with the shop's cloud tenant (issue 7).
--
-- `cloud_link` is shop data: written once, by the audited "sync.link" operation, so the chain
-- records when and to which server (and which pinned CA and log key) this terminal was linked.
-- `sync_state` and `sync_alarm` are bookkeeping the sync loop keeps after each contact: the
-- store's authorizer lets only the sync bookkeeping gate write them (and `outbox.sent_at_ms`),
-- so that recording "sent" does not itself make a new record to send.

CREATE TABLE cloud_link (
    id              INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    server_url      TEXT NOT NULL,     -- https://host[:port], no path
    ca_pem          TEXT NOT NULL,     -- the tenant server's CA, pinned: the only trust root
    log_origin      TEXT NOT NULL,     -- the first line of every checkpoint of this tenant's log
    log_vkey        TEXT NOT NULL,     -- C2SP verifier key of the log's checkpoints
    linked_at_ms    INTEGER NOT NULL
) STRICT;

CREATE TABLE sync_state (
    id                  INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    -- The highest audit sequence number the server acknowledged holding.
    server_seq          INTEGER NOT NULL DEFAULT 0 CHECK (server_seq >= 0),
    -- The newest checkpoint this terminal verified (signature, and consistency with the one
    -- before it): every later checkpoint must extend it.
    checkpoint_size     INTEGER NOT NULL DEFAULT 0 CHECK (checkpoint_size >= 0),
    checkpoint_root     BLOB CHECK (checkpoint_root IS NULL OR length(checkpoint_root) = 32),
    checkpoint_note     TEXT,
    -- The newest record of this terminal proven included in a verified checkpoint. Records
    -- are hash-chained, so its inclusion fixes every record before it too.
    included_seq        INTEGER NOT NULL DEFAULT 0 CHECK (included_seq >= 0),
    last_attempt_ms     INTEGER,
    last_success_ms     INTEGER,
    -- What went wrong at the last attempt, as shown to the shop (never a secret).
    last_error          TEXT,
    -- 'active', or what the server said about this terminal: 'revoked', 'quarantined'.
    standing            TEXT NOT NULL DEFAULT 'active'
                        CHECK (standing IN ('active', 'revoked', 'quarantined'))
) STRICT;
INSERT INTO sync_state (id) VALUES (1);

-- Something the owner must see: the server showed a checkpoint that is not signed by the
-- pinned key, or a log that does not extend what it showed before (rewritten or forked), or
-- left out one of this terminal's records. Kept with its evidence; never deleted.
CREATE TABLE sync_alarm (
    id                  INTEGER PRIMARY KEY NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN
                            ('bad_checkpoint', 'log_rewritten', 'record_missing')),
    detail              TEXT NOT NULL,
    evidence            TEXT NOT NULL,
    raised_at_ms        INTEGER NOT NULL
) STRICT;
CREATE TRIGGER sync_alarm_no_update BEFORE UPDATE ON sync_alarm
BEGIN SELECT RAISE(ABORT, 'sync alarms are kept as raised'); END;
CREATE TRIGGER sync_alarm_no_delete BEFORE DELETE ON sync_alarm
BEGIN SELECT RAISE(ABORT, 'sync alarms are kept as raised'); END;
