//! What every cloud test starts from: a free port, and a private PostgreSQL with the roles
//! made and the schema migrated, with a pool logged in as the server's role.

#![allow(dead_code)] // each test file uses its own part

use std::net::TcpListener;
use std::path::Path;

use galla_cloud::db::{self, APP_ROLE, DATABASE, OWNER_ROLE};
use galla_cloud::pg_cluster::SUPERUSER;
use galla_cloud::{Db, PgCluster};

/// Every table with tenant rows; `every_table_but_the_route_is_a_tenant_table` keeps it whole.
pub const TENANT_TABLES: [&str; 14] = [
    "tenant",
    "device",
    "audit_record",
    "owner_account",
    "owner_session",
    "seat",
    "tenant_key",
    "enrollment_code",
    "request_nonce",
    "log_state",
    "log_node",
    "log_checkpoint",
    "owner_alert",
    "owner_sign_in_source",
];

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A migrated private cluster under `root`, and a pool of `pool_size` as `galla_app`.
pub async fn migrated_cluster(root: &Path, pool_size: usize) -> (PgCluster, Db) {
    let root = root.to_owned();
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&root, free_port()))
        .await
        .unwrap()
        .expect("the private cluster starts");
    db::bootstrap(&cluster.connection_string(SUPERUSER, "postgres"))
        .await
        .expect("roles and database");
    db::migrate(&cluster.connection_string(OWNER_ROLE, DATABASE))
        .await
        .expect("migrations");
    let db = Db::connect(&cluster.connection_string(APP_ROLE, DATABASE), pool_size).expect("pool");
    (cluster, db)
}

/// The app state a test server runs with: a manual clock, a file KMS and a log key in `dir`.
pub fn app_state(
    dir: &Path,
    db: Db,
    clock: galla_cloud::clock::ManualClock,
    limits: &galla_cloud::rate_limit::RateLimitConfig,
) -> std::sync::Arc<galla_cloud::server::AppState> {
    let (kms, log_key) = (dir.join("keys/kms.key"), dir.join("keys/log.key"));
    galla_cloud::config::init_keys(&kms, &log_key).expect("keys");
    std::sync::Arc::new(galla_cloud::server::AppState {
        db,
        clock: std::sync::Arc::new(clock),
        kms: std::sync::Arc::new(galla_cloud::kms::FileKms::open(&kms).expect("kms")),
        log: galla_cloud::tlog::LogSigner::new(
            "galla-cloud.test",
            galla_cloud::config::load_signing_key(&log_key).expect("log key"),
        )
        .expect("log signer"),
        limits: galla_cloud::rate_limit::RateLimits::new(limits),
        request_timeout: std::time::Duration::from_secs(2),
    })
}
