//! The audit record's canonical encoding, signature and chain, including pinned test vectors.

use ed25519_dalek::SigningKey;
use galla_proto::audit::{DecodeError, record_hash, verify_signature};
use galla_proto::{AuditRecord, ChainBreak, ChainVerifier, GENESIS_HASH};
use proptest::prelude::*;
use uuid::Uuid;

fn vector_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn vector_record() -> AuditRecord {
    AuditRecord {
        tenant_id: Uuid::parse_str("0192f0a0-0000-7000-8000-000000000001").unwrap(),
        device_id: Uuid::parse_str("0192f0a0-0000-7000-8000-000000000002").unwrap(),
        seq: 1,
        prev_hash: GENESIS_HASH,
        time_ms: 1_763_700_000_000,
        seat_id: Some(Uuid::parse_str("0192f0a0-0000-7000-8000-000000000003").unwrap()),
        role: "owner".into(),
        action: "customer.create".into(),
        entity_type: "customer".into(),
        entity_id: "0192f0a0-0000-7000-8000-000000000004".into(),
        before: None,
        after: Some(br#"{"name":"Asha"}"#.to_vec()),
    }
}

/// Pinned bytes, cross-checked with Python `hashlib` and `cryptography` (Ed25519, RFC 8032): any change to the encoding, hash or signature scheme breaks this test, and
/// with it every stored chain and the cloud's verifier. Change the version instead.
#[test]
fn encoding_hash_and_signature_match_the_published_vector() {
    let signed = vector_record().sign(&vector_key()).unwrap();
    assert_eq!(hex::encode(&signed.encoded), VECTOR_ENCODING);
    assert_eq!(hex::encode(signed.hash), VECTOR_HASH);
    assert_eq!(hex::encode(signed.signature), VECTOR_SIGNATURE);
    assert_eq!(
        AuditRecord::decode(&signed.encoded).unwrap(),
        vector_record()
    );
}

const VECTOR_ENCODING: &str = "010192f0a00000700080000000000000010192f0a0000070008000000000000002000000000000000100000000000000000000000000000000000000000000000000000000000000000000019aa4b64500010192f0a000007000800000000000000300056f776e6572000f637573746f6d65722e6372656174650008637573746f6d6572002430313932663061302d303030302d373030302d383030302d30303030303030303030303400010000000f7b226e616d65223a2241736861227d";
const VECTOR_HASH: &str = "e11cebef25252997d002c6691dc43c679e711aa6eff0d71b0ceea9ec5214c43f";
const VECTOR_SIGNATURE: &str = "da4df72cb430369b1564ae752118a87d0cf9e4a369b28373977c5e7b071b9ab5d06135b78d874e9de76e389e75001e659b5adefe3f830ed0731dfd226d2fd502";

fn chain(n: u64) -> Vec<galla_proto::SignedAuditRecord> {
    let key = vector_key();
    let mut prev = GENESIS_HASH;
    (1..=n)
        .map(|seq| {
            let mut r = vector_record();
            r.seq = seq;
            r.prev_hash = prev;
            r.time_ms += seq as i64;
            let s = r.sign(&key).unwrap();
            prev = s.hash;
            s
        })
        .collect()
}

fn verify(records: &[(u64, Vec<u8>, [u8; 64])]) -> Result<u64, ChainBreak> {
    let r0 = vector_record();
    let mut v = ChainVerifier::new(vector_key().verifying_key(), r0.tenant_id, r0.device_id);
    for (seq, enc, sig) in records {
        v.push(*seq, enc, sig)?;
    }
    Ok(v.verified())
}

fn stored(c: &[galla_proto::SignedAuditRecord]) -> Vec<(u64, Vec<u8>, [u8; 64])> {
    c.iter()
        .map(|s| (s.record.seq, s.encoded.clone(), s.signature))
        .collect()
}

#[test]
fn an_intact_chain_verifies() {
    assert_eq!(verify(&stored(&chain(20))), Ok(20));
}

#[test]
fn a_missing_record_is_a_gap() {
    let mut rows = stored(&chain(10));
    rows.remove(4);
    assert_eq!(
        verify(&rows),
        Err(ChainBreak::Gap {
            expected: 5,
            found: 6
        })
    );
}

#[test]
fn a_record_signed_by_another_key_is_refused() {
    let mut rows = stored(&chain(3));
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let mut r = AuditRecord::decode(&rows[1].1).unwrap();
    r.action = "customer.erase".into();
    let forged = r.sign(&other).unwrap();
    rows[1] = (2, forged.encoded, forged.signature);
    assert_eq!(verify(&rows), Err(ChainBreak::BadSignature { seq: 2 }));
}

#[test]
fn a_resigned_edit_breaks_the_next_link() {
    // Even with the device key, rewriting record 2 changes its hash, so record 3 no longer links.
    let mut rows = stored(&chain(3));
    let mut r = AuditRecord::decode(&rows[1].1).unwrap();
    r.role = "manager".into();
    let resigned = r.sign(&vector_key()).unwrap();
    rows[1] = (2, resigned.encoded, resigned.signature);
    assert_eq!(verify(&rows), Err(ChainBreak::BrokenLink { seq: 3 }));
}

#[test]
fn decoder_refuses_trailing_and_truncated_bytes() {
    let enc = vector_record().encode().unwrap();
    let mut longer = enc.clone();
    longer.push(0);
    assert_eq!(
        AuditRecord::decode(&longer),
        Err(DecodeError::TrailingBytes(1))
    );
    for cut in 0..enc.len() {
        assert!(matches!(
            AuditRecord::decode(&enc[..cut]),
            Err(DecodeError::Truncated { .. } | DecodeError::UnknownVersion(_))
        ));
    }
}

#[test]
fn oversized_fields_are_refused_on_both_sides() {
    let mut r = vector_record();
    r.action = "x".repeat(257);
    assert!(r.encode().is_err());
}

proptest! {
    /// Flipping any bit of any record in a chain is caught, and at that record.
    #[test]
    fn any_bit_flip_is_named_at_its_record(which in 0usize..5, byte in 0usize..400, bit in 0u8..8) {
        let mut rows = stored(&chain(5));
        let target = &mut rows[which];
        let len = target.1.len() + 64;
        let at = byte % len;
        if at < target.1.len() {
            target.1[at] ^= 1 << bit;
        } else {
            target.2[at - target.1.len()] ^= 1 << bit;
        }
        let err = verify(&rows).unwrap_err();
        prop_assert_eq!(err.seq(), which as u64 + 1, "{}", err);
    }

    #[test]
    fn decode_inverts_encode(seq in 1u64.., time in any::<i64>(), action in "[a-z.]{0,40}",
                             after in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300))) {
        let mut r = vector_record();
        r.seq = seq;
        r.time_ms = time;
        r.action = action;
        r.after = after;
        let enc = r.encode().unwrap();
        prop_assert_eq!(AuditRecord::decode(&enc).unwrap(), r);
        let signed = vector_record().sign(&vector_key()).unwrap();
        prop_assert!(verify_signature(&vector_key().verifying_key(), &signed.encoded, &signed.signature));
        prop_assert_eq!(record_hash(&signed.encoded), signed.hash);
    }

    #[test]
    fn decoder_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = AuditRecord::decode(&bytes);
    }
}

#[test]
fn resuming_from_a_checkpoint_checks_only_what_follows_and_still_links() {
    let rows = stored(&chain(8));
    let r0 = vector_record();
    let key = vector_key().verifying_key();
    let mut full = ChainVerifier::new(key, r0.tenant_id, r0.device_id);
    for (seq, enc, sig) in &rows[..5] {
        full.push(*seq, enc, sig).unwrap();
    }
    let mut resumed = ChainVerifier::resume(
        key,
        r0.tenant_id,
        r0.device_id,
        full.verified(),
        full.head_hash(),
    );
    for (seq, enc, sig) in &rows[5..] {
        resumed.push(*seq, enc, sig).unwrap();
    }
    assert_eq!(resumed.verified(), 8);
    // A checkpoint with the wrong head hash does not link to record 6.
    let mut wrong = ChainVerifier::resume(key, r0.tenant_id, r0.device_id, 5, [7; 32]);
    assert_eq!(
        wrong.push(6, &rows[5].1, &rows[5].2),
        Err(ChainBreak::BrokenLink { seq: 6 })
    );
    // Resuming past a record that is missing is a gap.
    let mut gap = ChainVerifier::resume(key, r0.tenant_id, r0.device_id, 4, full.head_hash());
    assert!(matches!(
        gap.push(6, &rows[5].1, &rows[5].2),
        Err(ChainBreak::Gap {
            expected: 5,
            found: 6
        })
    ));
}
