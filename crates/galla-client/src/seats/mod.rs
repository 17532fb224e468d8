//! Seats as stored: who they are, their roles and overrides, how they prove themselves (PIN or
//! passphrase, TOTP, recovery codes), this terminal's sign-in guard for each, and the security
//! events the owner is shown. The rules for secrets live here; the operations that change seats
//! are in [`admin`] (the owner's) and [`second_factor`] (a seat's own).
//!
//! Tables: `seat`, `seat_guard`, `seat_recovery_code`, `security_event`.

pub(crate) mod admin;
pub(crate) mod second_factor;

use galla_domain::{Access, Override, Permission, Role};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::crypto::{self, SecretString};
use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Command, Op, Query};
use crate::policy::ShopPolicy;
use crate::rows::{set, table};

table! {
    /// A seat: someone who signs in at the till.
    struct SeatStored in "seat", key id {
        id: Uuid,
        tenant_id: Uuid,
        display_name: String,
        roles: String,
        /// `None`: the column's default (no overrides); also for a store older than it.
        overrides: Option<String>,
        /// `None`: the column's default (a passphrase).
        secret_kind: Option<String>,
        secret_hash: String,
        totp_ct: Option<Vec<u8>>,
        /// `None`: the column's default (0).
        sessions_valid_after_ms: Option<i64>,
        support_until_ms: Option<i64>,
        created_at_ms: i64,
        /// `None`: the column's default (0).
        updated_at_ms: Option<i64>,
        revoked_at_ms: Option<i64>,
    }
}

table! {
    /// This terminal's sign-in state for one seat (its id is the seat's).
    struct SeatGuardRow in "seat_guard", key id {
        id: Uuid,
        failures: u32,
        last_failure_at_ms: Option<i64>,
        last_sign_in_at_ms: Option<i64>,
        totp_last_step: Option<i64>,
    }
}

table! {
    /// One of a seat's one-time recovery codes, as its hash.
    struct RecoveryCodeRow in "seat_recovery_code", key id {
        id: Uuid,
        seat_id: Uuid,
        code_hash: Vec<u8>,
        created_at_ms: i64,
        used_at_ms: Option<i64>,
    }
}

table! {
    /// Something the owner should look at.
    struct SecurityEventRow in "security_event", key id {
        id: Uuid,
        tenant_id: Uuid,
        seat_id: Option<Uuid>,
        kind: String,
        detail: String,
        time_ms: i64,
        acknowledged_at_ms: Option<i64>,
    }
}

/// The shop's first seat, its owner, as shop creation writes it (the passphrase hashed).
pub(crate) fn insert_owner(
    cx: &mut WriteCx<'_, '_>,
    seat: Uuid,
    name: &str,
    secret_hash: &str,
) -> Result<()> {
    cx.insert(&SeatStored {
        id: seat,
        tenant_id: cx.tenant_id(),
        display_name: name.to_owned(),
        roles: roles_json(&[Role::Owner])?,
        // As the first Galla wrote its owner: the columns added since keep their defaults.
        overrides: None,
        secret_kind: None,
        secret_hash: secret_hash.to_owned(),
        totp_ct: None,
        sessions_valid_after_ms: None,
        support_until_ms: None,
        created_at_ms: cx.now(),
        updated_at_ms: None,
        revoked_at_ms: None,
    })
}

/// The roles and overrides columns as stored (JSON lists).
fn roles_json(roles: &[Role]) -> Result<String> {
    crate::error::to_json(&roles)
}

/// How a seat proves itself at the till.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SecretKind {
    /// 6 to 12 digits: quick on a PIN pad, for the counter.
    Pin,
    /// 8 to 128 characters: for owners and the back office.
    Passphrase,
}

impl SecretKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SecretKind::Pin => "pin",
            SecretKind::Passphrase => "passphrase",
        }
    }
    fn parse(s: &str) -> Option<SecretKind> {
        match s {
            "pin" => Some(SecretKind::Pin),
            "passphrase" => Some(SecretKind::Passphrase),
            _ => None,
        }
    }
}

pub const MIN_PIN_DIGITS: usize = 6;
pub const MAX_PIN_DIGITS: usize = 12;

/// Refuses a secret that does not fit its kind, or a PIN anyone would guess first (one digit
/// repeated, or a run like 123456 / 987654).
pub fn check_secret(kind: SecretKind, secret: &str) -> Result<(), InputError> {
    match kind {
        SecretKind::Passphrase => crate::secret_hash::check_passphrase(secret),
        SecretKind::Pin => {
            let digits: Vec<u8> = secret.bytes().collect();
            if !digits.iter().all(u8::is_ascii_digit)
                || !(MIN_PIN_DIGITS..=MAX_PIN_DIGITS).contains(&digits.len())
            {
                return Err(InputError::Rejected {
                    field: "pin",
                    reason: format!("must be {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits"),
                });
            }
            let steps: Vec<i16> = digits
                .windows(2)
                .map(|w| i16::from(w[1]) - i16::from(w[0]))
                .collect();
            let run = |d: i16| steps.iter().all(|s| *s == d);
            if run(0) || run(1) || run(-1) {
                return Err(InputError::Rejected {
                    field: "pin",
                    reason: "is too easy to guess (a repeated digit or a run like 123456)".into(),
                });
            }
            Ok(())
        }
    }
}

/// A seat row, parsed. Its Debug leaves out the secret hash and TOTP ciphertext.
#[derive(Clone)]
pub(crate) struct SeatRow {
    pub id: Uuid,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub overrides: Vec<Override>,
    pub secret_kind: SecretKind,
    pub secret_hash: String,
    pub totp_ct: Option<Vec<u8>>,
    pub sessions_valid_after_ms: i64,
    pub support_until_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

impl std::fmt::Debug for SeatRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeatRow")
            .field("id", &self.id)
            .field("roles", &self.roles)
            .field("revoked_at_ms", &self.revoked_at_ms)
            .finish_non_exhaustive()
    }
}

const SEAT_SELECT: &str = "SELECT id, display_name, roles, overrides, secret_kind, secret_hash, \
     totp_ct, sessions_valid_after_ms, support_until_ms, revoked_at_ms, created_at_ms FROM seat";

fn damaged(what: String) -> Error {
    Error::DatabaseDamaged { detail: what }
}

fn seat_from_row(r: &rusqlite::Row<'_>) -> Result<SeatRow> {
    let id: String = r.get(0)?;
    let id = Uuid::parse_str(&id).map_err(|_| damaged(format!("seat id {id:?}")))?;
    let roles: String = r.get(2)?;
    let roles: Vec<Role> = serde_json::from_str(&roles)
        .map_err(|_| damaged(format!("seat {id}: roles are not a list of known roles")))?;
    let overrides: String = r.get(3)?;
    let overrides: Vec<Override> = serde_json::from_str(&overrides)
        .map_err(|_| damaged(format!("seat {id}: overrides are unreadable")))?;
    let kind: String = r.get(4)?;
    Ok(SeatRow {
        id,
        display_name: r.get(1)?,
        roles,
        overrides,
        secret_kind: SecretKind::parse(&kind)
            .ok_or_else(|| damaged(format!("seat {id}: secret kind {kind:?}")))?,
        secret_hash: r.get(5)?,
        totp_ct: r.get(6)?,
        sessions_valid_after_ms: r.get(7)?,
        support_until_ms: r.get(8)?,
        revoked_at_ms: r.get(9)?,
        created_at_ms: r.get(10)?,
    })
}

pub(crate) fn load_seat(conn: &Connection, tenant_id: Uuid, seat_id: Uuid) -> Result<SeatRow> {
    let sql = format!("{SEAT_SELECT} WHERE tenant_id = ?1 AND id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([tenant_id.to_string(), seat_id.to_string()])?;
    match rows.next()? {
        Some(r) => seat_from_row(r),
        None => Err(Error::NotFound(format!("seat {seat_id}"))),
    }
}

pub(crate) fn all_seats(conn: &Connection, tenant_id: Uuid) -> Result<Vec<SeatRow>> {
    let sql = format!("{SEAT_SELECT} WHERE tenant_id = ?1 ORDER BY created_at_ms, id");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([tenant_id.to_string()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(seat_from_row(r)?);
    }
    Ok(out)
}

impl SeatRow {
    /// A seat this terminal no longer has (the cloud removed it), for holding its sale.
    pub(crate) fn removed(id: Uuid) -> SeatRow {
        SeatRow {
            id,
            display_name: String::new(),
            roles: Vec::new(),
            overrides: Vec::new(),
            secret_kind: SecretKind::Passphrase,
            secret_hash: String::new(),
            totp_ct: None,
            sessions_valid_after_ms: 0,
            support_until_ms: None,
            revoked_at_ms: Some(0),
            created_at_ms: 0,
        }
    }

    pub fn is_support(&self) -> bool {
        self.roles.contains(&Role::Support)
    }

    pub fn access(&self, policy: &ShopPolicy) -> Access {
        Access::merge(&self.roles, &self.overrides, |r| {
            policy.discount_limit_for(r)
        })
    }

    /// What the audit trail stamps as the role: `support` for a support seat (whatever else
    /// it holds), otherwise its roles joined by `+`.
    pub fn role_stamp(&self) -> String {
        if self.is_support() {
            return Role::Support.name().into();
        }
        let mut names: Vec<&str> = self.roles.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        names.join("+")
    }

    /// Whether the seat has live sign-in rights at `now` (not revoked, inside its window).
    pub fn refusal(&self, now: i64) -> Option<Error> {
        if self.revoked_at_ms.is_some() {
            return Some(Error::SeatRevoked);
        }
        if self.is_support() && self.support_until_ms.is_none_or(|until| now >= until) {
            return Some(Error::SupportWindowClosed);
        }
        None
    }
}

/// A seat tile on the lock screen: enough to pick a seat and show the right keypad.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RosterEntry {
    pub seat_id: Uuid,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub secret_kind: SecretKind,
    /// The seat also enters a code from its authenticator app.
    pub second_factor: bool,
    pub support_until_ms: Option<i64>,
}

impl From<&SeatRow> for RosterEntry {
    fn from(s: &SeatRow) -> Self {
        RosterEntry {
            seat_id: s.id,
            display_name: s.display_name.clone(),
            roles: s.roles.clone(),
            secret_kind: s.secret_kind,
            second_factor: s.totp_ct.is_some(),
            support_until_ms: s.support_until_ms,
        }
    }
}

/// Everything the owner's seats screen shows about one seat (never its secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SeatDetails {
    pub seat_id: Uuid,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub overrides: Vec<Override>,
    pub permissions: Vec<Permission>,
    pub discount_limit_bp: u32,
    pub secret_kind: SecretKind,
    pub second_factor: bool,
    pub second_factor_required: bool,
    pub unused_recovery_codes: u32,
    pub failed_attempts: u32,
    pub locked_until_ms: Option<i64>,
    pub last_sign_in_at_ms: Option<i64>,
    pub support_until_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// A seat the owner adds.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSeat {
    pub display_name: String,
    pub roles: Vec<Role>,
    #[serde(default)]
    pub overrides: Vec<Override>,
    pub secret_kind: SecretKind,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub secret: SecretString,
}

/// This terminal's sign-in state for one seat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SeatGuard {
    pub exists: bool,
    pub failures: u32,
    pub last_failure_at_ms: Option<i64>,
    pub last_sign_in_at_ms: Option<i64>,
    pub totp_last_step: Option<i64>,
}

impl SeatGuard {
    /// When the next attempt may be made, if the seat is waiting out a back-off.
    pub fn locked_until(&self) -> Option<i64> {
        let wait = galla_domain::session::lockout_ms(self.failures);
        match self.last_failure_at_ms {
            Some(at) if wait > 0 => Some(at.saturating_add(wait)),
            _ => None,
        }
    }
}

pub(crate) fn load_guard(conn: &Connection, seat_id: Uuid) -> Result<SeatGuard> {
    let row = conn
        .prepare_cached(
            "SELECT failures, last_failure_at_ms, last_sign_in_at_ms, totp_last_step
             FROM seat_guard WHERE id = ?",
        )?
        .query_row([seat_id.to_string()], |r| {
            Ok(SeatGuard {
                exists: true,
                failures: r.get::<_, i64>(0)?.clamp(0, u32::MAX.into()) as u32,
                last_failure_at_ms: r.get(1)?,
                last_sign_in_at_ms: r.get(2)?,
                totp_last_step: r.get(3)?,
            })
        })
        .optional()?;
    Ok(row.unwrap_or_default())
}

pub(crate) fn write_guard(cx: &mut WriteCx<'_, '_>, seat_id: Uuid, g: &SeatGuard) -> Result<()> {
    let row = SeatGuardRow {
        id: seat_id,
        failures: g.failures,
        last_failure_at_ms: g.last_failure_at_ms,
        last_sign_in_at_ms: g.last_sign_in_at_ms,
        totp_last_step: g.totp_last_step,
    };
    if g.exists {
        let mut fields = crate::rows::TableRow::fields(&row);
        fields.remove(0);
        cx.update::<SeatGuardRow>(&seat_id.to_string(), &fields)
    } else {
        cx.insert(&row)
    }
}

/// Records a security event for the owner (now, on this terminal's tenant).
pub(crate) fn insert_security_event(
    cx: &mut WriteCx<'_, '_>,
    seat_id: Option<Uuid>,
    kind: &str,
    detail: &str,
) -> Result<()> {
    cx.insert(&SecurityEventRow {
        id: Uuid::now_v7(),
        tenant_id: cx.tenant_id(),
        seat_id,
        kind: kind.to_owned(),
        detail: detail.to_owned(),
        time_ms: cx.now(),
        acknowledged_at_ms: None,
    })
}

/// Marks the seat's unused recovery code with hash `h` used; returns how many it has left,
/// or `None` if no unused code has that hash (spent a moment ago, or never issued).
pub(crate) fn spend_recovery_code(
    cx: &mut WriteCx<'_, '_>,
    seat_id: Uuid,
    h: &[u8; 32],
) -> Result<Option<i64>> {
    let id: Option<String> = cx
        .conn()
        .query_row(
            "SELECT id FROM seat_recovery_code
             WHERE seat_id = ? AND code_hash = ? AND used_at_ms IS NULL",
            rusqlite::params![seat_id.to_string(), h.as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else { return Ok(None) };
    cx.update::<RecoveryCodeRow>(&id, &[set("used_at_ms", &cx.now())])?;
    let left: i64 = cx.conn().query_row(
        "SELECT count(*) FROM seat_recovery_code WHERE seat_id = ? AND used_at_ms IS NULL",
        [seat_id.to_string()],
        |r| r.get(0),
    )?;
    Ok(Some(left))
}

/// Replaces a seat's recovery codes with the hashes of `codes` (none: the seat has none).
pub(crate) fn replace_recovery_codes(
    cx: &mut WriteCx<'_, '_>,
    seat_id: Uuid,
    codes: &[SecretString],
) -> Result<()> {
    let old: Vec<String> = {
        let mut stmt = cx
            .conn()
            .prepare_cached("SELECT id FROM seat_recovery_code WHERE seat_id = ?")?;
        let rows = stmt.query_map([seat_id.to_string()], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for o in old {
        cx.delete::<RecoveryCodeRow>(&o)?;
    }
    for c in codes {
        let h = recovery_code_hash(seat_id, c.expose())
            .ok_or(Error::Internal("a new recovery code is malformed"))?;
        cx.insert(&RecoveryCodeRow {
            id: Uuid::now_v7(),
            seat_id,
            code_hash: h.to_vec(),
            created_at_ms: cx.now(),
            used_at_ms: None,
        })?;
    }
    Ok(())
}

/// Something the owner should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SecurityEvent {
    pub id: Uuid,
    pub seat_id: Option<Uuid>,
    pub kind: String,
    pub detail: String,
    pub time_ms: i64,
    pub acknowledged_at_ms: Option<i64>,
}

/// Suspicious sign-ins, recovery codes used: newest first.
pub(crate) struct SecurityEvents;

impl Query for SecurityEvents {
    const OP: Op = Op::SecurityEvents;
    type Output = Vec<SecurityEvent>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<SecurityEvent>> {
        security_events(cx.conn(), cx.tenant_id())
    }
}

/// The owner has seen a security event.
pub(crate) struct AcknowledgeSecurityEvent(pub(crate) Uuid);

impl Command for AcknowledgeSecurityEvent {
    const OP: Op = Op::AcknowledgeSecurityEvent;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        Some(Record::new(
            "security_event.acknowledge",
            "security_event",
            self.0,
        ))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let ours: i64 = cx.conn().query_row(
            "SELECT count(*) FROM security_event WHERE id = ? AND tenant_id = ?",
            [self.0.to_string(), cx.tenant_id().to_string()],
            |r| r.get(0),
        )?;
        if ours == 0 {
            return Err(Error::NotFound(format!("security event {}", self.0)));
        }
        cx.update::<SecurityEventRow>(&self.0.to_string(), &[set("acknowledged_at_ms", &cx.now())])
    }
}

fn security_events(conn: &Connection, tenant_id: Uuid) -> Result<Vec<SecurityEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, seat_id, kind, detail, time_ms, acknowledged_at_ms FROM security_event
         WHERE tenant_id = ? ORDER BY time_ms DESC, id DESC",
    )?;
    let mut rows = stmt.query([tenant_id.to_string()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        let seat: Option<String> = r.get(1)?;
        out.push(SecurityEvent {
            id: Uuid::parse_str(&id).map_err(|_| damaged(format!("security event id {id:?}")))?,
            seat_id: seat.and_then(|s| Uuid::parse_str(&s).ok()),
            kind: r.get(2)?,
            detail: r.get(3)?,
            time_ms: r.get(4)?,
            acknowledged_at_ms: r.get(5)?,
        });
    }
    Ok(out)
}

// ----- second factor -----

/// TOTP secrets are 160 bits, as RFC 4226 recommends.
pub const TOTP_SECRET_BYTES: usize = 20;
/// How many one-time recovery codes a seat gets when it sets up its second factor.
pub const RECOVERY_CODES: usize = 10;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A recovery code: 80 random bits as 16 base-32 characters in groups of four.
fn new_recovery_code() -> Result<SecretString> {
    let mut bytes = Zeroizing::new([0u8; 10]);
    crypto::fill_random(bytes.as_mut())?;
    let mut bits: u128 = 0;
    for b in bytes.iter() {
        bits = (bits << 8) | u128::from(*b);
    }
    let mut out = Zeroizing::new(String::with_capacity(19));
    for i in 0..16 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let idx = ((bits >> (75 - 5 * i)) & 31) as usize;
        out.push(BASE32[idx] as char);
    }
    Ok(SecretString::new(out.as_str()))
}

pub(crate) fn new_recovery_codes() -> Result<Vec<SecretString>> {
    (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect()
}

/// The stored form of a recovery code for `seat_id`. Typing is forgiving: case, spaces and
/// dashes do not matter, and 0/1/8 read as O/I/B. Codes carry 80 random bits, so a plain
/// SHA-256 is enough (no one guesses 2^80 codes).
pub(crate) fn recovery_code_hash(seat_id: Uuid, code: &str) -> Option<[u8; 32]> {
    let norm: Zeroizing<String> = Zeroizing::new(
        code.chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| match c.to_ascii_uppercase() {
                '0' => 'O',
                '1' => 'I',
                '8' => 'B',
                u => u,
            })
            .collect(),
    );
    if norm.len() != 16 || !norm.bytes().all(|b| BASE32.contains(&b)) {
        return None;
    }
    let mut h = Sha256::new();
    h.update(b"galla.recovery.v1\0");
    h.update(seat_id.as_bytes());
    h.update(norm.as_bytes());
    Some(h.finalize().into())
}

/// The RFC 6238 generator for a seat's secret: SHA-1, 6 digits, 30 s steps, one step of skew,
/// which is what every authenticator app expects.
pub(crate) fn totp(secret: &[u8], account: &str, issuer: &str) -> Result<totp_rs::Totp> {
    // otpauth labels may not hold ':'; both are display text only.
    let clean = |s: &str| s.replace(':', " ");
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::from(secret.to_vec()))
        .with_account_name(clean(account))
        .with_issuer(Some(clean(issuer)))
        .build()
        .map_err(|_| Error::Crypto {
            what: "building the second factor",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pins_must_be_six_to_twelve_digits_and_not_obvious() {
        for ok in ["482915", "104729", "990011223344"] {
            assert!(check_secret(SecretKind::Pin, ok).is_ok(), "{ok}");
        }
        for bad in [
            "12345",
            "1234567890123",
            "12a456",
            "000000",
            "123456",
            "987654",
            " 482915",
        ] {
            assert!(check_secret(SecretKind::Pin, bad).is_err(), "{bad}");
        }
        assert!(check_secret(SecretKind::Passphrase, "short").is_err());
        assert!(check_secret(SecretKind::Passphrase, "long enough").is_ok());
    }

    #[test]
    fn recovery_codes_are_distinct_well_formed_and_hash_forgivingly() {
        let seat = Uuid::now_v7();
        let codes = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut hashes = std::collections::BTreeSet::new();
        for c in &codes {
            let s = c.expose();
            assert_eq!(s.len(), 19);
            assert_eq!(s.matches('-').count(), 3);
            let h = recovery_code_hash(seat, s).unwrap();
            assert_eq!(
                recovery_code_hash(seat, &s.to_lowercase().replace('-', " ")),
                Some(h)
            );
            assert_ne!(
                recovery_code_hash(Uuid::now_v7(), s),
                Some(h),
                "bound to the seat"
            );
            hashes.insert(h);
        }
        assert_eq!(hashes.len(), RECOVERY_CODES);
        assert_eq!(recovery_code_hash(seat, "ABCD-EFGH"), None);
    }

    /// RFC 6238 Appendix B, SHA-1 rows (8-digit codes truncated to the 6 an app shows).
    #[test]
    fn totp_matches_the_rfc_6238_vectors() {
        let t = totp(b"12345678901234567890", "Asha", "Shop").unwrap();
        for (time, code8) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(t.generate(time).to_string(), code8[2..], "t={time}");
        }
    }

    proptest! {
        /// Any 6-12 digit string is either accepted or refused as guessable, never panics, and
        /// anything with a non-digit is refused.
        #[test]
        fn pin_rule_is_total(s in "[0-9a-z]{0,14}") {
            let r = check_secret(SecretKind::Pin, &s);
            if !s.bytes().all(|b| b.is_ascii_digit()) || !(6..=12).contains(&s.len()) {
                prop_assert!(r.is_err());
            }
        }
    }
}
