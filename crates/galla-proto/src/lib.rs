//! What a terminal and the cloud must agree on byte for byte.
//!
//! The audit record lives here (not in the client) because the cloud re-verifies every record a
//! terminal pushes: both sides must encode, hash and check signatures with the same code.

pub mod audit;

pub use audit::{
    AUDIT_FORMAT_VERSION, AuditRecord, ChainBreak, ChainVerifier, DecodeError, GENESIS_HASH,
    SignedAuditRecord,
};
