//! The cloud tenant: the server every terminal of a shop syncs with. This first part is the
//! database's tenant isolation (fail-closed row-level security, a role that owns nothing, one
//! transaction per tenant-scoped unit of work) and the private PostgreSQL cluster that
//! `galla-cloud dev` and the tests start. Also the HTTP surface over TLS 1.3 only (health and
//! readiness). Enrollment, device authentication and the audit log's Merkle tree come next
//! (issue 6).

pub mod db;
pub mod error;
pub mod pg_cluster;
pub mod server;
pub mod tls;

pub use db::Db;
pub use error::{Error, Result};
pub use pg_cluster::PgCluster;
