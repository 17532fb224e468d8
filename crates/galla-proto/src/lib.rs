//! What a terminal and the cloud must agree on byte for byte.
//!
//! The audit record lives here (not in the client) because the cloud re-verifies every record a
//! terminal pushes: both sides must encode, hash and check signatures with the same code.
//! The transparency log's Merkle tree and signed checkpoints are here for the same reason: the
//! cloud builds them and the terminal verifies them. So are the signed-request scheme and the
//! API's JSON types, which the two ends must spell the same way.

pub mod api;
pub mod audit;
pub mod checkpoint;
pub mod hlc;
pub mod merkle;
pub mod request_auth;

pub use audit::{
    AUDIT_FORMAT_VERSION, AuditRecord, ChainBreak, ChainVerifier, DecodeError, GENESIS_HASH,
    SignedAuditRecord,
};
pub use checkpoint::{Checkpoint, CheckpointError, NoteSigner, NoteVerifier};
pub use merkle::{Frontier, MemoryTree, ProofError, ProofPlan};
