//! The canonical audit record: one per mutation, hash-chained per device, Ed25519-signed.
//!
//! # Encoding (version 1)
//! All integers big-endian; every field always present, in this order; no trailing bytes. A
//! record therefore has exactly one encoding, and the decoder refuses anything else.
//!
//! | field        | bytes                                              |
//! |--------------|----------------------------------------------------|
//! | version      | u8 = 1                                             |
//! | tenant_id    | 16 (UUID)                                          |
//! | device_id    | 16 (UUID)                                          |
//! | seq          | u64, gapless per device, first record is 1         |
//! | prev_hash    | 32, SHA-256 of the previous record's encoding (zeros for seq 1) |
//! | time_ms      | i64, milliseconds since the Unix epoch, UTC        |
//! | seat_id      | u8 0 = none, or u8 1 + 16 (UUID)                   |
//! | role         | u16 length + UTF-8 (at most 256 bytes)             |
//! | action       | u16 length + UTF-8 (at most 256 bytes)             |
//! | entity_type  | u16 length + UTF-8 (at most 256 bytes)             |
//! | entity_id    | u16 length + UTF-8 (at most 256 bytes)             |
//! | before       | u8 0 = none, or u8 1 + u32 length + bytes (at most 1 MiB) |
//! | after        | as before                                          |
//!
//! `hash = SHA-256(encoding)`; `signature = Ed25519(device key, SIGNING_CONTEXT || encoding)`.
//! The context prefix keeps an audit signature from ever being valid for any other message the
//! device key signs. Test vectors: `tests/audit_vectors.rs` and `docs/architecture.md`.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const AUDIT_FORMAT_VERSION: u8 = 1;
/// `prev_hash` of the first record of a device.
pub const GENESIS_HASH: [u8; 32] = [0; 32];
/// Prefixed to the encoding before signing (domain separation).
pub const SIGNING_CONTEXT: &[u8] = b"galla.audit.v1\n";
pub const MAX_TEXT_BYTES: usize = 256;
pub const MAX_IMAGE_BYTES: usize = 1 << 20;

/// One mutation, as the device attests to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub seq: u64,
    pub prev_hash: [u8; 32],
    pub time_ms: i64,
    pub seat_id: Option<Uuid>,
    pub role: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The row before the change (canonical JSON, PII fields as their ciphertext).
    pub before: Option<Vec<u8>>,
    /// The row after the change, same form.
    pub after: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("audit record ends early (needed {needed} more bytes for {field})")]
    Truncated { field: &'static str, needed: usize },
    #[error("audit record format version {0} is not known to this build")]
    UnknownVersion(u8),
    #[error("audit record field {0} has an invalid presence tag")]
    BadTag(&'static str),
    #[error("audit record field {field} is {len} bytes; the limit is {limit}")]
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    #[error("audit record field {0} is not UTF-8")]
    NotUtf8(&'static str),
    #[error("audit record has {0} bytes after its last field")]
    TrailingBytes(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("audit field {field} is {len} bytes; the limit is {limit}")]
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },
}

impl AuditRecord {
    /// The canonical bytes (see the module documentation).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let image_len = |i: &Option<Vec<u8>>| i.as_ref().map_or(0, Vec::len);
        let mut out = Vec::with_capacity(
            160 + self.role.len()
                + self.action.len()
                + self.entity_type.len()
                + self.entity_id.len()
                + image_len(&self.before)
                + image_len(&self.after),
        );
        out.push(AUDIT_FORMAT_VERSION);
        out.extend_from_slice(self.tenant_id.as_bytes());
        out.extend_from_slice(self.device_id.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.prev_hash);
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        match self.seat_id {
            None => out.push(0),
            Some(id) => {
                out.push(1);
                out.extend_from_slice(id.as_bytes());
            }
        }
        for (field, text) in [
            ("role", &self.role),
            ("action", &self.action),
            ("entity_type", &self.entity_type),
            ("entity_id", &self.entity_id),
        ] {
            if text.len() > MAX_TEXT_BYTES {
                return Err(EncodeError::TooLong {
                    field,
                    len: text.len(),
                    limit: MAX_TEXT_BYTES,
                });
            }
            out.extend_from_slice(&(text.len() as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        for (field, image) in [("before", &self.before), ("after", &self.after)] {
            match image {
                None => out.push(0),
                Some(bytes) => {
                    if bytes.len() > MAX_IMAGE_BYTES {
                        return Err(EncodeError::TooLong {
                            field,
                            len: bytes.len(),
                            limit: MAX_IMAGE_BYTES,
                        });
                    }
                    out.push(1);
                    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                    out.extend_from_slice(bytes);
                }
            }
        }
        Ok(out)
    }

    /// Parses canonical bytes; anything that is not exactly one well-formed record is refused.
    pub fn decode(bytes: &[u8]) -> Result<AuditRecord, DecodeError> {
        let mut r = Reader { bytes, pos: 0 };
        let version = r.take::<1>("version")?[0];
        if version != AUDIT_FORMAT_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let tenant_id = Uuid::from_bytes(r.take("tenant_id")?);
        let device_id = Uuid::from_bytes(r.take("device_id")?);
        let seq = u64::from_be_bytes(r.take("seq")?);
        let prev_hash = r.take("prev_hash")?;
        let time_ms = i64::from_be_bytes(r.take("time_ms")?);
        let seat_id = match r.take::<1>("seat_id")?[0] {
            0 => None,
            1 => Some(Uuid::from_bytes(r.take("seat_id")?)),
            _ => return Err(DecodeError::BadTag("seat_id")),
        };
        let role = r.text("role")?;
        let action = r.text("action")?;
        let entity_type = r.text("entity_type")?;
        let entity_id = r.text("entity_id")?;
        let before = r.image("before")?;
        let after = r.image("after")?;
        let rest = bytes.len() - r.pos;
        if rest != 0 {
            return Err(DecodeError::TrailingBytes(rest));
        }
        Ok(AuditRecord {
            tenant_id,
            device_id,
            seq,
            prev_hash,
            time_ms,
            seat_id,
            role,
            action,
            entity_type,
            entity_id,
            before,
            after,
        })
    }

    /// Encodes, hashes and signs with the device key.
    pub fn sign(self, key: &SigningKey) -> Result<SignedAuditRecord, EncodeError> {
        let encoded = self.encode()?;
        let hash = record_hash(&encoded);
        let signature = key.sign(&signing_message(&encoded)).to_bytes();
        Ok(SignedAuditRecord {
            record: self,
            encoded,
            hash,
            signature,
        })
    }
}

/// SHA-256 of a record's canonical encoding: what the next record's `prev_hash` holds.
pub fn record_hash(encoded: &[u8]) -> [u8; 32] {
    Sha256::digest(encoded).into()
}

fn signing_message(encoded: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNING_CONTEXT.len() + encoded.len());
    m.extend_from_slice(SIGNING_CONTEXT);
    m.extend_from_slice(encoded);
    m
}

/// Checks a detached signature over canonical bytes.
pub fn verify_signature(key: &VerifyingKey, encoded: &[u8], signature: &[u8]) -> bool {
    let Ok(sig) = Signature::from_slice(signature) else {
        return false;
    };
    key.verify(&signing_message(encoded), &sig).is_ok()
}

/// A record together with its canonical bytes, hash and signature, as stored and sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAuditRecord {
    pub record: AuditRecord,
    pub encoded: Vec<u8>,
    pub hash: [u8; 32],
    pub signature: [u8; 64],
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn slice(&mut self, field: &'static str, n: usize) -> Result<&[u8], DecodeError> {
        let available = self.bytes.len() - self.pos;
        if available < n {
            return Err(DecodeError::Truncated {
                field,
                needed: n - available,
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn take<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(field, N)?);
        Ok(out)
    }

    fn text(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let len = u16::from_be_bytes(self.take(field)?) as usize;
        if len > MAX_TEXT_BYTES {
            return Err(DecodeError::TooLong {
                field,
                len,
                limit: MAX_TEXT_BYTES,
            });
        }
        let raw = self.slice(field, len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::NotUtf8(field))
    }

    fn image(&mut self, field: &'static str) -> Result<Option<Vec<u8>>, DecodeError> {
        match self.take::<1>(field)?[0] {
            0 => Ok(None),
            1 => {
                let len = u32::from_be_bytes(self.take(field)?) as usize;
                if len > MAX_IMAGE_BYTES {
                    return Err(DecodeError::TooLong {
                        field,
                        len,
                        limit: MAX_IMAGE_BYTES,
                    });
                }
                Ok(Some(self.slice(field, len)?.to_vec()))
            }
            _ => Err(DecodeError::BadTag(field)),
        }
    }
}

/// Why a chain stopped verifying, naming the record (by its sequence number) where it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("audit record {seq} cannot be read: {error}")]
    Malformed { seq: u64, error: DecodeError },
    #[error("audit records missing: expected sequence {expected}, found {found}")]
    Gap { expected: u64, found: u64 },
    #[error("audit record {seq} says it is number {claimed}")]
    SequenceMismatch { seq: u64, claimed: u64 },
    #[error("audit record {seq} belongs to another tenant or device")]
    ForeignRecord { seq: u64 },
    #[error("audit record {seq} does not follow the record before it (hash chain broken)")]
    BrokenLink { seq: u64 },
    #[error("audit record {seq} has an invalid signature")]
    BadSignature { seq: u64 },
    #[error("audit record {seq} was altered: {detail}")]
    Altered { seq: u64, detail: String },
}

impl ChainBreak {
    /// The sequence number of the first bad record.
    pub fn seq(&self) -> u64 {
        match self {
            ChainBreak::Malformed { seq, .. }
            | ChainBreak::SequenceMismatch { seq, .. }
            | ChainBreak::ForeignRecord { seq }
            | ChainBreak::BrokenLink { seq }
            | ChainBreak::BadSignature { seq }
            | ChainBreak::Altered { seq, .. } => *seq,
            ChainBreak::Gap { expected, .. } => *expected,
        }
    }
}

/// Walks one device's chain record by record, in sequence order, without holding it in memory.
pub struct ChainVerifier {
    key: VerifyingKey,
    tenant_id: Uuid,
    device_id: Uuid,
    next_seq: u64,
    prev_hash: [u8; 32],
}

impl ChainVerifier {
    pub fn new(key: VerifyingKey, tenant_id: Uuid, device_id: Uuid) -> Self {
        ChainVerifier {
            key,
            tenant_id,
            device_id,
            next_seq: 1,
            prev_hash: GENESIS_HASH,
        }
    }

    /// Continues a chain already verified up to `verified` records whose last hash is `head_hash`
    /// (a checkpoint kept from an earlier walk). Records before it are not re-checked.
    pub fn resume(
        key: VerifyingKey,
        tenant_id: Uuid,
        device_id: Uuid,
        verified: u64,
        head_hash: [u8; 32],
    ) -> Self {
        let prev_hash = if verified == 0 {
            GENESIS_HASH
        } else {
            head_hash
        };
        ChainVerifier {
            key,
            tenant_id,
            device_id,
            next_seq: verified + 1,
            prev_hash,
        }
    }

    /// Number of records verified so far.
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }

    /// Hash of the last verified record (the chain head).
    pub fn head_hash(&self) -> [u8; 32] {
        self.prev_hash
    }

    /// Checks the next record, stored under `stored_seq`, and returns it decoded.
    pub fn push(
        &mut self,
        stored_seq: u64,
        encoded: &[u8],
        signature: &[u8],
    ) -> Result<AuditRecord, ChainBreak> {
        let key = self.key;
        self.check(stored_seq, encoded, || {
            verify_signature(&key, encoded, signature)
        })
    }

    /// [`ChainVerifier::push`] for a caller that checked the record's signature already, with
    /// [`verify_signature`] and this chain's device key (the cloud does a batch's signatures on
    /// all its cores before it takes the tenant's lock): `signature_valid` is that verdict.
    /// Every other check is made here, in the same order as `push`.
    pub fn push_verified(
        &mut self,
        stored_seq: u64,
        encoded: &[u8],
        signature_valid: bool,
    ) -> Result<AuditRecord, ChainBreak> {
        self.check(stored_seq, encoded, || signature_valid)
    }

    fn check(
        &mut self,
        stored_seq: u64,
        encoded: &[u8],
        signature_valid: impl FnOnce() -> bool,
    ) -> Result<AuditRecord, ChainBreak> {
        if stored_seq != self.next_seq {
            return Err(ChainBreak::Gap {
                expected: self.next_seq,
                found: stored_seq,
            });
        }
        let seq = stored_seq;
        let record =
            AuditRecord::decode(encoded).map_err(|error| ChainBreak::Malformed { seq, error })?;
        if record.seq != seq {
            return Err(ChainBreak::SequenceMismatch {
                seq,
                claimed: record.seq,
            });
        }
        if record.tenant_id != self.tenant_id || record.device_id != self.device_id {
            return Err(ChainBreak::ForeignRecord { seq });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainBreak::BrokenLink { seq });
        }
        if !signature_valid() {
            return Err(ChainBreak::BadSignature { seq });
        }
        self.prev_hash = record_hash(encoded);
        self.next_seq += 1;
        Ok(record)
    }
}

impl SignedAuditRecord {
    /// Hex of the hash, for display and export.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}
