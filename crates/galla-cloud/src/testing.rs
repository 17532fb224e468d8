//! A whole cloud for tests in other crates (feature `test-support`): a private PostgreSQL
//! cluster, migrated, and the real server over TLS 1.3 on a free loopback port with a
//! development CA and a manual clock. The cross-crate sync tests run terminals against it; it
//! can be stopped and started again on the same database and port, as a crash or a deploy
//! would, so the chaos test can restart it mid-run.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock as _, ManualClock};
use crate::db::{self, APP_ROLE, DATABASE, OWNER_ROLE};
use crate::pg_cluster::SUPERUSER;
use crate::rate_limit::{RateLimitConfig, RateLimits};
use crate::server::{self, AppState};
use crate::tls::DevCa;
use crate::{Db, PgCluster};

/// A free TCP port on loopback (racy by nature; the tests bind it at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running test cloud. Dropping it stops the server and the cluster.
pub struct TestCloud {
    pub cluster: PgCluster,
    pub db: Db,
    pub clock: ManualClock,
    pub addr: SocketAddr,
    /// The development CA's certificate (PEM): what a terminal pins.
    pub ca_pem: String,
    pub dir: PathBuf,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    handle: Option<axum_server::Handle<SocketAddr>>,
}

/// A private cluster under `root` with the roles made and the schema migrated, and a pool of
/// `pool_size` logged in as the server's role.
pub async fn migrated_cluster(root: &Path, pool_size: usize) -> (PgCluster, Db) {
    let root = root.to_owned();
    let cluster = tokio::task::spawn_blocking(move || PgCluster::start(&root, free_port()))
        .await
        .expect("the cluster task")
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

impl TestCloud {
    /// Starts a cloud in `dir` (which must outlive it) with the clock at `now_ms`. Call from
    /// inside a multi-threaded tokio runtime.
    pub async fn start(dir: &Path, now_ms: i64) -> TestCloud {
        let (cluster, db) = migrated_cluster(&dir.join("pg"), 16).await;
        let clock = ManualClock::new(now_ms);
        let (kms, log_key) = (dir.join("keys/kms.key"), dir.join("keys/log.key"));
        crate::config::init_keys(&kms, &log_key).expect("keys");
        let state = Arc::new(AppState {
            db: db.clone(),
            clock: Arc::new(clock.clone()),
            kms: Arc::new(crate::kms::FileKms::open(&kms).expect("kms")),
            log: crate::tlog::LogSigner::new(
                "galla-cloud.test",
                crate::config::load_signing_key(&log_key).expect("log key"),
            )
            .expect("log signer"),
            limits: RateLimits::new(&RateLimitConfig {
                per_address_per_second: 100_000,
                per_address_burst: 100_000,
                per_device_per_second: 100_000,
                per_device_burst: 100_000,
                sensitive_per_minute: 100_000,
            }),
            request_timeout: Duration::from_secs(30),
        });
        let ca = DevCa::ensure(&dir.join("tls")).expect("dev CA");
        let ca_pem = std::fs::read_to_string(&ca.ca_cert).expect("the CA file");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let mut cloud = TestCloud {
            cluster,
            db,
            clock,
            addr,
            ca_pem,
            dir: dir.to_owned(),
            tls: ca.server_config().expect("TLS config"),
            state,
            handle: None,
        };
        cloud.serve().await;
        cloud
    }

    async fn serve(&mut self) {
        let handle = axum_server::Handle::new();
        tokio::spawn(server::serve(
            self.addr,
            self.tls.clone(),
            self.state.clone(),
            handle.clone(),
        ));
        handle.listening().await.expect("the server listens");
        self.handle = Some(handle);
    }

    /// Raises an owner alert for `tenant` as a push would (the alert and its row in the change
    /// feed, in one transaction), so a test can show one without staging the conflict.
    pub async fn raise_alert(
        &self,
        tenant: uuid::Uuid,
        device: uuid::Uuid,
        kind: &str,
        detail: &str,
    ) -> uuid::Uuid {
        let now = self.clock.now_ms();
        self.db
            .tenant_tx(tenant, async |tx| -> crate::api::ApiResult<uuid::Uuid> {
                crate::shared::raise_alert(tx, tenant, kind, Some(device), detail, None, now).await
            })
            .await
            .expect("the alert raised")
    }

    /// `https://localhost:PORT`: what a terminal is given.
    pub fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// Stops the server at once (open connections are cut, as in a crash) and leaves the
    /// database as it is.
    pub async fn stop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown();
            // Wait until the port is free again.
            for _ in 0..200 {
                if TcpListener::bind(self.addr).is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// Starts the server again on the same port and database.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.serve().await;
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Plays a compromised server: restarts it signing checkpoints with `key`, a key no
    /// terminal pinned.
    pub async fn restart_with_log_key(&mut self, key: ed25519_dalek::SigningKey) {
        self.stop().await;
        let old = &self.state;
        self.state = Arc::new(AppState {
            db: old.db.clone(),
            clock: old.clock.clone(),
            kms: old.kms.clone(),
            log: crate::tlog::LogSigner::new("galla-cloud.test", key).expect("log signer"),
            limits: RateLimits::new(&RateLimitConfig {
                per_address_per_second: 100_000,
                per_address_burst: 100_000,
                per_device_per_second: 100_000,
                per_device_burst: 100_000,
                sensitive_per_minute: 100_000,
            }),
            request_timeout: old.request_timeout,
        });
        self.serve().await;
    }

    /// Plays an operator with database superuser rights rewriting history: rebuilds `tenant`'s
    /// Merkle log with leaf `index` replaced by `forged` (and the audit record under it too),
    /// then signs a checkpoint of the rewritten log with the server's real key. Every check a
    /// server could make of itself passes afterwards; only a terminal that kept an earlier
    /// checkpoint can tell.
    pub async fn rewrite_log(&self, tenant: uuid::Uuid, index: u64, forged: &[u8]) {
        let (mut client, conn) = tokio_postgres::connect(
            &self.cluster.connection_string(SUPERUSER, DATABASE),
            tokio_postgres::NoTls,
        )
        .await
        .expect("a superuser connection");
        tokio::spawn(conn);
        let tx = client.transaction().await.expect("a transaction");
        // Triggers (the append-only guards) do not fire for a replica session.
        tx.batch_execute("SET LOCAL session_replication_role = replica")
            .await
            .unwrap();
        let rows = tx
            .query(
                "SELECT log_index, record FROM audit_record WHERE tenant_id = $1 ORDER BY log_index",
                &[&tenant],
            )
            .await
            .unwrap();
        let mut leaves: Vec<Vec<u8>> = rows.iter().map(|r| r.get::<_, Vec<u8>>(1)).collect();
        leaves[index as usize] = forged.to_vec();
        tx.execute(
            "UPDATE audit_record SET record = $3 WHERE tenant_id = $1 AND log_index = $2",
            &[&tenant, &(index as i64), &forged],
        )
        .await
        .unwrap();
        for table in ["log_node", "log_checkpoint"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE tenant_id = $1"),
                &[&tenant],
            )
            .await
            .unwrap();
        }
        tx.execute(
            "UPDATE log_state SET size = 0, frontier = '' WHERE tenant_id = $1",
            &[&tenant],
        )
        .await
        .unwrap();
        let mut frontier = galla_proto::merkle::Frontier::new();
        let refs: Vec<&[u8]> = leaves.iter().map(Vec::as_slice).collect();
        let (_, nodes) = crate::tlog::append(&mut frontier, &refs).unwrap();
        crate::tlog::commit(
            &tx,
            tenant,
            &frontier,
            &nodes,
            &self.state.log,
            self.clock.now_ms(),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown();
        }
    }
}
