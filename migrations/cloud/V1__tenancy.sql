-- The tenancy core. Every tenant table has tenant_id leading its primary key, its unique keys
-- and its foreign keys, and row-level security that fails closed: with app.tenant_id unset or
-- empty the policy compares with NULL and no row is visible or writable. FORCE applies it to the
-- table's owner too. The server's role (galla_app) owns nothing and is granted only what it uses.

CREATE TABLE tenant (
    tenant_id       uuid PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    device_id       uuid NOT NULL,
    public_key      bytea NOT NULL CHECK (length(public_key) = 32),
    series_code     text NOT NULL CHECK (series_code ~ '^[A-Z][A-Z0-9]{0,3}$'),
    enrolled_at     timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    PRIMARY KEY (tenant_id, device_id),
    UNIQUE (tenant_id, series_code),
    UNIQUE (tenant_id, public_key)
);

-- Each device's signed audit chain, as pushed: append-only (no UPDATE or DELETE grant, and a
-- trigger that refuses both even to the owner).
CREATE TABLE audit_record (
    tenant_id       uuid NOT NULL,
    device_id       uuid NOT NULL,
    seq             bigint NOT NULL CHECK (seq >= 1),
    record          bytea NOT NULL,
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    signature       bytea NOT NULL CHECK (length(signature) = 64),
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, device_id, seq),
    FOREIGN KEY (tenant_id, device_id) REFERENCES device (tenant_id, device_id)
);

CREATE FUNCTION audit_record_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: they cannot be changed or deleted';
END;
$$;
CREATE TRIGGER audit_record_no_update BEFORE UPDATE OR DELETE ON audit_record
    FOR EACH ROW EXECUTE FUNCTION audit_record_is_append_only();
CREATE TRIGGER audit_record_no_truncate BEFORE TRUNCATE ON audit_record
    FOR EACH STATEMENT EXECUTE FUNCTION audit_record_is_append_only();

ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE device ENABLE ROW LEVEL SECURITY;
ALTER TABLE device FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON device
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

ALTER TABLE audit_record ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_record FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_record
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);

GRANT SELECT, INSERT ON tenant TO galla_app;
GRANT SELECT, INSERT, UPDATE (revoked_at) ON device TO galla_app;
GRANT SELECT, INSERT ON audit_record TO galla_app;
