-- Owner sign-in failures are counted per source (the client's address, an IPv6 /64 as one),
-- not per owner: otherwise anyone who knows a tenant id could keep its owner locked out by
-- failing five times every fifteen minutes. Each attempt is reserved (counted) before the
-- slow passphrase check and cleared when it succeeds, so parallel guesses are counted exactly
-- without holding a row lock or a pooled connection while argon2 runs.

CREATE TABLE owner_sign_in_source (
    tenant_id       uuid NOT NULL REFERENCES tenant (tenant_id),
    source          text NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
    failures        integer NOT NULL DEFAULT 0,
    locked_until_ms bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, source)
);
ALTER TABLE owner_sign_in_source ENABLE ROW LEVEL SECURITY;
ALTER TABLE owner_sign_in_source FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON owner_sign_in_source
    USING (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE (failures, locked_until_ms) ON owner_sign_in_source TO galla_app;

ALTER TABLE owner_account DROP COLUMN failed_attempts, DROP COLUMN locked_until_ms;
