-- Galla terminal schema, version 2: seats that sign in (PIN or passphrase, overrides, TOTP,
-- recovery codes, support windows), per-terminal sign-in guards (lockout that survives a
-- restart), security events the owner sees, the shop's session policy, a terminal that can be
-- disabled, and carts (a sale in progress) so a locked screen can hold one.

-- 'pin': at least 6 digits; 'passphrase': at least 8 characters. Both Argon2id-hashed.
ALTER TABLE seat ADD COLUMN secret_kind TEXT NOT NULL DEFAULT 'passphrase'
    CHECK (secret_kind IN ('pin', 'passphrase'));
-- JSON array of galla_domain::Override: per-seat grants and denies (deny wins).
ALTER TABLE seat ADD COLUMN overrides TEXT NOT NULL DEFAULT '[]';
-- The seat's TOTP secret (RFC 6238), column-encrypted like PII; NULL when not enrolled.
ALTER TABLE seat ADD COLUMN totp_ct BLOB;
-- "Sign out everywhere": sessions that began before this instant are dead on every terminal.
ALTER TABLE seat ADD COLUMN sessions_valid_after_ms INTEGER NOT NULL DEFAULT 0;
-- Support seats only: the end of the window the owner granted.
ALTER TABLE seat ADD COLUMN support_until_ms INTEGER;
ALTER TABLE seat ADD COLUMN updated_at_ms INTEGER NOT NULL DEFAULT 0;

-- One-time recovery codes for a seat's second factor: SHA-256 of 80-bit random codes.
CREATE TABLE seat_recovery_code (
    id              TEXT PRIMARY KEY NOT NULL,
    seat_id         TEXT NOT NULL REFERENCES seat(id),
    code_hash       BLOB NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    used_at_ms      INTEGER
) STRICT;
CREATE INDEX seat_recovery_code_seat ON seat_recovery_code(seat_id);

-- This terminal's sign-in state per seat (id = seat id): failures since the last success drive
-- the back-off, so it survives restarts; the last TOTP step accepted stops a code's replay.
CREATE TABLE seat_guard (
    id                  TEXT PRIMARY KEY NOT NULL REFERENCES seat(id),
    failures            INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    last_failure_at_ms  INTEGER,
    last_sign_in_at_ms  INTEGER,
    totp_last_step      INTEGER
) STRICT;

-- What the owner is shown: suspicious runs of failed sign-ins, recovery codes used, ...
CREATE TABLE security_event (
    id                  TEXT PRIMARY KEY NOT NULL,
    tenant_id           TEXT NOT NULL REFERENCES tenant(id),
    seat_id             TEXT REFERENCES seat(id),
    kind                TEXT NOT NULL,
    detail              TEXT NOT NULL,
    time_ms             INTEGER NOT NULL,
    acknowledged_at_ms  INTEGER
) STRICT;
CREATE INDEX security_event_open ON security_event(tenant_id, time_ms)
    WHERE acknowledged_at_ms IS NULL;

-- The shop's session policy (id = tenant id), JSON of galla_client::ShopPolicy.
CREATE TABLE shop_policy (
    id              TEXT PRIMARY KEY NOT NULL REFERENCES tenant(id),
    policy          TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL
) STRICT;

ALTER TABLE device ADD COLUMN disabled_at_ms INTEGER;

-- A sale in progress. 'open' belongs to the seat at the till; 'held' is parked for anyone
-- allowed to resume it (a locked screen holds its cart rather than lose it).
CREATE TABLE cart (
    id              TEXT PRIMARY KEY NOT NULL,
    tenant_id       TEXT NOT NULL REFERENCES tenant(id),
    opened_by       TEXT NOT NULL REFERENCES seat(id),
    status          TEXT NOT NULL CHECK (status IN ('open', 'held')),
    held_reason     TEXT,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX cart_status ON cart(tenant_id, status);

CREATE TABLE cart_line (
    id                  TEXT PRIMARY KEY NOT NULL,
    cart_id             TEXT NOT NULL REFERENCES cart(id),
    line_no             INTEGER NOT NULL CHECK (line_no >= 1),
    description         TEXT NOT NULL,
    quantity            INTEGER NOT NULL CHECK (quantity >= 1),
    unit_price_paise    INTEGER NOT NULL CHECK (unit_price_paise >= 0),
    discount_bp         INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    UNIQUE (cart_id, line_no)
) STRICT;
