//! The cloud tenant: the server every terminal of a shop syncs with.
//!
//! - `db`: tenant isolation in PostgreSQL (fail-closed row-level security, a role that owns
//!   nothing, one transaction per tenant-scoped unit of work); `pg_cluster` starts the private
//!   cluster `galla-cloud dev` and the tests use.
//! - `api`: the HTTP API (sign-up, owner sign-in, enrollment, device-signed sync requests,
//!   audit ingestion, the log's proofs); `server`: the router and the limits every route gets,
//!   served over TLS 1.3 only (`tls`).
//! - `shared`: the shop's shared state (invoices, ledger, customers, seats) derived from the
//!   pushed audit records, and the change feed terminals pull it from.
//! - `tlog`: the per-tenant RFC 6962 Merkle log of audit records, with signed checkpoints.
//! - `kms`: tenant keys wrapped by a master key the database never sees.
//! - `config`, `clock`, `rate_limit`: settings, injectable time, token buckets.

pub mod api;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod kms;
pub mod pg_cluster;
mod random;
pub mod rate_limit;
pub mod server;
pub mod shared;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod tlog;
pub mod tls;

pub use db::Db;
pub use error::{Error, Result};
pub use pg_cluster::PgCluster;
