-- Owners, seats, tenant keys, enrollment, device authentication state, audit ingestion state
-- and the per-tenant Merkle log. Every tenant table follows V1's rules: tenant_id leads every
-- key, ENABLE + FORCE row-level security with the fail-closed policy, and galla_app gets only
-- the grants it uses. Times the server compares in code are integer milliseconds from its
-- injectable clock, so tests can move time.

-- The shop's owner: one per tenant, signs in with a passphrase (argon2id) and TOTP (secret
-- wrapped by the server's KMS). totp_last_step refuses a code used once already.
CREATE TABLE owner_account (
    tenant_id           uuid PRIMARY KEY REFERENCES tenant (tenant_id),
    seat_id             uuid NOT NULL,
    passphrase_hash     text NOT NULL,
    totp_secret_wrapped bytea NOT NULL,
    totp_last_step      bigint NOT NULL DEFAULT 0,
    failed_attempts     integer NOT NULL DEFAULT 0,
    locked_until_ms     bigint NOT NULL DEFAULT 0
);

CREATE TABLE owner_session (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    token_hash      bytea NOT NULL CHECK (length(token_hash) = 32),
    expires_at_ms   bigint NOT NULL,
    PRIMARY KEY (tenant_id, token_hash)
);

-- The roster a new terminal receives. Server-authoritative; seat credentials sync with issue 7.
CREATE TABLE seat (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    seat_id         uuid NOT NULL,
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 80),
    roles           text[] NOT NULL,
    revoked         boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, seat_id)
);

-- The tenant's data keys (versioned) and blind-index key, each wrapped by the KMS with the
-- tenant, purpose and version as associated data.
CREATE TABLE tenant_key (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    purpose         text NOT NULL CHECK (purpose IN ('data', 'blind_index')),
    version         integer NOT NULL CHECK (version >= 1),
    wrapped         bytea NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);

CREATE TABLE enrollment_code (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    code_hash       bytea NOT NULL CHECK (length(code_hash) = 32),
    series_code     text NOT NULL CHECK (series_code ~ '^[A-Z][A-Z0-9]{0,3}$'),
    expires_at_ms   bigint NOT NULL,
    redeemed_by     uuid,
    PRIMARY KEY (tenant_id, code_hash)
);

-- The one table not keyed by tenant: a terminal redeeming a code does not yet know its tenant.
-- It maps the keyed hash of a live code to its tenant and holds nothing else; everything about
-- the code is in enrollment_code, under the tenant's policy. Anyone may look a hash up (that is
-- its job); only the code's own tenant may add or remove its rows. Rows go when redeemed.
CREATE TABLE enrollment_route (
    code_hash       bytea PRIMARY KEY CHECK (length(code_hash) = 32),
    tenant_id       uuid NOT NULL,
    expires_at_ms   bigint NOT NULL
);
ALTER TABLE enrollment_route ENABLE ROW LEVEL SECURITY;
ALTER TABLE enrollment_route FORCE ROW LEVEL SECURITY;
CREATE POLICY route_lookup ON enrollment_route FOR SELECT USING (true);
CREATE POLICY route_insert ON enrollment_route FOR INSERT
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
CREATE POLICY route_delete ON enrollment_route FOR DELETE
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE device
    ADD COLUMN wipe_requested_at_ms bigint,
    ADD COLUMN wipe_told_at_ms      bigint,
    ADD COLUMN quarantined_at_ms    bigint,
    ADD COLUMN audit_seq            bigint NOT NULL DEFAULT 0 CHECK (audit_seq >= 0),
    ADD COLUMN audit_head           bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000'
                                        CHECK (length(audit_head) = 32);

-- Nonces of signed requests seen within the clock window: a second use is a replay.
CREATE TABLE request_nonce (
    tenant_id       uuid NOT NULL,
    device_id       uuid NOT NULL,
    nonce           bytea NOT NULL CHECK (length(nonce) = 16),
    seen_at_ms      bigint NOT NULL,
    PRIMARY KEY (tenant_id, device_id, nonce),
    FOREIGN KEY (tenant_id, device_id) REFERENCES device (tenant_id, device_id)
);
CREATE INDEX request_nonce_age ON request_nonce (tenant_id, device_id, seen_at_ms);

-- Where each accepted record sits in the tenant's log.
ALTER TABLE audit_record ADD COLUMN log_index bigint NOT NULL CHECK (log_index >= 0);
ALTER TABLE audit_record ADD CONSTRAINT audit_record_log_index UNIQUE (tenant_id, log_index);

-- The log's right edge (RFC 6962 perfect subtrees covering [0, size), largest first,
-- concatenated), so an append reads one row, not old nodes.
CREATE TABLE log_state (
    tenant_id       uuid PRIMARY KEY REFERENCES tenant (tenant_id),
    size            bigint NOT NULL CHECK (size >= 0),
    frontier        bytea NOT NULL
);

-- Every complete perfect subtree: level 0 are the leaves; (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Proofs and old roots are assembled from these.
CREATE TABLE log_node (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    level           smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx             bigint NOT NULL CHECK (idx >= 0),
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant_id, level, idx)
);

-- Every checkpoint the server signed: a C2SP signed note.
CREATE TABLE log_checkpoint (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    size            bigint NOT NULL CHECK (size >= 0),
    root            bytea NOT NULL CHECK (length(root) = 32),
    note            text NOT NULL,
    signed_at_ms    bigint NOT NULL,
    PRIMARY KEY (tenant_id, size)
);

CREATE TABLE owner_alert (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    alert_id        uuid NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('equivocation')),
    device_id       uuid,
    detail          text NOT NULL,
    -- For an equivocation: the second record and its signature, the proof the device signed two.
    evidence        bytea,
    evidence_sig    bytea,
    raised_at_ms    bigint NOT NULL,
    PRIMARY KEY (tenant_id, alert_id)
);

CREATE TRIGGER log_node_no_update BEFORE UPDATE OR DELETE ON log_node
    FOR EACH ROW EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER log_node_no_truncate BEFORE TRUNCATE ON log_node
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER log_checkpoint_no_update BEFORE UPDATE OR DELETE ON log_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER log_checkpoint_no_truncate BEFORE TRUNCATE ON log_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER owner_alert_no_update BEFORE UPDATE OR DELETE ON owner_alert
    FOR EACH ROW EXECUTE FUNCTION audit_record_is_append_only();

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['owner_account', 'owner_session', 'seat', 'tenant_key',
                             'enrollment_code', 'request_nonce', 'log_state', 'log_node',
                             'log_checkpoint', 'owner_alert']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I
            USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
            WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
    END LOOP;
END;
$$;

GRANT SELECT, INSERT, UPDATE (totp_last_step, failed_attempts, locked_until_ms)
    ON owner_account TO galla_app;
GRANT SELECT, INSERT, DELETE ON owner_session TO galla_app;
GRANT SELECT, INSERT ON seat TO galla_app;
GRANT SELECT, INSERT ON tenant_key TO galla_app;
GRANT SELECT, INSERT, UPDATE (redeemed_by) ON enrollment_code TO galla_app;
GRANT SELECT, INSERT, DELETE ON enrollment_route TO galla_app;
GRANT UPDATE (wipe_requested_at_ms, wipe_told_at_ms, quarantined_at_ms, audit_seq, audit_head)
    ON device TO galla_app;
GRANT SELECT, INSERT, DELETE ON request_nonce TO galla_app;
GRANT SELECT, INSERT, UPDATE (size, frontier) ON log_state TO galla_app;
GRANT SELECT, INSERT ON log_node TO galla_app;
GRANT SELECT, INSERT ON log_checkpoint TO galla_app;
GRANT SELECT, INSERT ON owner_alert TO galla_app;
