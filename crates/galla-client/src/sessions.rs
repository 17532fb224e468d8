//! Sessions at a shared till: signing in (secret, second factor, back-off that survives a
//! restart), the random tokens held only in this process, and [`Terminal::authorize`], which
//! every operation calls first: the session is live (not idle, not past 12 hours), the seat is
//! not revoked or signed out everywhere, its support window is open, the terminal is enabled,
//! the seat's merged access allows the operation, and a sensitive one was confirmed within five
//! minutes. Only then does the operation get an [`Actor`] to write with.
//!
//! Tokens are 256 random bits. The engine keeps only their SHA-256, so even its own memory
//! holds nothing a caller could present; they are never written to disk, logs or errors.

use std::collections::{HashMap, VecDeque};
use std::sync::MutexGuard;

use galla_domain::session::{
    self as rules, FREE_FAILURES, SUSPICIOUS_FAILURES, SessionState, needs_reauth,
};
use galla_domain::{Access, Permission, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::crypto::{self, SecretString};
use crate::error::{Error, Result};
use crate::ops::{Gate, Op};
use crate::policy::ShopPolicy;
use crate::seats::{self, SeatRow};
use crate::store::Store;
use crate::terminal::Terminal;
use crate::write::{Actor, Operation};

/// A signed-in seat's bearer token. Opaque: no Display, no Serialize, redacted in Debug,
/// wiped on drop.
pub struct SessionToken(Zeroizing<[u8; 32]>);

impl SessionToken {
    fn random() -> Result<SessionToken> {
        let mut t = Zeroizing::new([0u8; 32]);
        crypto::fill_random(t.as_mut())?;
        Ok(SessionToken(t))
    }

    pub(crate) fn key(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_ref()).into()
    }

    /// The raw token, for the test that proves it never reaches logs or errors.
    #[cfg(feature = "test-support")]
    pub fn expose_for_tests(&self) -> [u8; 32] {
        *self.0
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(..)")
    }
}

/// The second thing a seat with two-step sign-in enters.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", content = "code", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SecondFactor {
    /// The 6-digit code from the authenticator app.
    Code(#[cfg_attr(feature = "ts", ts(type = "string"))] SecretString),
    /// One of the seat's one-time recovery codes.
    RecoveryCode(#[cfg_attr(feature = "ts", ts(type = "string"))] SecretString),
}

/// Why a session is restricted to setting itself right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Restriction {
    /// The owner requires two-step sign-in for this seat's role and it has none yet.
    SetUpSecondFactor,
    /// The terminal is disabled; an owner may only enable it again.
    TerminalDisabled,
}

/// What the UI needs to know about the signed-in seat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionInfo {
    pub seat_id: Uuid,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// How the audit trail names this seat's role (`support` inside a support window).
    pub role_stamp: String,
    pub permissions: Vec<Permission>,
    pub discount_limit_bp: u32,
    pub idle_timeout_ms: i64,
    /// When the screen locks unless there is activity first.
    pub idle_at_ms: i64,
    /// When the session ends, however active.
    pub expires_at_ms: i64,
    /// Sensitive acts need no re-entry of the secret until then.
    pub confirmed_until_ms: i64,
    pub restriction: Option<Restriction>,
    pub support_until_ms: Option<i64>,
    pub cart_id: Option<Uuid>,
}

pub struct SignedIn {
    pub token: SessionToken,
    pub session: SessionInfo,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

/// A second factor being set up: shown once as a QR code / text, confirmed with a code.
pub struct SecondFactorSetup {
    pub secret_base32: SecretString,
    pub otpauth_uri: SecretString,
}

impl std::fmt::Debug for SecondFactorSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecondFactorSetup(..)")
    }
}

pub(crate) struct LiveSession {
    pub seat_id: Uuid,
    pub signed_in_at: i64,
    pub last_activity: i64,
    pub last_auth_at: i64,
    pub locked: bool,
    pub cart: Option<Uuid>,
    pub pending_totp: Option<Zeroizing<Vec<u8>>>,
}

#[derive(Clone, Copy)]
enum Ended {
    Revoked,
    SignedOutEverywhere,
    SupportClosed,
    Expired,
    TerminalDisabled,
    /// The same seat signed in again here.
    Replaced,
}

impl Ended {
    fn error(self) -> Error {
        match self {
            Ended::Revoked => Error::SeatRevoked,
            Ended::SignedOutEverywhere => Error::SignedOutEverywhere,
            Ended::SupportClosed => Error::SupportWindowClosed,
            Ended::Expired => Error::SessionExpired,
            Ended::TerminalDisabled => Error::TerminalDisabled,
            Ended::Replaced => Error::NotSignedIn,
        }
    }
}

/// The engine's sessions. Ended ones are remembered briefly so the UI can say why.
#[derive(Default)]
pub(crate) struct Sessions {
    live: HashMap<[u8; 32], LiveSession>,
    ended: VecDeque<([u8; 32], Ended)>,
}

const ENDED_REMEMBERED: usize = 64;

impl Sessions {
    fn end(&mut self, key: [u8; 32], why: Ended) -> Option<LiveSession> {
        let s = self.live.remove(&key);
        if self.ended.len() == ENDED_REMEMBERED {
            self.ended.pop_front();
        }
        self.ended.push_back((key, why));
        s
    }

    fn missing(&self, key: &[u8; 32]) -> Error {
        self.ended
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map_or(Error::NotSignedIn, |(_, why)| why.error())
    }

    fn keys_of_seat(&self, seat_id: Uuid) -> Vec<[u8; 32]> {
        self.live
            .iter()
            .filter(|(_, s)| s.seat_id == seat_id)
            .map(|(k, _)| *k)
            .collect()
    }

    pub fn count(&self) -> usize {
        self.live.len()
    }
}

/// The result of a successful check: who acts, with what access, on which session.
pub(crate) struct Authorized {
    pub actor: Actor,
    pub access: Access,
    pub seat_id: Uuid,
    pub key: [u8; 32],
    pub cart: Option<Uuid>,
    pub now: i64,
    /// The session's last sign-in or re-authentication.
    pub last_auth_at: i64,
}

/// What a successful check of a seat's secrets spends when it is committed.
#[derive(Default)]
struct Proof {
    totp_step: Option<i64>,
    recovery_code: Option<[u8; 32]>,
}

pub(crate) const ACTION_SIGN_IN: &str = "session.sign_in";
pub(crate) const ACTION_SIGN_IN_FAILED: &str = "session.sign_in_failed";

/// The role stamp for an attempt whose maker is not yet known.
const UNAUTHENTICATED: &str = "unauthenticated";

fn secs_until(now: i64, at: i64) -> i64 {
    (at.saturating_sub(now) + 999) / 1000
}

impl Terminal {
    pub(crate) fn sessions(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn policy_in(&self, store: &Store) -> Result<ShopPolicy> {
        let json: Option<String> = rusqlite::OptionalExtension::optional(
            store
                .reader()
                .prepare_cached("SELECT policy FROM shop_policy WHERE id = ?")?
                .query_row([self.tenant_id.to_string()], |r| r.get(0)),
        )?;
        match json {
            None => Ok(ShopPolicy::default()),
            Some(j) => serde_json::from_str(&j).map_err(|_| Error::DatabaseDamaged {
                detail: "the shop's session policy is unreadable".into(),
            }),
        }
    }

    fn info(
        &self,
        seat: &SeatRow,
        policy: &ShopPolicy,
        s: &LiveSession,
        restriction: Option<Restriction>,
    ) -> SessionInfo {
        let access = seat.access(policy);
        let idle = policy.idle_timeout(&seat.roles);
        SessionInfo {
            seat_id: seat.id,
            display_name: seat.display_name.clone(),
            roles: seat.roles.clone(),
            role_stamp: seat.role_stamp(),
            permissions: access.permissions().collect(),
            discount_limit_bp: access.discount_limit_bp(),
            idle_timeout_ms: idle,
            idle_at_ms: s.last_activity.saturating_add(idle),
            expires_at_ms: s.signed_in_at.saturating_add(rules::ABSOLUTE_LIFETIME_MS),
            confirmed_until_ms: s.last_auth_at.saturating_add(rules::REAUTH_WINDOW_MS),
            restriction,
            support_until_ms: seat.support_until_ms,
            cart_id: s.cart,
        }
    }

    fn restriction(&self, seat: &SeatRow, policy: &ShopPolicy) -> Option<Restriction> {
        if self.is_disabled() {
            Some(Restriction::TerminalDisabled)
        } else if seat.totp_ct.is_none() && policy.requires_second_factor(&seat.roles) {
            Some(Restriction::SetUpSecondFactor)
        } else {
            None
        }
    }

    /// Why a session of `seat` that began at `signed_in_at` may no longer act at `now`.
    fn ended_by_seat(&self, seat: &SeatRow, signed_in_at: i64, now: i64) -> Option<Ended> {
        if seat.revoked_at_ms.is_some() {
            Some(Ended::Revoked)
        } else if signed_in_at < seat.sessions_valid_after_ms {
            Some(Ended::SignedOutEverywhere)
        } else if seat.refusal(now).is_some() {
            Some(Ended::SupportClosed)
        } else if self.is_disabled()
            && !seat
                .access(&ShopPolicy::default())
                .allows(Permission::RevokeSeats)
        {
            Some(Ended::TerminalDisabled)
        } else {
            None
        }
    }

    /// The check every operation makes first. On success the store stays locked for the
    /// operation, so nothing (a revocation, a policy change) slips in between check and act.
    pub(crate) fn authorize(
        &self,
        token: &SessionToken,
        op: Op,
    ) -> Result<(Authorized, MutexGuard<'_, Store>)> {
        if self.wiped.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::TerminalWiped);
        }
        let gate = op.gate();
        let mut store = self.store();
        let now = self.clock.now_ms();
        let key = token.key();
        let (seat_id, signed_in_at) = {
            let sessions = self.sessions();
            let s = sessions
                .live
                .get(&key)
                .ok_or_else(|| sessions.missing(&key))?;
            (s.seat_id, s.signed_in_at)
        };
        let seat = match seats::load_seat(store.reader(), self.tenant_id, seat_id) {
            Ok(s) => s,
            Err(Error::NotFound(_)) => {
                self.end_session(&mut store, key, Ended::Revoked, now)?;
                return Err(Error::SeatRevoked);
            }
            Err(e) => return Err(e),
        };
        if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
            self.end_session(&mut store, key, why, now)?;
            return Err(why.error());
        }
        let policy = self.policy_in(&store)?;
        let idle = policy.idle_timeout(&seat.roles);
        let (state, locked, last_auth_at, cart) = {
            let sessions = self.sessions();
            let s = sessions
                .live
                .get(&key)
                .ok_or_else(|| sessions.missing(&key))?;
            let state = rules::session_state(now, s.signed_in_at, s.last_activity, idle);
            (state, s.locked, s.last_auth_at, s.cart)
        };
        match state {
            SessionState::Expired => {
                self.end_session(&mut store, key, Ended::Expired, now)?;
                return Err(Error::SessionExpired);
            }
            SessionState::Idle if !locked => {
                self.lock_session(&mut store, key, "idle", now)?;
                return Err(Error::SessionLocked {
                    seat: seat.display_name,
                });
            }
            _ if locked => {
                return Err(Error::SessionLocked {
                    seat: seat.display_name,
                });
            }
            _ => {}
        }
        let access = seat.access(&policy);
        match gate {
            Gate::Public | Gate::SignedIn => {}
            Gate::Needs(p) => {
                if !access.allows(p) {
                    tracing::info!(seat = %seat.id, op = op.name(), "refused: permission");
                    return Err(Error::PermissionDenied { action: op.name() });
                }
                match self.restriction(&seat, &policy) {
                    Some(Restriction::TerminalDisabled) if op != Op::EnableTerminal => {
                        return Err(Error::TerminalDisabled);
                    }
                    Some(Restriction::SetUpSecondFactor) => {
                        return Err(Error::SecondFactorEnrollmentRequired { action: op.name() });
                    }
                    _ => {}
                }
                if op.is_sensitive() && needs_reauth(now, last_auth_at) {
                    return Err(Error::ReauthRequired { action: op.name() });
                }
            }
        }
        if op.counts_as_activity() {
            let mut sessions = self.sessions();
            if let Some(s) = sessions.live.get_mut(&key) {
                s.last_activity = s.last_activity.max(now);
            }
        }
        let actor = Actor {
            seat_id: Some(seat.id),
            role: seat.role_stamp(),
        };
        Ok((
            Authorized {
                actor,
                access,
                seat_id: seat.id,
                key,
                cart,
                now,
                last_auth_at,
            },
            store,
        ))
    }

    /// Marks a session locked and parks its sale, so nothing is lost and no one else inherits it.
    fn lock_session(&self, store: &mut Store, key: [u8; 32], reason: &str, now: i64) -> Result<()> {
        let (seat_id, cart) = {
            let mut sessions = self.sessions();
            let Some(s) = sessions.live.get_mut(&key) else {
                return Ok(());
            };
            s.locked = true;
            (s.seat_id, s.cart)
        };
        tracing::info!(seat = %seat_id, reason, "session locked");
        if let Some(cart) = cart {
            self.hold_cart_for(store, seat_id, cart, reason, now)?;
        }
        Ok(())
    }

    /// Ends a session, holding its sale first: if holding fails, the session (and its claim on
    /// the sale) stays, so a sale is never left open with no one to resume it.
    fn end_session(&self, store: &mut Store, key: [u8; 32], why: Ended, now: i64) -> Result<()> {
        let held = self.sessions().live.get(&key).map(|s| (s.seat_id, s.cart));
        let Some((seat_id, cart)) = held else {
            return Ok(());
        };
        if let Some(cart) = cart {
            self.hold_cart_for(store, seat_id, cart, "session ended", now)?;
        }
        self.sessions().end(key, why);
        tracing::info!(seat = %seat_id, "session ended");
        Ok(())
    }

    /// Ends every session of `seat_id` on this terminal (revocation, sign out everywhere).
    pub(crate) fn end_sessions_of(
        &self,
        store: &mut Store,
        seat_id: Uuid,
        now: i64,
        revoked: bool,
    ) -> Result<usize> {
        let keys = self.sessions().keys_of_seat(seat_id);
        let why = if revoked {
            Ended::Revoked
        } else {
            Ended::SignedOutEverywhere
        };
        for k in &keys {
            self.end_session(store, *k, why, now)?;
        }
        Ok(keys.len())
    }

    /// Ends every session on this terminal except those whose seat may re-enable it.
    pub(crate) fn end_sessions_for_disable(&self, store: &mut Store, now: i64) -> Result<()> {
        let all: Vec<([u8; 32], Uuid)> = self
            .sessions()
            .live
            .iter()
            .map(|(k, s)| (*k, s.seat_id))
            .collect();
        for (k, seat_id) in all {
            let seat = seats::load_seat(store.reader(), self.tenant_id, seat_id)?;
            if !seat
                .access(&ShopPolicy::default())
                .allows(Permission::RevokeSeats)
            {
                self.end_session(store, k, Ended::TerminalDisabled, now)?;
            }
        }
        Ok(())
    }

    /// Locks every session that has gone idle and ends every expired or revoked one, holding
    /// their sales (and ends sessions that a disable, here or by another process, shuts out). The desktop shell calls this every second so the lock screen comes on time
    /// even when nobody touches the till.
    pub fn lock_idle_sessions(&self) -> Result<usize> {
        let mut store = self.store();
        let now = self.clock.now_ms();
        let policy = self.policy_in(&store)?;
        // Picks up a disable or enable made by another process on this store (the CLI).
        let disabled_at: Option<i64> = store.reader().query_row(
            "SELECT disabled_at_ms FROM device WHERE id = ?",
            [self.device_id.to_string()],
            |r| r.get(0),
        )?;
        self.disabled
            .store(disabled_at.is_some(), std::sync::atomic::Ordering::SeqCst);
        let all: Vec<([u8; 32], Uuid, i64, i64, bool)> = self
            .sessions()
            .live
            .iter()
            .map(|(k, s)| (*k, s.seat_id, s.signed_in_at, s.last_activity, s.locked))
            .collect();
        let mut changed = 0;
        for (key, seat_id, signed_in_at, last_activity, locked) in all {
            let seat = match seats::load_seat(store.reader(), self.tenant_id, seat_id) {
                Ok(s) => s,
                Err(Error::NotFound(_)) => {
                    self.end_session(&mut store, key, Ended::Revoked, now)?;
                    changed += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
                self.end_session(&mut store, key, why, now)?;
                changed += 1;
                continue;
            }
            let idle = policy.idle_timeout(&seat.roles);
            match rules::session_state(now, signed_in_at, last_activity, idle) {
                SessionState::Expired => {
                    self.end_session(&mut store, key, Ended::Expired, now)?;
                    changed += 1;
                }
                SessionState::Idle if !locked => {
                    self.lock_session(&mut store, key, "idle", now)?;
                    changed += 1;
                }
                _ => {}
            }
        }
        Ok(changed)
    }

    /// The seat tiles of the lock screen: every seat that may sign in now.
    pub fn roster(&self) -> Result<Vec<seats::RosterEntry>> {
        let store = self.store();
        let now = self.clock.now_ms();
        Ok(seats::all_seats(store.reader(), self.tenant_id)?
            .iter()
            .filter(|s| s.refusal(now).is_none())
            .map(seats::RosterEntry::from)
            .collect())
    }

    /// Checks `secret` (and the second factor) for `seat`, counting a failure against the
    /// seat's back-off and raising a suspicious-login event at every fifth failure in a row.
    /// A seat waiting out a back-off is refused without any check. Success is only a proof:
    /// [`Terminal::record_proof`] commits it, re-checking one-time codes inside its transaction.
    fn prove(
        &self,
        seat: &SeatRow,
        secret: &SecretString,
        second: Option<&SecondFactor>,
    ) -> Result<Proof> {
        let now = self.clock.now_ms();
        let guard = seats::load_guard(self.store().reader(), seat.id)?;
        if let Some(until) = guard.locked_until()
            && now < until
        {
            tracing::info!(seat = %seat.id, "sign-in refused: waiting out failures");
            return Err(Error::LockedOut {
                retry_in_secs: secs_until(now, until),
            });
        }
        // Asked for before anything is checked, so the answer says nothing about the secret.
        if seat.totp_ct.is_some() && second.is_none() {
            return Err(Error::SecondFactorRequired);
        }
        // Argon2id runs outside the store lock: other calls go on while it works.
        let mut ok = crate::secret_hash::verify(secret.expose(), &seat.secret_hash);
        let mut proof = Proof::default();
        if let (Some(totp_ct), Some(second)) = (&seat.totp_ct, second) {
            match second {
                SecondFactor::Code(code) => {
                    let secret = self.cipher.decrypt("seat", "totp_ct", seat.id, totp_ct)?;
                    let totp = seats::totp(&secret, &seat.display_name, &self.shop_name())?;
                    let step = totp
                        .check(code.expose().trim(), (now.max(0) / 1000) as u64)
                        .map(|s| s as i64);
                    // RFC 6238 §5.2: a code is accepted once; an older step is a replay.
                    match step {
                        Some(s) if guard.totp_last_step.is_none_or(|last| s > last) => {
                            proof.totp_step = Some(s);
                        }
                        _ => ok = false,
                    }
                }
                SecondFactor::RecoveryCode(code) => {
                    match seats::recovery_code_hash(seat.id, code.expose()) {
                        Some(h) => proof.recovery_code = Some(h),
                        None => ok = false,
                    }
                }
            }
        }
        if ok {
            return Ok(proof);
        }
        Err(self.fail(seat, now))
    }

    /// [`Terminal::prove`] of the secret alone (unlock, re-authentication, changing it): the
    /// seat proved its second factor when it signed in.
    fn prove_secret(&self, seat: &SeatRow, secret: &SecretString) -> Result<Proof> {
        let bare = SeatRow {
            totp_ct: None,
            ..seat.clone()
        };
        self.prove(&bare, secret, None)
    }

    /// Counts a failed attempt and returns the error to give.
    fn fail(&self, seat: &SeatRow, now: i64) -> Error {
        match self.record_failure(seat, now) {
            Ok(failures) => Error::WrongSecret {
                attempts_before_wait: FREE_FAILURES.saturating_sub(failures),
            },
            Err(e) => e,
        }
    }

    /// Adds one failure to the seat's guard, read inside the write transaction so concurrent
    /// attempts (another process on the same store) each count. Returns the new count.
    fn record_failure(&self, seat: &SeatRow, now: i64) -> Result<u32> {
        let actor = Actor {
            seat_id: Some(seat.id),
            role: UNAUTHENTICATED.into(),
        };
        let op = Operation {
            action: ACTION_SIGN_IN_FAILED,
            entity_type: "seat",
            entity_id: seat.id.to_string(),
        };
        let (signer, tenant_id) = (self.signer(), self.tenant_id);
        let failures = self
            .store()
            .write(&signer, self.clock.as_ref(), &actor, op, |uow| {
                let mut guard = seats::load_guard(uow.conn(), seat.id)?;
                guard.failures = guard.failures.saturating_add(1);
                guard.last_failure_at_ms = Some(now);
                seats::write_guard(uow, seat.id, &guard)?;
                if guard.failures.is_multiple_of(SUSPICIOUS_FAILURES) {
                    let detail = format!(
                        "{} failed sign-ins in a row for {} on this terminal",
                        guard.failures, seat.display_name
                    );
                    seats::insert_security_event(
                        uow,
                        tenant_id,
                        Some(seat.id),
                        "suspicious_sign_in",
                        &detail,
                        now,
                    )?;
                }
                Ok(guard.failures)
            })?;
        tracing::warn!(seat = %seat.id, failures, "failed sign-in");
        Ok(failures)
    }

    /// Commits a successful proof: clears the back-off, spends the TOTP step or recovery code.
    /// Both are checked again inside the transaction, so a code used twice at once is accepted
    /// once; the loser is counted as a failure.
    fn record_proof(
        &self,
        store: &mut Store,
        seat: &SeatRow,
        proof: &Proof,
        action: &'static str,
        now: i64,
    ) -> Result<()> {
        let actor = Actor {
            seat_id: Some(seat.id),
            role: seat.role_stamp(),
        };
        let op = Operation {
            action,
            entity_type: "seat",
            entity_id: seat.id.to_string(),
        };
        let (signer, tenant_id) = (self.signer(), self.tenant_id);
        let spent = || Error::WrongSecret {
            attempts_before_wait: 0,
        };
        store.write(&signer, self.clock.as_ref(), &actor, op, |uow| {
            let mut guard = seats::load_guard(uow.conn(), seat.id)?;
            if let Some(step) = proof.totp_step {
                if guard.totp_last_step.is_some_and(|last| step <= last) {
                    return Err(spent());
                }
                guard.totp_last_step = Some(step);
            }
            guard.failures = 0;
            guard.last_failure_at_ms = None;
            guard.last_sign_in_at_ms = Some(now);
            seats::write_guard(uow, seat.id, &guard)?;
            if let Some(h) = proof.recovery_code {
                let id: Option<String> = rusqlite::OptionalExtension::optional(
                    uow.conn().query_row(
                        "SELECT id FROM seat_recovery_code
                         WHERE seat_id = ? AND code_hash = ? AND used_at_ms IS NULL",
                        rusqlite::params![seat.id.to_string(), h.as_slice()],
                        |r| r.get(0),
                    ),
                )?;
                let id = id.ok_or_else(spent)?;
                uow.update(
                    "seat_recovery_code",
                    &id,
                    &[("used_at_ms", rusqlite::types::Value::Integer(now))],
                )?;
                let left: i64 = uow.query_one(
                    "SELECT count(*) FROM seat_recovery_code WHERE seat_id = ? AND used_at_ms IS NULL",
                    rusqlite::params![seat.id.to_string()],
                )?;
                let detail = format!(
                    "{} signed in with a recovery code ({left} left)",
                    seat.display_name
                );
                seats::insert_security_event(
                    uow,
                    tenant_id,
                    Some(seat.id),
                    "recovery_code_used",
                    &detail,
                    now,
                )?;
            }
            Ok(())
        })
    }

    /// [`Terminal::record_proof`], counting a failure (outside the store lock, which the count
    /// takes itself) when a one-time code lost a race.
    fn commit_proof<'t>(
        &'t self,
        mut store: MutexGuard<'t, Store>,
        seat: &SeatRow,
        proof: &Proof,
        action: &'static str,
        now: i64,
    ) -> Result<MutexGuard<'t, Store>> {
        match self.record_proof(&mut store, seat, proof, action, now) {
            Ok(()) => Ok(store),
            Err(Error::WrongSecret { .. }) => {
                drop(store);
                Err(self.fail(seat, now))
            }
            Err(e) => Err(e),
        }
    }

    /// Signs a seat in at this till. A seat with two-step sign-in must give its second factor
    /// in the same call (the roster says which seats do). If the same seat has a locked
    /// session here, it is replaced and its held sale comes back to it.
    pub fn sign_in(
        &self,
        seat_id: Uuid,
        secret: &SecretString,
        second: Option<&SecondFactor>,
    ) -> Result<SignedIn> {
        let seat = seats::load_seat(self.store().reader(), self.tenant_id, seat_id)?;
        let now = self.clock.now_ms();
        if let Some(refused) = seat.refusal(now) {
            return Err(refused);
        }
        if self.is_disabled()
            && !seat
                .access(&ShopPolicy::default())
                .allows(Permission::RevokeSeats)
        {
            return Err(Error::TerminalDisabled);
        }
        let proof = self.prove(&seat, secret, second)?;
        let store = self.store();
        let now = self.clock.now_ms();
        // The seat may have been revoked, or the terminal disabled, while the hash was checked.
        let seat = seats::load_seat(store.reader(), self.tenant_id, seat_id)?;
        if let Some(refused) = seat.refusal(now) {
            return Err(refused);
        }
        if self.is_disabled()
            && !seat
                .access(&ShopPolicy::default())
                .allows(Permission::RevokeSeats)
        {
            return Err(Error::TerminalDisabled);
        }
        let mut store = self.commit_proof(store, &seat, &proof, ACTION_SIGN_IN, now)?;
        // The seat's earlier session here (locked, or left open) ends; its sale, held as it
        // ends, comes back to the seat.
        let mut cart = None;
        let earlier = self.sessions().keys_of_seat(seat_id);
        for k in earlier {
            let old_cart = self.sessions().live.get(&k).and_then(|s| s.cart);
            self.end_session(&mut store, k, Ended::Replaced, now)?;
            cart = cart.or(old_cart);
        }
        if let Some(c) = cart {
            cart = self.take_back_cart(&mut store, &seat, c, now)?;
        }
        let token = self.new_session(seat_id, now, cart)?;
        let policy = self.policy_in(&store)?;
        let info = {
            let sessions = self.sessions();
            let s = sessions.live.get(&token.key()).ok_or(Error::NotSignedIn)?;
            self.info(&seat, &policy, s, self.restriction(&seat, &policy))
        };
        tracing::info!(seat = %seat_id, "signed in");
        Ok(SignedIn {
            token,
            session: info,
        })
    }

    /// The same seat returns to its locked session with its secret (no second factor: it
    /// proved that at sign-in). Its held sale comes back.
    pub fn unlock(&self, token: &SessionToken, secret: &SecretString) -> Result<SessionInfo> {
        let key = token.key();
        let seat_id = {
            let sessions = self.sessions();
            sessions
                .live
                .get(&key)
                .ok_or_else(|| sessions.missing(&key))?
                .seat_id
        };
        let seat = seats::load_seat(self.store().reader(), self.tenant_id, seat_id)?;
        let proof = self.prove_secret(&seat, secret)?;
        let mut store = self.store();
        let now = self.clock.now_ms();
        let signed_in_at = {
            let sessions = self.sessions();
            sessions
                .live
                .get(&key)
                .ok_or_else(|| sessions.missing(&key))?
                .signed_in_at
        };
        let seat = seats::load_seat(store.reader(), self.tenant_id, seat_id)?;
        if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
            self.end_session(&mut store, key, why, now)?;
            return Err(why.error());
        }
        if now.saturating_sub(signed_in_at) >= rules::ABSOLUTE_LIFETIME_MS {
            self.end_session(&mut store, key, Ended::Expired, now)?;
            return Err(Error::SessionExpired);
        }
        let mut store = self.commit_proof(store, &seat, &proof, "session.unlock", now)?;
        let cart = self.sessions().live.get(&key).and_then(|s| s.cart);
        let cart = match cart {
            Some(c) => self.take_back_cart(&mut store, &seat, c, now)?,
            None => None,
        };
        let policy = self.policy_in(&store)?;
        let mut sessions = self.sessions();
        let s = sessions.live.get_mut(&key).ok_or(Error::NotSignedIn)?;
        s.locked = false;
        s.last_activity = now;
        s.last_auth_at = now;
        s.cart = cart;
        let info = self.info(&seat, &policy, s, self.restriction(&seat, &policy));
        Ok(info)
    }

    /// Confirms the seat's secret again, for the sensitive acts of the next five minutes.
    pub fn reauthenticate(
        &self,
        token: &SessionToken,
        secret: &SecretString,
    ) -> Result<SessionInfo> {
        let (auth, store) = self.authorize(token, Op::Reauthenticate)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        drop(store);
        let proof = self.prove_secret(&seat, secret)?;
        // Checked again: the seat may have been revoked while the hash was checked.
        let (auth, store) = self.authorize(token, Op::Reauthenticate)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        let store = self.commit_proof(store, &seat, &proof, "session.reauthenticate", auth.now)?;
        let policy = self.policy_in(&store)?;
        let mut sessions = self.sessions();
        let s = sessions.live.get_mut(&auth.key).ok_or(Error::NotSignedIn)?;
        s.last_auth_at = auth.now;
        Ok(self.info(&seat, &policy, s, self.restriction(&seat, &policy)))
    }

    /// Proves the signed-in seat's own secret (not its second factor), counting failures like
    /// a sign-in: for changing the secret itself.
    pub(crate) fn prove_own_secret(&self, seat: &SeatRow, secret: &SecretString) -> Result<()> {
        let proof = self.prove_secret(seat, secret)?;
        let store = self.store();
        let now = self.clock.now_ms();
        self.commit_proof(store, seat, &proof, "session.reauthenticate", now)
            .map(drop)
    }

    /// The signed-in seat and what it may do. Does not count as activity, so the UI may poll it.
    pub fn session_info(&self, token: &SessionToken) -> Result<SessionInfo> {
        self.session_info_for(token, Op::SessionInfo)
    }

    /// The UI reports activity (a key or a click) so the session does not idle out.
    pub fn touch(&self, token: &SessionToken) -> Result<SessionInfo> {
        self.session_info_for(token, Op::Touch)
    }

    fn session_info_for(&self, token: &SessionToken, op: Op) -> Result<SessionInfo> {
        let (auth, store) = self.authorize(token, op)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        let policy = self.policy_in(&store)?;
        let sessions = self.sessions();
        let s = sessions.live.get(&auth.key).ok_or(Error::NotSignedIn)?;
        Ok(self.info(&seat, &policy, s, self.restriction(&seat, &policy)))
    }

    /// Locks the screen now (stepping away, or a quick switch to another seat); the sale is held.
    pub fn lock(&self, token: &SessionToken) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::Lock)?;
        self.lock_session(&mut store, auth.key, "locked", auth.now)
    }

    /// Ends the session; a sale in progress is held for later.
    pub fn sign_out(&self, token: &SessionToken) -> Result<()> {
        let key = token.key();
        let mut store = self.store();
        let now = self.clock.now_ms();
        let held = self.sessions().live.get(&key).map(|s| (s.seat_id, s.cart));
        let Some((seat_id, cart)) = held else {
            return Err(Error::NotSignedIn);
        };
        if let Some(cart) = cart {
            self.hold_cart_for(&mut store, seat_id, cart, "signed out", now)?;
        }
        self.sessions().live.remove(&key);
        tracing::info!(seat = %seat_id, "signed out");
        Ok(())
    }

    pub(crate) fn new_session(
        &self,
        seat_id: Uuid,
        now: i64,
        cart: Option<Uuid>,
    ) -> Result<SessionToken> {
        let token = SessionToken::random()?;
        let session = LiveSession {
            seat_id,
            signed_in_at: now,
            last_activity: now,
            last_auth_at: now,
            locked: false,
            cart,
            pending_totp: None,
        };
        self.sessions().live.insert(token.key(), session);
        Ok(token)
    }

    /// Points a session at its sale. A sale belongs to one session at a time: any other
    /// session that still points at it (its seat locked or left it) lets go, so it can neither
    /// hold the sale away from its new seat nor take it back.
    pub(crate) fn set_session_cart(&self, key: [u8; 32], cart: Option<Uuid>) {
        let mut sessions = self.sessions();
        if let Some(c) = cart {
            for (k, s) in sessions.live.iter_mut() {
                if *k != key && s.cart == Some(c) {
                    s.cart = None;
                }
            }
        }
        if let Some(s) = sessions.live.get_mut(&key) {
            s.cart = cart;
        }
    }

    /// Replacing an existing second factor (and its recovery codes) is a sensitive act: someone
    /// at an unattended session must not swap in their own authenticator.
    fn replacing_a_factor_needs_reauth(seat: &SeatRow, auth: &Authorized, op: Op) -> Result<()> {
        if seat.totp_ct.is_some() && needs_reauth(auth.now, auth.last_auth_at) {
            return Err(Error::ReauthRequired { action: op.name() });
        }
        Ok(())
    }

    /// Starts setting up two-step sign-in for the signed-in seat. Nothing is stored until
    /// [`Terminal::confirm_second_factor`] gets a code from the app.
    pub fn begin_second_factor(&self, token: &SessionToken) -> Result<SecondFactorSetup> {
        let (auth, store) = self.authorize(token, Op::BeginSecondFactor)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        drop(store);
        Self::replacing_a_factor_needs_reauth(&seat, &auth, Op::BeginSecondFactor)?;
        let mut secret = Zeroizing::new(vec![0u8; seats::TOTP_SECRET_BYTES]);
        crypto::fill_random(&mut secret)?;
        let totp = seats::totp(&secret, &seat.display_name, &self.shop_name())?;
        let uri = totp
            .to_url()
            .map_err(|e| Error::Storage(format!("second factor: {e}")))?;
        let setup = SecondFactorSetup {
            secret_base32: SecretString::new(totp.secret().to_base32()),
            otpauth_uri: SecretString::new(uri),
        };
        let mut sessions = self.sessions();
        let s = sessions.live.get_mut(&auth.key).ok_or(Error::NotSignedIn)?;
        s.pending_totp = Some(secret);
        Ok(setup)
    }

    /// Finishes the set-up with a code from the app: stores the secret (encrypted), replaces
    /// any earlier recovery codes, and returns the new ones, shown this once.
    pub fn confirm_second_factor(
        &self,
        token: &SessionToken,
        code: &SecretString,
    ) -> Result<Vec<SecretString>> {
        let (auth, mut store) = self.authorize(token, Op::ConfirmSecondFactor)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        Self::replacing_a_factor_needs_reauth(&seat, &auth, Op::ConfirmSecondFactor)?;
        let pending = self
            .sessions()
            .live
            .get(&auth.key)
            .and_then(|s| s.pending_totp.clone())
            .ok_or_else(|| {
                crate::InputError::Conflict("start setting up two-step sign-in first".into())
            })?;
        let totp = seats::totp(&pending, &seat.display_name, &self.shop_name())?;
        let Some(step) = totp.check(code.expose().trim(), (auth.now.max(0) / 1000) as u64) else {
            return Err(Error::WrongSecret {
                attempts_before_wait: 0,
            });
        };
        let codes = seats::new_recovery_codes()?;
        let totp_ct = self.cipher.encrypt("seat", "totp_ct", seat.id, &pending)?;
        let op = Operation {
            action: "seat.second_factor_set",
            entity_type: "seat",
            entity_id: seat.id.to_string(),
        };
        let signer = self.signer();
        let now = auth.now;
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            use rusqlite::types::Value;
            uow.update(
                "seat",
                &seat.id.to_string(),
                &[
                    ("totp_ct", Value::Blob(totp_ct)),
                    ("updated_at_ms", Value::Integer(now)),
                ],
            )?;
            crate::seat_admin::replace_recovery_codes(uow, seat.id, &codes, now)?;
            let mut guard = seats::load_guard(uow.conn(), seat.id)?;
            guard.totp_last_step = Some(step as i64);
            seats::write_guard(uow, seat.id, &guard)
        })?;
        if let Some(s) = self.sessions().live.get_mut(&auth.key) {
            s.pending_totp = None;
        }
        tracing::info!(seat = %seat.id, "second factor set up");
        Ok(codes)
    }

    pub fn live_sessions(&self) -> usize {
        self.sessions().count()
    }
}
