//! What a terminal and the cloud must agree on byte for byte.
//!
//! The audit record lives here (not in the client) because the cloud re-verifies every record a
//! terminal pushes: both sides must encode, hash and check signatures with the same code.
//! The transparency log's Merkle tree and signed checkpoints are here for the same reason: the
//! cloud builds them and the terminal verifies them. So are the signed-request scheme and the
//! API's JSON types, which the two ends must spell the same way, and the registry of tables
//! (`tables`) that says how each is shared.

pub mod api;
pub mod audit;
pub mod checkpoint;
pub mod hlc;
pub mod merkle;
pub mod request_auth;
pub mod tables;

pub use audit::{
    AUDIT_FORMAT_VERSION, AuditRecord, ChainBreak, ChainVerifier, DecodeError, GENESIS_HASH,
    SignedAuditRecord,
};
pub use checkpoint::{Checkpoint, CheckpointError, NoteSigner, NoteVerifier};

/// A certificate's SHA-256 fingerprint as people compare them (and as `openssl x509
/// -fingerprint -sha256` prints it): upper-case hex pairs joined by colons. The cloud shows its
/// CA's; a terminal shows the one it is about to pin, so the owner can read one against the
/// other before trusting a file or a paste.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(der);
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
pub use merkle::{Frontier, MemoryTree, ProofError, ProofPlan};

#[cfg(test)]
mod tests {
    #[test]
    fn a_fingerprint_is_the_sha256_in_colon_separated_pairs() {
        // SHA-256("abc"), FIPS 180-2's example.
        assert_eq!(
            super::certificate_fingerprint(b"abc"),
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:\
             B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        );
    }
}
