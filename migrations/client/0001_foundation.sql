-- Galla terminal schema, version 1: the shop, this terminal, seats, tenant data keys,
-- customers (PII column-encrypted), and the append-only audit log with its outbox.
-- Ids are UUIDv7 text; times are Unix milliseconds (UTC); money is integer paise.

CREATE TABLE tenant (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    gstin_ct        BLOB,              -- PII: column ciphertext (see docs/security.md)
    state_code      INTEGER,
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE device (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    name            TEXT NOT NULL,
    series_code     TEXT NOT NULL,
    public_key      BLOB NOT NULL,     -- Ed25519; the trusted copy is derived from the keychain
    created_at_ms   INTEGER NOT NULL
) STRICT;

CREATE TABLE seat (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    display_name    TEXT NOT NULL,
    roles           TEXT NOT NULL,     -- JSON array of role names
    secret_hash     TEXT NOT NULL,     -- Argon2id PHC string
    created_at_ms   INTEGER NOT NULL,
    revoked_at_ms   INTEGER
) STRICT;

-- Per-tenant keys, wrapped (AES-256-GCM) by the terminal's wrap key from the OS keychain.
CREATE TABLE tenant_key (
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    purpose         TEXT NOT NULL CHECK (purpose IN ('pii', 'blind-index')),
    version         INTEGER NOT NULL CHECK (version >= 1),
    wrapped         BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
) STRICT;

CREATE TABLE customer (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenant(id),
    name                TEXT NOT NULL,
    phone_ct            BLOB,
    phone_bidx          BLOB,
    gstin_ct            BLOB,
    gstin_bidx          BLOB,
    email_ct            BLOB,
    address_ct          BLOB,
    state_code          INTEGER,
    marketing_consent   INTEGER NOT NULL DEFAULT 0 CHECK (marketing_consent IN (0, 1)),
    created_at_ms       INTEGER NOT NULL,
    updated_at_ms       INTEGER NOT NULL
) STRICT;
CREATE INDEX customer_phone_bidx ON customer(tenant_id, phone_bidx) WHERE phone_bidx IS NOT NULL;
CREATE INDEX customer_gstin_bidx ON customer(tenant_id, gstin_bidx) WHERE gstin_bidx IS NOT NULL;
CREATE INDEX customer_name ON customer(tenant_id, name COLLATE NOCASE);

-- One row per mutation, written in the same transaction as the change (galla-proto::audit).
-- The columns beside `record` are copies for filtering; the verifier checks they match it.
CREATE TABLE audit_log (
    seq             INTEGER PRIMARY KEY NOT NULL CHECK (seq >= 1),
    tenant_id       TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    time_ms         INTEGER NOT NULL,
    seat_id         TEXT,
    role            TEXT NOT NULL,
    action          TEXT NOT NULL,
    entity_type     TEXT NOT NULL,
    entity_id       TEXT NOT NULL,
    record          BLOB NOT NULL,     -- canonical encoding
    hash            BLOB NOT NULL,     -- SHA-256(record)
    signature       BLOB NOT NULL      -- Ed25519 by the device key
) STRICT;
CREATE INDEX audit_log_entity ON audit_log(entity_type, entity_id);
CREATE INDEX audit_log_time ON audit_log(time_ms);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be changed'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: records cannot be deleted'); END;

-- What sync will push; one entry per audit record, same sequence number.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY NOT NULL REFERENCES audit_log(seq),
    created_at_ms   INTEGER NOT NULL,
    payload         BLOB NOT NULL,     -- JSON: action, entity, after images
    sent_at_ms      INTEGER
) STRICT;

CREATE TRIGGER outbox_payload_fixed BEFORE UPDATE OF seq, payload, created_at_ms ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox entries cannot be rewritten'); END;
CREATE TRIGGER outbox_keep_unsent BEFORE DELETE ON outbox WHEN OLD.sent_at_ms IS NULL
BEGIN SELECT RAISE(ABORT, 'an unsent outbox entry cannot be deleted'); END;
