//! The cloud's HTTP API as types both ends compile against: the paths, the JSON bodies, and
//! the error codes a terminal acts on. Binary values (keys, signatures, hashes, records) travel
//! as standard base64 strings.
//!
//! Three kinds of caller, three kinds of authentication:
//! - anyone may create a tenant (rate-limited per address);
//! - the owner signs in with passphrase and TOTP and gets a short-lived bearer token;
//! - an enrolled device signs every request with its device key (`request_auth`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const PATH_TENANTS: &str = "/v1/tenants";
pub const PATH_OWNER_SESSION: &str = "/v1/owner/session";
pub const PATH_OWNER_ENROLLMENT_CODES: &str = "/v1/owner/enrollment-codes";
pub const PATH_OWNER_DEVICES: &str = "/v1/owner/devices";
pub const PATH_OWNER_ALERTS: &str = "/v1/owner/alerts";
pub const PATH_ENROLL: &str = "/v1/enroll";
pub const PATH_DEVICE_STATUS: &str = "/v1/device/status";
pub const PATH_AUDIT: &str = "/v1/audit";
pub const PATH_LOG_CHECKPOINT: &str = "/v1/log/checkpoint";
pub const PATH_LOG_INCLUSION: &str = "/v1/log/inclusion";
pub const PATH_LOG_CONSISTENCY: &str = "/v1/log/consistency";
pub const PATH_SYNC_CHANGES: &str = "/v1/sync/changes";

/// The most audit records one push may carry.
pub const MAX_AUDIT_BATCH: usize = 1000;

/// The most rows one `GET /v1/sync/changes` page carries.
pub const MAX_CHANGES_PAGE: usize = 5000;

/// Prefixed to what a device signs to prove it holds the key it enrolls (domain separation
/// from audit records and requests).
pub const ENROLL_CONTEXT: &str = "galla.enroll.v1";
/// The same, for a standalone shop linking itself to a new tenant.
pub const LINK_CONTEXT: &str = "galla.link.v1";

/// What a device signs to enroll: the context, the code it redeems, and its public key.
pub fn enroll_proof_message(code: &str, device_public_key: &[u8; 32]) -> Vec<u8> {
    let mut m = format!("{ENROLL_CONTEXT}\n{}\n", normalise_code(code)).into_bytes();
    m.extend_from_slice(device_public_key);
    m
}

/// What a standalone shop's device signs to link: the context, its tenant and device ids, its
/// public key.
pub fn link_proof_message(
    tenant_id: Uuid,
    device_id: Uuid,
    device_public_key: &[u8; 32],
) -> Vec<u8> {
    let mut m = format!("{LINK_CONTEXT}\n{tenant_id}\n{device_id}\n").into_bytes();
    m.extend_from_slice(device_public_key);
    m
}

/// Enrollment codes are read aloud and typed: case, spaces and dashes do not matter, and the
/// letters Crockford base32 leaves out read as the digits they look like (O as 0; I and L as 1).
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// The characters an enrollment code is made of (Crockford base32).
pub const CODE_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The number of characters in an enrollment code.
pub const CODE_CHARS: usize = 10;

/// Whether `code`, once normalised, can be an enrollment code at all (so a typo is caught
/// before it costs one of the server's rate-limited attempts).
pub fn is_code_shaped(code: &str) -> bool {
    let n = normalise_code(code);
    n.chars().count() == CODE_CHARS && n.chars().all(|c| CODE_ALPHABET.contains(c))
}

/// A tenant key as it travels: purpose `data` (column encryption, versioned) or `blind_index`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantKey {
    pub purpose: KeyPurpose,
    pub version: u32,
    /// 32 bytes, base64.
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    Data,
    BlindIndex,
}

impl KeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::Data => "data",
            KeyPurpose::BlindIndex => "blind_index",
        }
    }
}

/// A seat as the roster lists it (credentials travel with seat sync, not here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatSummary {
    pub seat_id: Uuid,
    pub display_name: String,
    pub roles: Vec<String>,
    pub revoked: bool,
}

/// `POST /v1/tenants`: a new tenant with its owner. With `link`, a standalone shop brings its
/// own tenant id, keys and first device, and then pushes its history as ordinary audit records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTenantRequest {
    pub shop_name: String,
    pub owner_name: String,
    pub owner_passphrase: String,
    #[serde(default)]
    pub link: Option<LinkShop>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LinkShop {
    pub tenant_id: Uuid,
    pub keys: Vec<TenantKey>,
    /// The linking terminal's device id: its audit chain already names it.
    pub device_id: Uuid,
    /// The linking terminal's device key (32 bytes, base64) and its series.
    pub device_public_key: String,
    pub series_code: String,
    /// Ed25519 by the device key over [`link_proof_message`], base64.
    pub proof: String,
    /// The shop's seats besides the owner's (who is created from the request).
    #[serde(default)]
    pub seats: Vec<SeatSummary>,
    /// The owner seat's id on the terminal, so the cloud's owner is the same seat.
    pub owner_seat_id: Uuid,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTenantResponse {
    pub tenant_id: Uuid,
    pub owner_seat_id: Uuid,
    /// `otpauth://` URI of the owner's TOTP secret, shown once for an authenticator app.
    pub owner_totp_uri: String,
    /// Present when a standalone shop linked: its device is enrolled.
    pub enrolled: Option<EnrollResponse>,
}

/// `POST /v1/owner/session`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerSignIn {
    pub tenant_id: Uuid,
    pub passphrase: String,
    pub totp_code: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerSession {
    /// Sent back as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at_ms: i64,
}

/// `POST /v1/owner/enrollment-codes`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IssueEnrollmentCode {
    /// The invoice series the new terminal will use; the next free `T<n>` when absent.
    #[serde(default)]
    pub series_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollmentCode {
    /// Ten characters shown as `XXXXX-XXXXX`; one use; expires at `expires_at_ms`.
    pub code: String,
    pub series_code: String,
    pub expires_at_ms: i64,
}

/// `POST /v1/enroll`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub code: String,
    /// 32 bytes, base64.
    pub device_public_key: String,
    /// Ed25519 by the device key over [`enroll_proof_message`], base64.
    pub proof: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub tenant_id: Uuid,
    pub device_id: Uuid,
    pub series_code: String,
    pub keys: Vec<TenantKey>,
    pub seats: Vec<SeatSummary>,
    /// The log's origin line and the verifier key of its checkpoints (C2SP vkey).
    pub log_origin: String,
    pub log_verifier_key: String,
    pub server_time_ms: i64,
}

/// `GET /v1/owner/devices`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceSummary {
    pub device_id: Uuid,
    pub series_code: String,
    pub enrolled_at_ms: i64,
    pub revoked: bool,
    pub wipe_requested: bool,
    pub quarantined: bool,
    /// The highest audit sequence number accepted from it.
    pub audit_seq: i64,
}

/// `GET /v1/owner/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerAlert {
    pub alert_id: Uuid,
    pub kind: AlertKind,
    pub device_id: Option<Uuid>,
    pub detail: String,
    pub raised_at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A device sent two different records under one sequence number; it is quarantined.
    Equivocation,
    /// Two documents (invoices or credit notes) came with the same number in one year: the
    /// second is kept in the audit log but not taken into the shop's books.
    DuplicateNumber,
    /// One IMEI was sold twice (terminals offline at once): both sales stand, the owner decides.
    ImeiConflict,
    /// A seat change was made offline by someone who no longer held the right; not applied.
    SeatChangeRefused,
    /// A record stamped too far ahead of the cloud's clock was refused (a wrong clock, or a
    /// stolen key trying to stop every till); its evidence is the record.
    ClockAhead,
    /// A terminal's record changed another terminal's row, removed its own, or changed the key
    /// it enrolled with; not applied.
    DeviceChangeRefused,
    /// An edit of customers, products, settings, a device or an alert answer made by a seat
    /// that was revoked, unknown or without the right by the time it reached the cloud; not
    /// applied.
    ChangeRefused,
    /// A sale, return or ledger entry made by a seat revoked (or never on the roster) by the
    /// time it reached the cloud; in the books, since it happened, for the owner to check.
    RevokedSeatFact,
    /// The owner's passphrase was given with wrong authenticator codes again and again (from
    /// any number of addresses): owner sign-in is locked for a while, and the passphrase may be
    /// known to someone.
    SecondFactorGuessing,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Equivocation => "equivocation",
            AlertKind::DuplicateNumber => "duplicate_number",
            AlertKind::ImeiConflict => "imei_conflict",
            AlertKind::SeatChangeRefused => "seat_change_refused",
            AlertKind::ClockAhead => "clock_ahead",
            AlertKind::DeviceChangeRefused => "device_change_refused",
            AlertKind::ChangeRefused => "change_refused",
            AlertKind::RevokedSeatFact => "revoked_seat_fact",
            AlertKind::SecondFactorGuessing => "second_factor_guessing",
        }
    }

    pub fn parse(text: &str) -> Option<AlertKind> {
        [
            AlertKind::Equivocation,
            AlertKind::DuplicateNumber,
            AlertKind::ImeiConflict,
            AlertKind::SeatChangeRefused,
            AlertKind::ClockAhead,
            AlertKind::DeviceChangeRefused,
            AlertKind::ChangeRefused,
            AlertKind::RevokedSeatFact,
            AlertKind::SecondFactorGuessing,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// `GET /v1/device/status`: the device's next contact learns here that it must wipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub device_id: Uuid,
    pub series_code: String,
    pub audit_seq: i64,
    pub server_time_ms: i64,
}

/// One audit record as pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRecord {
    pub seq: u64,
    /// The canonical encoding, base64.
    pub record: String,
    /// Ed25519, base64.
    pub signature: String,
    /// The values the record shows only as digests (seat secret hashes, second-factor
    /// ciphertext), by image key then column: `{"seat/<id>": {"secret_hash": "..."}}`. Each
    /// must match its digest in the signed record, so they cannot be swapped in transit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `POST /v1/audit`: records in sequence order, continuing the device's chain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditPush {
    pub records: Vec<PushedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPushResponse {
    /// The device's highest accepted sequence number after this push.
    pub head_seq: u64,
    /// How many of the pushed records were new (the rest were identical resends).
    pub appended: u64,
    /// The tenant log's newest signed checkpoint (a C2SP signed note).
    pub checkpoint: String,
}

/// `GET /v1/log/checkpoint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointResponse {
    pub checkpoint: String,
}

/// `GET /v1/log/inclusion?seq=N&tree_size=S`: where this device's record N sits in the log of
/// size S, and the proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionResponse {
    pub leaf_index: u64,
    pub tree_size: u64,
    pub proof: Vec<String>,
}

/// `GET /v1/log/consistency?from=A&to=B`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyResponse {
    pub from: u64,
    pub to: u64,
    pub proof: Vec<String>,
}

/// One row of the tenant's shared state as `GET /v1/sync/changes` gives it: the row as the
/// terminals store it (column names and values as in their SQLite tables; blobs as
/// `{"$b64": ...}`; PII columns stay ciphertext under the tenant's data key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRow {
    /// Its place in the tenant's change feed: every change gets a larger number, and a row
    /// appears once, at its latest change.
    pub change: i64,
    pub table: String,
    pub id: String,
    pub row: serde_json::Value,
    /// The device whose record last changed it.
    pub device_id: Uuid,
}

/// `GET /v1/sync/changes?after=N&limit=L`: the rows changed after `N`, oldest change first.
/// `complete` is true when nothing later existed when the page was read; a terminal applies
/// what it gathered only then, so it never stands half-way between two states of the shop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesResponse {
    pub rows: Vec<SharedRow>,
    /// The cursor for the next page (`after` for the next request).
    pub next: i64,
    pub complete: bool,
}

/// Every refusal's body. `code` is what a program acts on; `message` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    TooLarge,
    Unauthenticated,
    Replayed,
    ClockSkew,
    DeviceRevoked,
    /// The owner marked this device for wipe: erase the keys and say so.
    WipeRequested,
    DeviceQuarantined,
    SignInLocked,
    NotFound,
    Conflict,
    /// A pushed record does not continue the chain (a gap, a broken link, a bad signature).
    ChainBroken,
    /// A sequence number already accepted came again with different bytes.
    Equivocation,
    RateLimited,
    Unavailable,
    Internal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_the_same_however_it_is_typed() {
        let issued = "7K2M0-QX1RS";
        for typed in ["7k2m0qx1rs", " 7K2MO-QXIRS ", "7k2m o qxlrs", "7K2M0-QX1RS"] {
            assert_eq!(normalise_code(typed), "7K2M0QX1RS", "{typed}");
            assert!(is_code_shaped(typed), "{typed}");
        }
        assert_eq!(
            enroll_proof_message(issued, &[1; 32]),
            enroll_proof_message("7k2mo qxirs", &[1; 32])
        );
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_caught_before_it_is_sent() {
        for typed in [
            "",
            "7K2M0-QX1R",
            "7K2M0-QX1RSS",
            "7K2M0-QX1R!",
            "7K2M0-QX1RU",
        ] {
            assert!(!is_code_shaped(typed), "{typed:?}");
        }
    }
}
