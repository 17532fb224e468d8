//! Device-signed requests: how a terminal proves to its cloud that a request comes from its
//! enrolled device key and was not altered or replayed.
//!
//! Every sync request carries five headers. The signature is Ed25519, by the same device key
//! that signs the audit chain, over a domain-separated canonical string that binds the method,
//! the path and query, the tenant and device, the time, a random nonce and the SHA-256 of the
//! body. The server checks the time is within [`MAX_CLOCK_SKEW_MS`] of its own and that it has
//! not seen the nonce in that window, so a captured request cannot be sent again, and a request
//! for another tenant or with another body does not verify. Why signed requests rather than
//! mutual TLS is argued in `docs/security.md`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const HEADER_TENANT: &str = "x-galla-tenant";
pub const HEADER_DEVICE: &str = "x-galla-device";
pub const HEADER_TIMESTAMP: &str = "x-galla-timestamp";
pub const HEADER_NONCE: &str = "x-galla-nonce";
pub const HEADER_SIGNATURE: &str = "x-galla-signature";

/// Prefixed to what is signed, so a request signature is never valid as anything else the
/// device key signs (audit records, enrollment proofs).
pub const REQUEST_CONTEXT: &str = "galla.request.v1";
/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;
/// Bytes of randomness in a nonce (sent as 32 lowercase hex digits).
pub const NONCE_BYTES: usize = 16;
/// The longest path and query a signed request may have.
pub const MAX_PATH_BYTES: usize = 2048;

/// The headers of one signed request, as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub timestamp_ms: i64,
    pub nonce: [u8; NONCE_BYTES],
    pub signature: [u8; 64],
}

/// Why a request's authentication headers were refused. None of these says whether the device
/// exists: that is for the server to keep to itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    #[error("the request has no {0} header; sign it with the device key")]
    Missing(&'static str),
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    #[error("the request path is longer than {MAX_PATH_BYTES} bytes")]
    PathTooLong,
    #[error("the request's clock is {skew_ms} ms from the server's; set the terminal's clock")]
    ClockSkew { skew_ms: i64 },
    #[error("the request signature does not verify")]
    BadSignature,
}

/// The exact bytes that are signed.
pub fn canonical_request(
    method: &str,
    path_and_query: &str,
    tenant_id: Uuid,
    device_id: Uuid,
    timestamp_ms: i64,
    nonce: &[u8; NONCE_BYTES],
    body: &[u8],
) -> Vec<u8> {
    let body_hash = hex::encode(Sha256::digest(body));
    format!(
        "{REQUEST_CONTEXT}\n{}\n{path_and_query}\n{tenant_id}\n{device_id}\n{timestamp_ms}\n{}\n{body_hash}\n",
        method.to_ascii_uppercase(),
        hex::encode(nonce),
    )
    .into_bytes()
}

/// What of a request is signed besides who sends it and when.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
}

/// Signs a request the device is about to send. `nonce` must be fresh random bytes.
pub fn sign_request(
    key: &SigningKey,
    request: RequestParts<'_>,
    tenant_id: Uuid,
    device_id: Uuid,
    timestamp_ms: i64,
    nonce: [u8; NONCE_BYTES],
) -> SignedHeaders {
    let RequestParts {
        method,
        path_and_query,
        body,
    } = request;
    let message = canonical_request(
        method,
        path_and_query,
        tenant_id,
        device_id,
        timestamp_ms,
        &nonce,
        body,
    );
    SignedHeaders {
        tenant_id,
        device_id,
        timestamp_ms,
        nonce,
        signature: key.sign(&message).to_bytes(),
    }
}

impl SignedHeaders {
    /// The headers as (name, value) pairs.
    pub fn to_pairs(&self) -> [(&'static str, String); 5] {
        [
            (HEADER_TENANT, self.tenant_id.to_string()),
            (HEADER_DEVICE, self.device_id.to_string()),
            (HEADER_TIMESTAMP, self.timestamp_ms.to_string()),
            (HEADER_NONCE, hex::encode(self.nonce)),
            (HEADER_SIGNATURE, BASE64.encode(self.signature)),
        ]
    }

    /// Reads the headers through `get` (a header lookup that returns the value as text).
    pub fn parse<'a>(
        get: impl Fn(&'static str) -> Option<&'a str>,
    ) -> Result<SignedHeaders, RequestAuthError> {
        let field = |name: &'static str| get(name).ok_or(RequestAuthError::Missing(name));
        let uuid = |name: &'static str| -> Result<Uuid, RequestAuthError> {
            let text = field(name)?;
            // Only the hyphenated form: one request has one spelling, so one signature.
            if text.len() != 36 {
                return Err(RequestAuthError::Malformed(name));
            }
            Uuid::parse_str(text).map_err(|_| RequestAuthError::Malformed(name))
        };
        let tenant_id = uuid(HEADER_TENANT)?;
        let device_id = uuid(HEADER_DEVICE)?;
        let timestamp = field(HEADER_TIMESTAMP)?;
        if timestamp.is_empty()
            || timestamp.len() > 19
            || !timestamp.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(RequestAuthError::Malformed(HEADER_TIMESTAMP));
        }
        let timestamp_ms = timestamp
            .parse::<i64>()
            .map_err(|_| RequestAuthError::Malformed(HEADER_TIMESTAMP))?;
        let nonce_text = field(HEADER_NONCE)?;
        let mut nonce = [0u8; NONCE_BYTES];
        if nonce_text.len() != NONCE_BYTES * 2
            || nonce_text.bytes().any(|b| b.is_ascii_uppercase())
            || hex::decode_to_slice(nonce_text, &mut nonce).is_err()
        {
            return Err(RequestAuthError::Malformed(HEADER_NONCE));
        }
        let signature_text = field(HEADER_SIGNATURE)?;
        let signature: [u8; 64] = BASE64
            .decode(signature_text)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or(RequestAuthError::Malformed(HEADER_SIGNATURE))?;
        Ok(SignedHeaders {
            tenant_id,
            device_id,
            timestamp_ms,
            nonce,
            signature,
        })
    }

    /// Checks the time against the server's clock (`now_ms`): the first check, before any
    /// database lookup, so stale or future-dated requests cost the server nothing.
    pub fn check_clock(&self, now_ms: i64) -> Result<(), RequestAuthError> {
        let skew_ms = self.timestamp_ms.saturating_sub(now_ms);
        if skew_ms.saturating_abs() > MAX_CLOCK_SKEW_MS {
            return Err(RequestAuthError::ClockSkew { skew_ms });
        }
        Ok(())
    }

    /// Checks the signature with the device's enrolled public key.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<(), RequestAuthError> {
        if path_and_query.len() > MAX_PATH_BYTES {
            return Err(RequestAuthError::PathTooLong);
        }
        let message = canonical_request(
            method,
            path_and_query,
            self.tenant_id,
            self.device_id,
            self.timestamp_ms,
            &self.nonce,
            body,
        );
        key.verify_strict(&message, &Signature::from_bytes(&self.signature))
            .map_err(|_| RequestAuthError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn signed() -> (SignedHeaders, Uuid, Uuid) {
        let (tenant, device) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let h = sign_request(
            &key(7),
            RequestParts {
                method: "post",
                path_and_query: "/v1/audit",
                body: b"{}",
            },
            tenant,
            device,
            1_700_000_000_000,
            [3; 16],
        );
        (h, tenant, device)
    }

    fn reparse(h: &SignedHeaders) -> Result<SignedHeaders, RequestAuthError> {
        let pairs: HashMap<_, _> = h.to_pairs().into_iter().collect();
        SignedHeaders::parse(|n| pairs.get(n).map(String::as_str))
    }

    #[test]
    fn a_signed_request_verifies_after_a_round_trip_through_headers() {
        let (h, _, _) = signed();
        let back = reparse(&h).unwrap();
        assert_eq!(back, h);
        back.verify(&key(7).verifying_key(), "POST", "/v1/audit", b"{}")
            .unwrap();
    }

    #[test]
    fn any_change_to_what_was_signed_fails() {
        let (h, _, _) = signed();
        let vk = key(7).verifying_key();
        let bad = RequestAuthError::BadSignature;
        assert_eq!(h.verify(&vk, "PUT", "/v1/audit", b"{}"), Err(bad.clone()));
        assert_eq!(h.verify(&vk, "POST", "/v1/audiT", b"{}"), Err(bad.clone()));
        assert_eq!(h.verify(&vk, "POST", "/v1/audit", b"{ }"), Err(bad.clone()));
        assert_eq!(
            h.verify(&key(8).verifying_key(), "POST", "/v1/audit", b"{}"),
            Err(bad.clone())
        );
        for change in [
            |h: &mut SignedHeaders| h.tenant_id = Uuid::from_u128(9),
            |h: &mut SignedHeaders| h.device_id = Uuid::from_u128(9),
            |h: &mut SignedHeaders| h.timestamp_ms += 1,
            |h: &mut SignedHeaders| h.nonce[0] ^= 1,
            |h: &mut SignedHeaders| h.signature[10] ^= 1,
        ] {
            let mut changed = h.clone();
            change(&mut changed);
            assert_eq!(
                changed.verify(&vk, "POST", "/v1/audit", b"{}"),
                Err(bad.clone())
            );
        }
    }

    #[test]
    fn the_clock_window_is_five_minutes_either_way() {
        let (h, _, _) = signed();
        let t = h.timestamp_ms;
        assert!(h.check_clock(t + MAX_CLOCK_SKEW_MS).is_ok());
        assert!(h.check_clock(t - MAX_CLOCK_SKEW_MS).is_ok());
        assert!(matches!(
            h.check_clock(t + MAX_CLOCK_SKEW_MS + 1),
            Err(RequestAuthError::ClockSkew { .. })
        ));
        assert!(matches!(
            h.check_clock(t - MAX_CLOCK_SKEW_MS - 1),
            Err(RequestAuthError::ClockSkew { .. })
        ));
        assert!(h.check_clock(i64::MIN).is_err());
    }

    #[test]
    fn malformed_headers_are_named() {
        let (h, _, _) = signed();
        let pairs: HashMap<_, _> = h.to_pairs().into_iter().collect();
        for (name, value, expect) in [
            (
                HEADER_TENANT,
                "x",
                RequestAuthError::Malformed(HEADER_TENANT),
            ),
            (
                HEADER_DEVICE,
                "00000000000000000000000000000002",
                RequestAuthError::Malformed(HEADER_DEVICE),
            ),
            (
                HEADER_TIMESTAMP,
                "-5",
                RequestAuthError::Malformed(HEADER_TIMESTAMP),
            ),
            (
                HEADER_TIMESTAMP,
                "99999999999999999999",
                RequestAuthError::Malformed(HEADER_TIMESTAMP),
            ),
            (
                HEADER_NONCE,
                "abcd",
                RequestAuthError::Malformed(HEADER_NONCE),
            ),
            (
                HEADER_NONCE,
                "0303030303030303030303030303030G",
                RequestAuthError::Malformed(HEADER_NONCE),
            ),
            (
                HEADER_SIGNATURE,
                "AAAA",
                RequestAuthError::Malformed(HEADER_SIGNATURE),
            ),
        ] {
            let mut p = pairs.clone();
            p.insert(name, value.to_owned());
            assert_eq!(
                SignedHeaders::parse(|n| p.get(n).map(String::as_str)),
                Err(expect),
                "{name}={value}"
            );
        }
        let mut p = pairs.clone();
        p.remove(HEADER_NONCE);
        assert_eq!(
            SignedHeaders::parse(|n| p.get(n).map(String::as_str)),
            Err(RequestAuthError::Missing(HEADER_NONCE))
        );
    }
}
