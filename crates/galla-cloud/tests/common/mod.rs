//! What every cloud test starts from: a free port, and a private PostgreSQL with the roles
//! made and the schema migrated, with a pool logged in as the server's role.

#![allow(dead_code)] // each test file uses its own part

use std::path::Path;

use galla_cloud::Db;

/// Every table with tenant rows; `every_table_but_the_route_is_a_tenant_table` keeps it whole.
pub const TENANT_TABLES: [&str; 18] = [
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
    "shared_row",
    "change_feed",
    "doc_number",
    "imei_sale",
];

// Shared with other crates' tests through `galla_cloud::testing`.
#[allow(unused_imports)]
pub use galla_cloud::testing::{free_port, migrated_cluster};

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
