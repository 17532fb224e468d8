//! Tenant isolation on a real PostgreSQL: a throwaway cluster per test, the schema migrated as
//! the owner, and every query made as the server's role. Fail-closed (no tenant set, or an
//! empty one, shows and accepts nothing), cross-tenant (a tenant's transaction neither sees nor
//! changes another's rows, and a unique collision across tenants reveals nothing), concurrency
//! over one pool, the roles' powers, and the audit table's append-only rule.

mod common;

use galla_cloud::db::{APP_ROLE, DATABASE, OWNER_ROLE};
use galla_cloud::{Db, PgCluster};
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

const TABLES: [&str; 3] = ["tenant", "device", "audit_record"];

struct Cloud {
    cluster: PgCluster,
    db: Db,
    _dir: tempfile::TempDir,
}

async fn cloud() -> Cloud {
    let dir = tempfile::tempdir().expect("a temp folder");
    let (cluster, db) = common::migrated_cluster(dir.path(), 8).await;
    Cloud {
        cluster,
        db,
        _dir: dir,
    }
}

impl Cloud {
    /// A plain connection as `role`, outside the pool and with no tenant set.
    async fn client(&self, role: &str) -> Client {
        let (client, conn) =
            tokio_postgres::connect(&self.cluster.connection_string(role, DATABASE), NoTls)
                .await
                .expect("connect");
        tokio::spawn(conn);
        client
    }

    /// A tenant with one device (series T1) and two audit records.
    async fn tenant(&self, name: &str) -> (Uuid, Uuid) {
        let (tenant, device) = (Uuid::now_v7(), Uuid::now_v7());
        let name = name.to_owned();
        self.db
            .in_tenant(tenant, async |tx| {
                tx.execute(
                    "INSERT INTO tenant (tenant_id, name) VALUES ($1, $2)",
                    &[&tenant, &name],
                )
                .await?;
                tx.execute(
                    "INSERT INTO device (tenant_id, device_id, public_key, series_code)
                     VALUES ($1, $2, $3, 'T1')",
                    &[&tenant, &device, &device.as_bytes().repeat(2)],
                )
                .await?;
                for seq in 1i64..=2 {
                    tx.execute(
                        "INSERT INTO audit_record (tenant_id, device_id, seq, record, hash, signature, log_index)
                         VALUES ($1, $2, $3, 'r', $4, $5, $3::bigint - 1)",
                        &[&tenant, &device, &seq, &vec![7u8; 32], &vec![9u8; 64]],
                    )
                    .await?;
                }
                Ok(())
            })
            .await
            .expect("tenant created");
        (tenant, device)
    }
}

async fn count(c: &impl tokio_postgres::GenericClient, table: &str) -> i64 {
    c.query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn with_no_tenant_set_or_an_empty_one_every_table_is_empty_and_refuses_inserts() {
    let cloud = cloud().await;
    cloud.tenant("Sharma Mobiles").await;
    let app = cloud.client(APP_ROLE).await;
    for setting in [None, Some("")] {
        if let Some(value) = setting {
            // Session-level here only to prove the policy: the server never does this.
            app.execute("SELECT set_config('app.tenant_id', $1, false)", &[&value])
                .await
                .unwrap();
        }
        for table in TABLES {
            assert_eq!(count(&app, table).await, 0, "{table} with {setting:?}");
        }
        let e = app
            .execute(
                "INSERT INTO tenant (tenant_id, name) VALUES ($1, 'Intruder')",
                &[&Uuid::now_v7()],
            )
            .await
            .unwrap_err();
        assert!(
            format!("{e:?}").contains("row-level security"),
            "{setting:?}: {e:?}"
        );
    }
    // The owner, too, sees nothing without a tenant: FORCE ROW LEVEL SECURITY.
    let owner = cloud.client(OWNER_ROLE).await;
    for table in TABLES {
        assert_eq!(count(&owner, table).await, 0, "owner, {table}");
    }
}

#[tokio::test]
async fn a_tenants_transaction_neither_sees_nor_changes_another_tenants_rows() {
    let cloud = cloud().await;
    let (a, _) = cloud.tenant("A").await;
    let (b, b_device) = cloud.tenant("B").await;
    let (seen, revoked, inserted) = cloud
        .db
        .in_tenant(a, async |tx| {
            let seen: Vec<Uuid> = tx
                .query("SELECT tenant_id FROM device", &[])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let revoked = tx
                .execute(
                    "UPDATE device SET revoked_at = now() WHERE tenant_id = $1 AND device_id = $2",
                    &[&b, &b_device],
                )
                .await?;
            let inserted = tx
                .execute(
                    "INSERT INTO audit_record (tenant_id, device_id, seq, record, hash, signature, log_index)
                     VALUES ($1, $2, 3, 'forged', $3, $4, 2)",
                    &[&b, &b_device, &vec![0u8; 32], &vec![0u8; 64]],
                )
                .await;
            Ok((seen, revoked, inserted.map_err(|e| format!("{e:?}"))))
        })
        .await
        .unwrap();
    assert_eq!(seen, vec![a], "only its own device");
    assert_eq!(revoked, 0, "B's device is not A's to revoke");
    assert!(
        inserted.unwrap_err().contains("row-level security"),
        "A cannot write into B's chain"
    );
    let b_revoked: Option<std::time::SystemTime> = cloud
        .db
        .in_tenant(b, async |tx| {
            Ok(tx
                .query_one("SELECT revoked_at FROM device", &[])
                .await?
                .get(0))
        })
        .await
        .unwrap();
    assert!(b_revoked.is_none());
    let b_records = cloud
        .db
        .in_tenant(b, async |tx| Ok(count(tx, "audit_record").await))
        .await
        .unwrap();
    assert_eq!(b_records, 2);
}

#[tokio::test]
async fn the_same_series_in_two_tenants_is_no_collision_and_a_collision_names_no_other_tenant() {
    let cloud = cloud().await;
    // Both tenants' devices use series T1: unique per tenant, so no clash and nothing revealed.
    let (a, _) = cloud.tenant("A").await;
    let (b, _) = cloud.tenant("B").await;
    // Within A a second T1 collides; the error names the rule, not any row.
    let e = cloud
        .db
        .in_tenant(a, async |tx| {
            tx.execute(
                "INSERT INTO device (tenant_id, device_id, public_key, series_code)
                 VALUES ($1, $2, $3, 'T1')",
                &[&a, &Uuid::now_v7(), &vec![1u8; 32]],
            )
            .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    let text = format!("{e:?}");
    assert!(text.contains("device_tenant_id_series_code_key"), "{text}");
    // With row-level security on, PostgreSQL leaves the key's values out of the error.
    for tenant in [a, b] {
        assert!(
            !text.contains(&tenant.to_string()),
            "no tenant named: {text}"
        );
    }
}

#[tokio::test]
async fn many_concurrent_transactions_of_two_tenants_over_one_pool_never_see_each_other() {
    let cloud = cloud().await;
    let (a, _) = cloud.tenant("A").await;
    let (b, _) = cloud.tenant("B").await;
    let mut tasks = Vec::new();
    for i in 0..80 {
        let db = cloud.db.clone();
        let tenant = if i % 2 == 0 { a } else { b };
        tasks.push(tokio::spawn(async move {
            db.in_tenant(tenant, async |tx| {
                let tenants: Vec<Uuid> = tx
                    .query("SELECT DISTINCT tenant_id FROM audit_record", &[])
                    .await?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                Ok(tenants)
            })
            .await
            .map(|seen| (tenant, seen))
        }));
    }
    for t in tasks {
        let (tenant, seen) = t.await.unwrap().unwrap();
        assert_eq!(seen, vec![tenant]);
    }
    // After all that, a pooled connection carries no tenant into its next use.
    let leaked = cloud
        .db
        .in_tenant(Uuid::nil(), async |tx| Ok(count(tx, "tenant").await))
        .await
        .unwrap();
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn the_servers_role_owns_nothing_bypasses_nothing_and_audit_records_never_change() {
    let cloud = cloud().await;
    let (tenant, device) = cloud.tenant("A").await;
    let owner = cloud.client(OWNER_ROLE).await;
    let row = owner
        .query_one(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1",
            &[&APP_ROLE],
        )
        .await
        .unwrap();
    let powers: (bool, bool, bool, bool) = (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(powers, (false, false, false, false));
    let owned: i64 = owner
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1",
            &[&APP_ROLE],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owned, 0);
    for table in common::TENANT_TABLES {
        let forced: bool = owner
            .query_one(
                "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = $1",
                &[&table],
            )
            .await
            .unwrap()
            .get(0);
        assert!(forced, "{table}");
    }

    // The app has no UPDATE or DELETE on audit records; the owner is stopped by the trigger.
    for sql in [
        "UPDATE audit_record SET record = 'x' WHERE device_id = $1",
        "DELETE FROM audit_record WHERE device_id = $1",
    ] {
        let e = cloud
            .db
            .in_tenant(tenant, async |tx| Ok(tx.execute(sql, &[&device]).await?))
            .await
            .unwrap_err();
        assert!(
            format!("{e:?}").contains("permission denied"),
            "{sql}: {e:?}"
        );
    }
    owner
        .execute(
            "SELECT set_config('app.tenant_id', $1, false)",
            &[&tenant.to_string()],
        )
        .await
        .unwrap();
    let e = owner
        .execute(
            "UPDATE audit_record SET record = 'x' WHERE device_id = $1",
            &[&device],
        )
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("append-only"), "{e:?}");
    let e = owner
        .batch_execute("TRUNCATE audit_record")
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("append-only"), "{e:?}");
}

/// A table added without row-level security would leak across tenants: every table in the
/// schema must be a tenant table (forced RLS, tenant_id leading its primary key), except the
/// enrollment route (forced RLS, keyed by code) and refinery's history.
#[tokio::test]
async fn every_table_but_the_route_is_a_tenant_table() {
    let cloud = cloud().await;
    let owner = cloud.client(OWNER_ROLE).await;
    let rows = owner
        .query(
            "SELECT c.relname::text, c.relrowsecurity AND c.relforcerowsecurity,
                    (SELECT a.attname::text FROM pg_index i
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                     WHERE i.indrelid = c.oid AND i.indisprimary)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = 'r'
             ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut tenant_tables = vec![];
    for row in rows {
        let (name, forced, first_key): (String, bool, Option<String>) =
            (row.get(0), row.get(1), row.get(2));
        if name == "refinery_schema_history" {
            continue;
        }
        if name == "enrollment_route" {
            // Keyed by code, not tenant, but still under forced policies.
            assert!(forced, "{name} has no forced row-level security");
            continue;
        }
        assert!(forced, "{name} has no forced row-level security");
        assert_eq!(first_key.as_deref(), Some("tenant_id"), "{name}'s key");
        tenant_tables.push(name);
    }
    let mut expected: Vec<String> = common::TENANT_TABLES
        .iter()
        .map(|t| t.to_string())
        .collect();
    expected.sort();
    assert_eq!(tenant_tables, expected);
}
