//! Sessions at a shared till: signing in (secret, second factor, back-off that survives a
//! restart), the random tokens held only in this process, and [`Engine::authorize`], which
//! every operation passes first: the session is live (not idle, not past 12 hours), the seat is
//! not revoked or signed out everywhere, its support window is open, the terminal is enabled,
//! the seat's merged access allows the operation, and a sensitive one was confirmed within five
//! minutes. Only then does the operation run, as an [`Authorized`] seat.
//!
//! Tokens are 256 random bits. The engine keeps only their SHA-256, so even its own memory
//! holds nothing a caller could present; they are never written to disk, logs or errors.
//!
//! A sign-in attempt is no seat's operation (nobody is signed in yet): its record, a success or
//! a failure counted against the seat's back-off, is a named entry of the engine
//! ([`Engine::sign_in_record`]).

use std::collections::{HashMap, VecDeque};

use galla_domain::session::{
    self as rules, FREE_FAILURES, SUSPICIOUS_FAILURES, SessionState, needs_reauth,
};
use galla_domain::{Access, Permission, Role};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Actor, Authorized, Effects, Engine, Record, SessionEnd, State, WriteCx};
use crate::crypto::{self, SecretString};
use crate::error::{Error, Result};
use crate::ops::{Gate, Op};
use crate::policy::ShopPolicy;
use crate::seats::{self, SeatRow};

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

struct LiveSession {
    seat_id: Uuid,
    signed_in_at: i64,
    last_activity: i64,
    last_auth_at: i64,
    locked: bool,
    cart: Option<Uuid>,
    pending_totp: Option<Zeroizing<Vec<u8>>>,
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

    fn reason(self) -> &'static str {
        match self {
            Ended::Revoked => "seat revoked",
            Ended::SignedOutEverywhere => "signed out everywhere",
            Ended::SupportClosed => "support window closed",
            Ended::Expired => "session ended",
            Ended::TerminalDisabled => "terminal disabled",
            Ended::Replaced => "session ended",
        }
    }
}

impl From<SessionEnd> for Ended {
    fn from(e: SessionEnd) -> Ended {
        match e {
            SessionEnd::Revoked => Ended::Revoked,
            SessionEnd::SignedOutEverywhere => Ended::SignedOutEverywhere,
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

    fn get(&self, key: &[u8; 32]) -> Result<&LiveSession> {
        self.live.get(key).ok_or_else(|| self.missing(key))
    }

    fn keys_of_seat(&self, seat_id: Uuid) -> Vec<[u8; 32]> {
        self.live
            .iter()
            .filter(|(_, s)| s.seat_id == seat_id)
            .map(|(k, _)| *k)
            .collect()
    }

    pub(crate) fn count(&self) -> usize {
        self.live.len()
    }

    /// Points a session at its sale. A sale belongs to one session at a time: any other
    /// session that still points at it (its seat locked or left it) lets go, so it can neither
    /// hold the sale away from its new seat nor take it back.
    fn set_cart(&mut self, key: [u8; 32], cart: Option<Uuid>) {
        if let Some(c) = cart {
            for (k, s) in self.live.iter_mut() {
                if *k != key && s.cart == Some(c) {
                    s.cart = None;
                }
            }
        }
        if let Some(s) = self.live.get_mut(&key) {
            s.cart = cart;
        }
    }
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

fn seat_record(action: &'static str, seat: Uuid) -> Record {
    Record::new(action, "seat", seat)
}

/// A seat that may re-enable a disabled terminal (its sessions survive the disable).
fn may_enable(seat: &SeatRow) -> bool {
    seat.access(&ShopPolicy::default())
        .allows(Permission::RevokeSeats)
}

impl Engine {
    fn policy(&self, state: &State) -> Result<ShopPolicy> {
        crate::policy::load(state.store.reader(), self.env.tenant_id)
    }

    fn seat(&self, state: &State, seat_id: Uuid) -> Result<SeatRow> {
        seats::load_seat(state.store.reader(), self.env.tenant_id, seat_id)
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
        } else if self.is_disabled() && !may_enable(seat) {
            Some(Ended::TerminalDisabled)
        } else {
            None
        }
    }

    /// The check every operation passes first, under the lock the operation then runs under,
    /// so nothing (a revocation, a policy change) slips in between check and act.
    pub(super) fn authorize(
        &self,
        state: &mut State,
        token: &SessionToken,
        op: Op,
    ) -> Result<Authorized> {
        if self.is_wiped() {
            return Err(Error::TerminalWiped);
        }
        let gate = op.gate();
        let now = self.env.clock.now_ms();
        let key = token.key();
        let (seat_id, signed_in_at) = {
            let s = state.sessions.get(&key)?;
            (s.seat_id, s.signed_in_at)
        };
        let seat = match self.seat(state, seat_id) {
            Ok(s) => s,
            Err(Error::NotFound(_)) => {
                self.end_session(state, key, Ended::Revoked, now)?;
                return Err(Error::SeatRevoked);
            }
            Err(e) => return Err(e),
        };
        if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
            self.end_session(state, key, why, now)?;
            return Err(why.error());
        }
        let policy = self.policy(state)?;
        let idle = policy.idle_timeout(&seat.roles);
        let (session_state, locked, last_auth_at, cart, pending_totp) = {
            let s = state.sessions.get(&key)?;
            let st = rules::session_state(now, s.signed_in_at, s.last_activity, idle);
            (st, s.locked, s.last_auth_at, s.cart, s.pending_totp.clone())
        };
        match session_state {
            SessionState::Expired => {
                self.end_session(state, key, Ended::Expired, now)?;
                return Err(Error::SessionExpired);
            }
            SessionState::Idle if !locked => {
                self.lock_session(state, key, "idle", now)?;
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
        if op.counts_as_activity()
            && let Some(s) = state.sessions.live.get_mut(&key)
        {
            s.last_activity = s.last_activity.max(now);
        }
        Ok(Authorized {
            actor: Actor::seat(seat.id, seat.role_stamp()),
            access,
            seat_id: seat.id,
            key,
            cart,
            now,
            last_auth_at,
            pending_totp,
        })
    }

    /// `seat` at `now` for a write the engine makes on its behalf (a sale held as its session
    /// locks or ends, a sign-in recorded): no session check, no access.
    fn on_behalf_of(&self, seat: &SeatRow, role: String, now: i64) -> Authorized {
        Authorized {
            actor: Actor::seat(seat.id, role),
            access: Access::with_default_limits(&[], &[]),
            seat_id: seat.id,
            key: [0; 32],
            cart: None,
            now,
            last_auth_at: now,
            pending_totp: None,
        }
    }

    /// Holds the sale of the session `key` (its seat locked, signed out, or its session ends),
    /// in a transaction of its own; a sale already held or gone is left alone.
    fn hold_session_cart(
        &self,
        state: &mut State,
        key: [u8; 32],
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let Some((seat_id, Some(cart))) =
            state.sessions.live.get(&key).map(|s| (s.seat_id, s.cart))
        else {
            return Ok(());
        };
        let seat = match self.seat(state, seat_id) {
            Ok(s) => s,
            // A seat the cloud removed: its sale is held in its name all the same.
            Err(Error::NotFound(_)) => SeatRow::removed(seat_id),
            Err(e) => return Err(e),
        };
        let who = self.on_behalf_of(&seat, seat.role_stamp(), now);
        self.write(state, &who, None, |cx| {
            crate::sale::hold(cx, cart, seat_id, reason)
        })
    }

    /// Marks a session locked and parks its sale, so nothing is lost and no one else inherits it.
    fn lock_session(&self, state: &mut State, key: [u8; 32], reason: &str, now: i64) -> Result<()> {
        if !state.sessions.live.contains_key(&key) {
            return Ok(());
        }
        self.hold_session_cart(state, key, reason, now)?;
        if let Some(s) = state.sessions.live.get_mut(&key) {
            s.locked = true;
            tracing::info!(seat = %s.seat_id, reason, "session locked");
        }
        Ok(())
    }

    /// Ends a session, holding its sale first: if holding fails, the session (and its claim on
    /// the sale) stays, so a sale is never left open with no one to resume it.
    fn end_session(&self, state: &mut State, key: [u8; 32], why: Ended, now: i64) -> Result<()> {
        if !state.sessions.live.contains_key(&key) {
            return Ok(());
        }
        self.hold_session_cart(state, key, why.reason(), now)?;
        if let Some(s) = state.sessions.end(key, why) {
            tracing::info!(seat = %s.seat_id, "session ended");
        }
        Ok(())
    }

    /// Sessions an operation's effects end: their sales are held inside the operation's own
    /// transaction, so the sales and the change that ended them commit together.
    pub(super) fn hold_for_ending(
        &self,
        sessions: &Sessions,
        cx: &mut WriteCx<'_, '_>,
    ) -> Result<()> {
        let ending = self.ending(sessions, cx.effects());
        for (seat_id, cart, reason) in ending {
            crate::sale::hold(cx, cart, seat_id, reason)?;
        }
        Ok(())
    }

    /// The sessions `effects` end, with their sales: (seat, sale, why).
    fn ending(&self, sessions: &Sessions, effects: &Effects) -> Vec<(Uuid, Uuid, &'static str)> {
        let mut out = Vec::new();
        for (seat, why) in &effects.end_sessions {
            for k in sessions.keys_of_seat(*seat) {
                if let Some(cart) = sessions.live.get(&k).and_then(|s| s.cart) {
                    out.push((*seat, cart, Ended::from(*why).reason()));
                }
            }
        }
        out
    }

    /// Applies a committed write's effects to the live sessions.
    pub(super) fn apply(
        &self,
        state: &mut State,
        who: &Authorized,
        effects: Effects,
    ) -> Result<()> {
        let Effects {
            cart,
            pending_totp,
            end_sessions,
            disabled,
            shop_renamed,
        } = effects;
        if let Some(cart) = cart {
            state.sessions.set_cart(who.key, cart);
        }
        if let Some(pending) = pending_totp
            && let Some(s) = state.sessions.live.get_mut(&who.key)
        {
            s.pending_totp = pending;
        }
        for (seat, why) in end_sessions {
            let keys = state.sessions.keys_of_seat(seat);
            for k in &keys {
                // Their sales were held in the write's own transaction.
                state.sessions.end(*k, why.into());
            }
            tracing::info!(seat = %seat, sessions_ended = keys.len(), "sessions ended");
        }
        if let Some(disable) = disabled {
            self.disabled
                .store(disable, std::sync::atomic::Ordering::SeqCst);
            if disable {
                self.end_sessions_for_disable(state, who.now)?;
            }
            tracing::info!(disabled = disable, "terminal state changed");
        }
        if shop_renamed {
            self.reload_shop_name(state.store.reader())?;
        }
        Ok(())
    }

    /// Ends every session on this terminal except those whose seat may re-enable it.
    fn end_sessions_for_disable(&self, state: &mut State, now: i64) -> Result<()> {
        let all: Vec<([u8; 32], Uuid)> = state
            .sessions
            .live
            .iter()
            .map(|(k, s)| (*k, s.seat_id))
            .collect();
        for (k, seat_id) in all {
            let seat = self.seat(state, seat_id)?;
            if !may_enable(&seat) {
                self.end_session(state, k, Ended::TerminalDisabled, now)?;
            }
        }
        Ok(())
    }

    /// Locks every session that has gone idle and ends every expired or revoked one, holding
    /// their sales (and ends sessions that a disable, here or by another process, shuts out).
    /// The desktop shell calls this every second so the lock screen comes on time even when
    /// nobody touches the till.
    pub(crate) fn lock_idle_sessions(&self) -> Result<usize> {
        let mut state = self.lock();
        let now = self.env.clock.now_ms();
        let policy = self.policy(&state)?;
        // Picks up a disable or enable made by another process on this store (the CLI).
        let disabled = crate::shop::device_disabled(state.store.reader(), self.env.device_id)?;
        self.disabled
            .store(disabled, std::sync::atomic::Ordering::SeqCst);
        let all: Vec<([u8; 32], Uuid, i64, i64, bool)> = state
            .sessions
            .live
            .iter()
            .map(|(k, s)| (*k, s.seat_id, s.signed_in_at, s.last_activity, s.locked))
            .collect();
        let mut changed = 0;
        for (key, seat_id, signed_in_at, last_activity, locked) in all {
            let seat = match self.seat(&state, seat_id) {
                Ok(s) => s,
                Err(Error::NotFound(_)) => {
                    self.end_session(&mut state, key, Ended::Revoked, now)?;
                    changed += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
                self.end_session(&mut state, key, why, now)?;
                changed += 1;
                continue;
            }
            let idle = policy.idle_timeout(&seat.roles);
            match rules::session_state(now, signed_in_at, last_activity, idle) {
                SessionState::Expired => {
                    self.end_session(&mut state, key, Ended::Expired, now)?;
                    changed += 1;
                }
                SessionState::Idle if !locked => {
                    self.lock_session(&mut state, key, "idle", now)?;
                    changed += 1;
                }
                _ => {}
            }
        }
        Ok(changed)
    }

    /// The seat tiles of the lock screen: every seat that may sign in now.
    pub(crate) fn roster(&self) -> Result<Vec<seats::RosterEntry>> {
        let state = self.lock();
        let now = self.env.clock.now_ms();
        Ok(seats::all_seats(state.store.reader(), self.env.tenant_id)?
            .iter()
            .filter(|s| s.refusal(now).is_none())
            .map(seats::RosterEntry::from)
            .collect())
    }

    /// Checks `secret` (and the second factor) for `seat`, counting a failure against the
    /// seat's back-off and raising a suspicious-login event at every fifth failure in a row.
    /// A seat waiting out a back-off is refused without any check. Success is only a proof:
    /// [`Engine::record_proof`] commits it, re-checking one-time codes inside its transaction.
    /// Runs without the lock: Argon2id takes its time while other calls go on.
    fn prove(
        &self,
        seat: &SeatRow,
        secret: &SecretString,
        second: Option<&SecondFactor>,
    ) -> Result<Proof> {
        let now = self.env.clock.now_ms();
        let guard = {
            let state = self.lock();
            seats::load_guard(state.store.reader(), seat.id)?
        };
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
        let mut ok = crate::secret_hash::verify(secret.expose(), &seat.secret_hash);
        let mut proof = Proof::default();
        if let (Some(totp_ct), Some(second)) = (&seat.totp_ct, second) {
            match second {
                SecondFactor::Code(code) => {
                    let secret = self
                        .env
                        .cipher
                        .decrypt("seat", "totp_ct", seat.id, totp_ct)?;
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

    /// [`Engine::prove`] of the secret alone (unlock, re-authentication, changing it): the
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
        let mut state = self.lock();
        match self.record_failure(&mut state, seat, now) {
            Ok(failures) => Error::WrongSecret {
                attempts_before_wait: FREE_FAILURES.saturating_sub(failures),
            },
            Err(e) => e,
        }
    }

    /// A sign-in attempt's record: no seat is signed in, so the engine writes it in the name
    /// of the seat that tried, stamped `role` (`unauthenticated` for a failure).
    fn sign_in_record<T>(
        &self,
        state: &mut State,
        seat: &SeatRow,
        role: String,
        action: &'static str,
        now: i64,
        f: impl FnOnce(&mut WriteCx<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let who = self.on_behalf_of(seat, role, now);
        self.write(state, &who, Some(seat_record(action, seat.id)), f)
    }

    /// Adds one failure to the seat's guard, read inside the write transaction so concurrent
    /// attempts (another process on the same store) each count. Returns the new count.
    fn record_failure(&self, state: &mut State, seat: &SeatRow, now: i64) -> Result<u32> {
        let failures = self.sign_in_record(
            state,
            seat,
            UNAUTHENTICATED.into(),
            ACTION_SIGN_IN_FAILED,
            now,
            |cx| {
                let mut guard = seats::load_guard(cx.conn(), seat.id)?;
                guard.failures = guard.failures.saturating_add(1);
                guard.last_failure_at_ms = Some(now);
                seats::write_guard(cx, seat.id, &guard)?;
                if guard.failures.is_multiple_of(SUSPICIOUS_FAILURES) {
                    let detail = format!(
                        "{} failed sign-ins in a row for {} on this terminal",
                        guard.failures, seat.display_name
                    );
                    seats::insert_security_event(cx, Some(seat.id), "suspicious_sign_in", &detail)?;
                }
                Ok(guard.failures)
            },
        )?;
        tracing::warn!(seat = %seat.id, failures, "failed sign-in");
        Ok(failures)
    }

    /// Commits a successful proof: clears the back-off, spends the TOTP step or recovery code.
    /// Both are checked again inside the transaction, so a code used twice at once is accepted
    /// once; the loser is counted as a failure. `then` runs in the same transaction (a sign-in
    /// takes back its seat's held sale there).
    fn record_proof<T>(
        &self,
        state: &mut State,
        seat: &SeatRow,
        proof: &Proof,
        action: &'static str,
        now: i64,
        then: impl FnOnce(&mut WriteCx<'_, '_>) -> Result<T>,
    ) -> Result<T> {
        let spent = || Error::WrongSecret {
            attempts_before_wait: 0,
        };
        let recorded = self.sign_in_record(state, seat, seat.role_stamp(), action, now, |cx| {
            let mut guard = seats::load_guard(cx.conn(), seat.id)?;
            if let Some(step) = proof.totp_step {
                if guard.totp_last_step.is_some_and(|last| step <= last) {
                    return Err(spent());
                }
                guard.totp_last_step = Some(step);
            }
            guard.failures = 0;
            guard.last_failure_at_ms = None;
            guard.last_sign_in_at_ms = Some(now);
            seats::write_guard(cx, seat.id, &guard)?;
            if let Some(h) = proof.recovery_code {
                let left = seats::spend_recovery_code(cx, seat.id, &h)?.ok_or_else(spent)?;
                let detail = format!(
                    "{} signed in with a recovery code ({left} left)",
                    seat.display_name
                );
                seats::insert_security_event(cx, Some(seat.id), "recovery_code_used", &detail)?;
            }
            then(cx)
        });
        match recorded {
            Err(Error::WrongSecret { .. }) => {
                Err(self.record_failure(state, seat, now).map_or_else(
                    |e| e,
                    |failures| Error::WrongSecret {
                        attempts_before_wait: FREE_FAILURES.saturating_sub(failures),
                    },
                ))
            }
            other => other,
        }
    }

    /// Signs a seat in at this till. A seat with two-step sign-in must give its second factor
    /// in the same call (the roster says which seats do). If the same seat has a locked
    /// session here, it is replaced and its held sale comes back to it.
    pub(crate) fn sign_in(
        &self,
        seat_id: Uuid,
        secret: &SecretString,
        second: Option<&SecondFactor>,
    ) -> Result<SignedIn> {
        if self.is_wiped() {
            return Err(Error::TerminalWiped);
        }
        let seat = {
            let state = self.lock();
            self.seat(&state, seat_id)?
        };
        let now = self.env.clock.now_ms();
        self.may_sign_in(&seat, now)?;
        let proof = self.prove(&seat, secret, second)?;
        let mut state = self.lock();
        let now = self.env.clock.now_ms();
        // The seat may have been revoked, or the terminal disabled, while the hash was checked.
        let seat = self.seat(&state, seat_id)?;
        self.may_sign_in(&seat, now)?;
        // The seat's earlier sessions here (locked, or left open) end; the sale of one of
        // them comes back to the seat, taken back in the sign-in's own transaction.
        let earlier = state.sessions.keys_of_seat(seat_id);
        let earlier_carts: Vec<Uuid> = earlier
            .iter()
            .filter_map(|k| state.sessions.live.get(k).and_then(|s| s.cart))
            .collect();
        let cart = self.record_proof(&mut state, &seat, &proof, ACTION_SIGN_IN, now, |cx| {
            let mut back = None;
            for c in &earlier_carts {
                if back.is_none() {
                    back = crate::sale::take_back(cx, *c, seat_id)?;
                } else {
                    crate::sale::hold(cx, *c, seat_id, "session ended")?;
                }
            }
            Ok(back)
        })?;
        for k in earlier {
            // Its sale, if it had one, is the one just taken back.
            state.sessions.end(k, Ended::Replaced);
        }
        let token = SessionToken::random()?;
        let key = token.key();
        state.sessions.live.insert(
            key,
            LiveSession {
                seat_id,
                signed_in_at: now,
                last_activity: now,
                last_auth_at: now,
                locked: false,
                cart: None,
                pending_totp: None,
            },
        );
        state.sessions.set_cart(key, cart);
        let policy = self.policy(&state)?;
        let s = state.sessions.get(&key)?;
        let info = self.info(&seat, &policy, s, self.restriction(&seat, &policy));
        tracing::info!(seat = %seat_id, "signed in");
        Ok(SignedIn {
            token,
            session: info,
        })
    }

    fn may_sign_in(&self, seat: &SeatRow, now: i64) -> Result<()> {
        if let Some(refused) = seat.refusal(now) {
            return Err(refused);
        }
        if self.is_disabled() && !may_enable(seat) {
            return Err(Error::TerminalDisabled);
        }
        Ok(())
    }

    /// A session for a seat that has just proved itself another way (the owner at shop
    /// creation).
    pub(crate) fn start_session(&self, seat_id: Uuid) -> Result<SessionToken> {
        let now = self.env.clock.now_ms();
        let token = SessionToken::random()?;
        self.lock().sessions.live.insert(
            token.key(),
            LiveSession {
                seat_id,
                signed_in_at: now,
                last_activity: now,
                last_auth_at: now,
                locked: false,
                cart: None,
                pending_totp: None,
            },
        );
        Ok(token)
    }

    /// The same seat returns to its locked session with its secret (no second factor: it
    /// proved that at sign-in). Its held sale comes back.
    pub(crate) fn unlock(
        &self,
        token: &SessionToken,
        secret: &SecretString,
    ) -> Result<SessionInfo> {
        let key = token.key();
        let seat = {
            let state = self.lock();
            let seat_id = state.sessions.get(&key)?.seat_id;
            self.seat(&state, seat_id)?
        };
        let proof = self.prove_secret(&seat, secret)?;
        let mut state = self.lock();
        let now = self.env.clock.now_ms();
        let signed_in_at = state.sessions.get(&key)?.signed_in_at;
        let seat = self.seat(&state, seat.id)?;
        if let Some(why) = self.ended_by_seat(&seat, signed_in_at, now) {
            self.end_session(&mut state, key, why, now)?;
            return Err(why.error());
        }
        if now.saturating_sub(signed_in_at) >= rules::ABSOLUTE_LIFETIME_MS {
            self.end_session(&mut state, key, Ended::Expired, now)?;
            return Err(Error::SessionExpired);
        }
        let held = state.sessions.get(&key)?.cart;
        let cart =
            self.record_proof(
                &mut state,
                &seat,
                &proof,
                "session.unlock",
                now,
                |cx| match held {
                    Some(c) => crate::sale::take_back(cx, c, seat.id),
                    None => Ok(None),
                },
            )?;
        state.sessions.set_cart(key, cart);
        let policy = self.policy(&state)?;
        let s = state
            .sessions
            .live
            .get_mut(&key)
            .ok_or(Error::NotSignedIn)?;
        s.locked = false;
        s.last_activity = now;
        s.last_auth_at = now;
        let s = state.sessions.get(&key)?;
        Ok(self.info(&seat, &policy, s, self.restriction(&seat, &policy)))
    }

    /// Confirms the seat's secret again, for the sensitive acts of the next five minutes.
    pub(crate) fn reauthenticate(
        &self,
        token: &SessionToken,
        secret: &SecretString,
    ) -> Result<SessionInfo> {
        let seat = {
            let mut state = self.lock();
            let who = self.authorize(&mut state, token, Op::Reauthenticate)?;
            self.seat(&state, who.seat_id)?
        };
        let proof = self.prove_secret(&seat, secret)?;
        let mut state = self.lock();
        // Checked again: the seat may have been revoked while the hash was checked.
        let who = self.authorize(&mut state, token, Op::Reauthenticate)?;
        let seat = self.seat(&state, who.seat_id)?;
        self.record_proof(
            &mut state,
            &seat,
            &proof,
            "session.reauthenticate",
            who.now,
            |_| Ok(()),
        )?;
        let policy = self.policy(&state)?;
        let s = state
            .sessions
            .live
            .get_mut(&who.key)
            .ok_or(Error::NotSignedIn)?;
        s.last_auth_at = who.now;
        let s = state.sessions.get(&who.key)?;
        Ok(self.info(&seat, &policy, s, self.restriction(&seat, &policy)))
    }

    /// Proves the signed-in seat's own current secret (not its second factor), counting
    /// failures like a sign-in: an open session is no licence to guess the current PIN.
    /// Returns the seat.
    pub(crate) fn prove_own_secret(
        &self,
        token: &SessionToken,
        secret: &SecretString,
    ) -> Result<Uuid> {
        let seat = {
            let mut state = self.lock();
            let who = self.authorize(&mut state, token, Op::ChangeOwnSecret)?;
            self.seat(&state, who.seat_id)?
        };
        let proof = self.prove_secret(&seat, secret)?;
        let mut state = self.lock();
        let now = self.env.clock.now_ms();
        self.record_proof(
            &mut state,
            &seat,
            &proof,
            "session.reauthenticate",
            now,
            |_| Ok(()),
        )?;
        Ok(seat.id)
    }

    /// The signed-in seat and what it may do; `op` says whether the call counts as activity.
    pub(crate) fn session_info(&self, token: &SessionToken, op: Op) -> Result<SessionInfo> {
        let mut state = self.lock();
        let who = self.authorize(&mut state, token, op)?;
        let seat = self.seat(&state, who.seat_id)?;
        let policy = self.policy(&state)?;
        let s = state.sessions.get(&who.key)?;
        Ok(self.info(&seat, &policy, s, self.restriction(&seat, &policy)))
    }

    /// Locks the screen now (stepping away, or a quick switch to another seat); the sale is held.
    pub(crate) fn lock_screen(&self, token: &SessionToken) -> Result<()> {
        let mut state = self.lock();
        let who = self.authorize(&mut state, token, Op::Lock)?;
        self.lock_session(&mut state, who.key, "locked", who.now)
    }

    /// Ends the session; a sale in progress is held for later.
    pub(crate) fn sign_out(&self, token: &SessionToken) -> Result<()> {
        let key = token.key();
        let mut state = self.lock();
        let now = self.env.clock.now_ms();
        let Some(seat_id) = state.sessions.live.get(&key).map(|s| s.seat_id) else {
            return Err(Error::NotSignedIn);
        };
        self.hold_session_cart(&mut state, key, "signed out", now)?;
        state.sessions.live.remove(&key);
        tracing::info!(seat = %seat_id, "signed out");
        Ok(())
    }
}

/// Replacing an existing second factor (and its recovery codes) is a sensitive act: someone
/// at an unattended session must not swap in their own authenticator.
pub(crate) fn replacing_a_factor_needs_reauth(
    has_factor: bool,
    now: i64,
    last_auth_at: i64,
    op: Op,
) -> Result<()> {
    if has_factor && needs_reauth(now, last_auth_at) {
        return Err(Error::ReauthRequired { action: op.name() });
    }
    Ok(())
}
