//! What owners (and managers, for revocation) do to seats: add them, change their roles and
//! overrides, reset PINs and second factors, revoke them, sign them out everywhere, and grant a
//! support window. Each is one audited write, run by the engine after its permission check.
//!
//! Two rules beyond the permission matrix stop a seat from raising itself or others above it:
//! a seat may give, change or take away only access it holds itself (an owner holds all), and
//! the shop always keeps at least one live owner seat that can manage and revoke seats.
//!
//! A new PIN or passphrase is hashed (Argon2id, deliberately slow) before the operation runs,
//! outside the engine's lock: the operation is built from the hash.

use galla_domain::{Access, GrantRefusal, Override, Permission, Role};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    NewSeat, SeatDetails, SeatRow, SeatStored, SecretKind, check_secret, load_guard, load_seat,
    roles_json, write_guard,
};
use crate::crypto::SecretString;
use crate::engine::{Env, ReadCx, Record, SessionEnd, WriteCx};
use crate::error::{Error, InputError, Result, required};
use crate::ops::{Command, Op, Query};
use crate::policy::{self, ShopPolicy};
use crate::rows::set;

const MAX_SEAT_NAME: usize = 80;
/// The longest support window an owner may grant at once.
pub const MAX_SUPPORT_WINDOW_MS: i64 = 72 * 60 * 60 * 1000;

/// Support access the owner grants: a seat that works until `minutes` from now, then stops.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct NewSupportSeat {
    pub display_name: String,
    pub secret_kind: SecretKind,
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub secret: SecretString,
    pub minutes: u32,
}

fn conflict(msg: impl Into<String>) -> Error {
    InputError::Conflict(msg.into()).into()
}

fn seat_record(action: &'static str, seat: Uuid) -> Option<Record> {
    Some(Record::new(action, "seat", seat))
}

/// Only a seat holding everything may make an owner: the role's name is a promise. The rule
/// is the domain's (`galla_domain::grant_refusal`), which the cloud checks again.
fn may_give_roles(actor: &Access, roles: &[Role]) -> Result<()> {
    if roles.contains(&Role::Owner) && !actor.holds_everything() {
        return Err(conflict(GrantRefusal::OwnerRole.to_string()));
    }
    Ok(())
}

fn check_roles(roles: &[Role]) -> Result<Vec<Role>, InputError> {
    let mut r = roles.to_vec();
    r.sort();
    r.dedup();
    if r.is_empty() {
        return Err(InputError::Required { field: "roles" });
    }
    if r.contains(&Role::Support) {
        return Err(InputError::Rejected {
            field: "roles",
            reason: "support is granted for a time window, not as a standing role".into(),
        });
    }
    Ok(r)
}

/// The shop must keep a live owner seat that can still manage and revoke seats: only an owner
/// holds everything, so only an owner can ever give every permission back.
fn keeps_an_administrator(seats: &[SeatRow], policy: &ShopPolicy) -> bool {
    seats.iter().any(|s| {
        s.revoked_at_ms.is_none() && s.roles.contains(&Role::Owner) && {
            let a = s.access(policy);
            a.allows(Permission::ManageSeats) && a.allows(Permission::RevokeSeats)
        }
    })
}

/// A seat another seat is about to change, refused when it holds more than the actor.
fn target_seat(cx: &ReadCx<'_>, seat_id: Uuid) -> Result<(SeatRow, ShopPolicy)> {
    let policy = policy::load(cx.conn(), cx.tenant_id())?;
    let seat = load_seat(cx.conn(), cx.tenant_id(), seat_id)?;
    if !cx.access().covers(&seat.access(&policy)) {
        return Err(conflict(format!(
            "{} holds access this seat does not; only a seat holding all of it may change it",
            seat.display_name
        )));
    }
    Ok((seat, policy))
}

/// A new PIN or passphrase, checked for its kind and hashed (slowly: outside the lock).
pub(crate) struct NewSecret {
    kind: SecretKind,
    hash: String,
}

impl NewSecret {
    pub(crate) fn hash(kind: SecretKind, secret: &SecretString) -> Result<NewSecret> {
        check_secret(kind, secret.expose())?;
        Ok(NewSecret {
            kind,
            hash: crate::secret_hash::hash(secret.expose())?,
        })
    }
}

/// A seat about to be written, validated, waiting for its secret's hash.
pub(crate) struct SeatToAdd {
    name: String,
    roles: Vec<Role>,
    overrides: Vec<Override>,
    kind: SecretKind,
    support_window_ms: Option<i64>,
}

impl SeatToAdd {
    /// A seat the owner adds: checked before anything is locked or hashed.
    pub(crate) fn seat(new: &NewSeat) -> Result<SeatToAdd> {
        let roles = check_roles(&new.roles)?;
        let name = required("display_name", &new.display_name, MAX_SEAT_NAME)?;
        check_secret(new.secret_kind, new.secret.expose())?;
        Ok(SeatToAdd {
            name,
            roles,
            overrides: new.overrides.clone(),
            kind: new.secret_kind,
            support_window_ms: None,
        })
    }

    /// A support seat for a window of `minutes`.
    pub(crate) fn support(new: &NewSupportSeat) -> Result<SeatToAdd> {
        let name = required("display_name", &new.display_name, MAX_SEAT_NAME)?;
        check_secret(new.secret_kind, new.secret.expose())?;
        let window_ms = i64::from(new.minutes) * 60_000;
        if !(60_000..=MAX_SUPPORT_WINDOW_MS).contains(&window_ms) {
            return Err(InputError::Rejected {
                field: "minutes",
                reason: "a support window lasts from 1 minute to 72 hours".into(),
            }
            .into());
        }
        Ok(SeatToAdd {
            name,
            roles: vec![Role::Support],
            overrides: Vec::new(),
            kind: new.secret_kind,
            support_window_ms: Some(window_ms),
        })
    }

    /// The seat with its secret hashed: the operation that adds it.
    pub(crate) fn with_secret(self, secret: &SecretString) -> Result<AddSeat> {
        Ok(AddSeat {
            id: Uuid::now_v7(),
            hash: crate::secret_hash::hash(secret.expose())?,
            seat: self,
        })
    }

    /// The op whose permission adding this seat needs.
    pub(crate) fn op(&self) -> Op {
        if self.support_window_ms.is_some() {
            Op::GrantSupport
        } else {
            Op::AddSeat
        }
    }
}

/// Adds a seat (or grants a support window), refusing a name a live seat already has. The new
/// seat may hold only access the adding seat holds itself.
pub(crate) struct AddSeat {
    id: Uuid,
    hash: String,
    seat: SeatToAdd,
}

/// [`AddSeat`] under the support permission (a support window).
pub(crate) struct GrantSupport(pub(crate) AddSeat);

impl AddSeat {
    fn run_as(self, cx: &mut WriteCx<'_, '_>) -> Result<Uuid> {
        let AddSeat { id, hash, seat } = self;
        let policy = policy::load(cx.conn(), cx.tenant_id())?;
        if seat.support_window_ms.is_none() {
            may_give_roles(cx.access(), &seat.roles)?;
        }
        let target = Access::merge(&seat.roles, &seat.overrides, |r| {
            policy.discount_limit_for(r)
        });
        if !cx.access().covers(&target) {
            return Err(conflict(if seat.support_window_ms.is_some() {
                "support access includes permissions this seat does not hold"
            } else {
                "a seat cannot be given access its maker does not hold"
            }));
        }
        let existing = super::all_seats(cx.conn(), cx.tenant_id())?;
        if existing
            .iter()
            .any(|s| s.revoked_at_ms.is_none() && s.display_name.eq_ignore_ascii_case(&seat.name))
        {
            return Err(conflict(format!(
                "a seat named {:?} already exists",
                seat.name
            )));
        }
        let now = cx.now();
        cx.insert(&SeatStored {
            id,
            tenant_id: cx.tenant_id(),
            display_name: seat.name,
            roles: roles_json(&seat.roles)?,
            overrides: Some(crate::error::to_json(&seat.overrides)?),
            secret_kind: Some(seat.kind.as_str().to_owned()),
            secret_hash: hash,
            totp_ct: None,
            sessions_valid_after_ms: None,
            support_until_ms: seat.support_window_ms.map(|w| now.saturating_add(w)),
            created_at_ms: now,
            updated_at_ms: Some(now),
            revoked_at_ms: None,
        })?;
        tracing::info!(seat = %id, "seat added");
        Ok(id)
    }
}

impl Command for AddSeat {
    const OP: Op = Op::AddSeat;
    type Output = Uuid;
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.add", self.id)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Uuid> {
        self.run_as(cx)
    }
}

impl Command for GrantSupport {
    const OP: Op = Op::GrantSupport;
    type Output = Uuid;
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.grant_support", self.0.id)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Uuid> {
        self.0.run_as(cx)
    }
}

/// The shop as a list of seats with one seat changed, for the keep-an-administrator check.
fn seats_with(
    cx: &ReadCx<'_>,
    seat_id: Uuid,
    change: impl Fn(&mut SeatRow),
) -> Result<Vec<SeatRow>> {
    let mut all = super::all_seats(cx.conn(), cx.tenant_id())?;
    for s in all.iter_mut().filter(|s| s.id == seat_id) {
        change(s);
    }
    Ok(all)
}

/// Replaces a seat's roles and overrides (deny wins over any grant).
pub(crate) struct SetSeatAccess {
    seat: Uuid,
    roles: Vec<Role>,
    overrides: Vec<Override>,
}

impl SetSeatAccess {
    pub(crate) fn new(seat: Uuid, roles: &[Role], overrides: &[Override]) -> Result<Self> {
        Ok(SetSeatAccess {
            seat,
            roles: check_roles(roles)?,
            overrides: overrides.to_vec(),
        })
    }
}

impl Command for SetSeatAccess {
    const OP: Op = Op::SetSeatAccess;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.set_access", self.seat)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let (seat, policy) = target_seat(cx, self.seat)?;
        if seat.revoked_at_ms.is_some() || seat.is_support() {
            return Err(conflict(
                "a revoked or support seat's roles cannot be changed",
            ));
        }
        may_give_roles(cx.access(), &self.roles)?;
        let target = Access::merge(&self.roles, &self.overrides, |r| {
            policy.discount_limit_for(r)
        });
        if !cx.access().covers(&target) {
            return Err(conflict(
                "a seat cannot be given access its maker does not hold",
            ));
        }
        let after = seats_with(cx, self.seat, |s| {
            s.roles = self.roles.clone();
            s.overrides = self.overrides.clone();
        })?;
        if !keeps_an_administrator(&after, &policy) {
            return Err(conflict(
                "the shop must keep an owner seat that can manage and revoke seats",
            ));
        }
        cx.update::<SeatStored>(
            &self.seat.to_string(),
            &[
                set("roles", &roles_json(&self.roles)?),
                set("overrides", &crate::error::to_json(&self.overrides)?),
                set("updated_at_ms", &cx.now()),
            ],
        )
    }
}

/// Writes a seat's new secret and clears its back-off.
fn write_secret(cx: &mut WriteCx<'_, '_>, seat: Uuid, secret: NewSecret) -> Result<()> {
    cx.update::<SeatStored>(
        &seat.to_string(),
        &[
            set("secret_kind", &secret.kind.as_str()),
            set("secret_hash", &secret.hash),
            set("updated_at_ms", &cx.now()),
        ],
    )?;
    let mut guard = load_guard(cx.conn(), seat)?;
    if guard.exists {
        guard.failures = 0;
        guard.last_failure_at_ms = None;
        write_guard(cx, seat, &guard)?;
    }
    Ok(())
}

/// Sets a new PIN or passphrase for another seat and clears its back-off.
pub(crate) struct ResetSeatSecret {
    pub(crate) seat: Uuid,
    pub(crate) secret: NewSecret,
}

impl Command for ResetSeatSecret {
    const OP: Op = Op::ResetSeatSecret;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.reset_secret", self.seat)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        target_seat(cx, self.seat)?;
        write_secret(cx, self.seat, self.secret)
    }
}

/// The signed-in seat's own new PIN or passphrase: `seat` is the one whose current secret the
/// engine just proved.
pub(crate) struct ChangeOwnSecret {
    pub(crate) seat: Uuid,
    pub(crate) secret: NewSecret,
}

impl Command for ChangeOwnSecret {
    const OP: Op = Op::ChangeOwnSecret;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.change_secret", self.seat)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        if cx.seat_id() != self.seat {
            return Err(Error::NotSignedIn);
        }
        write_secret(cx, self.seat, self.secret)
    }
}

/// Removes a seat's second factor and recovery codes (a lost phone); it sets one up again.
pub(crate) struct ResetSecondFactor(pub(crate) Uuid);

impl Command for ResetSecondFactor {
    const OP: Op = Op::ResetSecondFactor;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.reset_second_factor", self.0)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let (seat, _) = target_seat(cx, self.0)?;
        cx.update::<SeatStored>(
            &seat.id.to_string(),
            &[
                set("totp_ct", &None::<Vec<u8>>),
                set("updated_at_ms", &cx.now()),
            ],
        )?;
        super::replace_recovery_codes(cx, seat.id, &[])
    }
}

/// Revokes a seat: its sessions here end at once (a sale in progress is held) and it can no
/// longer sign in. The audit record, synced later, carries it to other terminals.
pub(crate) struct RevokeSeat(pub(crate) Uuid);

impl Command for RevokeSeat {
    const OP: Op = Op::RevokeSeat;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.revoke", self.0)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let (seat, policy) = target_seat(cx, self.0)?;
        if seat.revoked_at_ms.is_some() {
            return Ok(());
        }
        let now = cx.now();
        let after = seats_with(cx, self.0, |s| s.revoked_at_ms = Some(now))?;
        if !keeps_an_administrator(&after, &policy) {
            return Err(conflict(
                "the last owner seat cannot be revoked: add another owner first",
            ));
        }
        cx.update::<SeatStored>(
            &self.0.to_string(),
            &[
                set("revoked_at_ms", &now),
                set("sessions_valid_after_ms", &now),
                set("updated_at_ms", &now),
            ],
        )?;
        cx.effects()
            .end_sessions
            .push((self.0, SessionEnd::Revoked));
        tracing::info!(seat = %self.0, "seat revoked");
        Ok(())
    }
}

/// Ends every session of a seat, here now and on the other terminals when they next sync
/// (sessions begun before this instant are dead everywhere). The seat may sign in again.
pub(crate) struct SignOutEverywhere(pub(crate) Uuid);

impl Command for SignOutEverywhere {
    const OP: Op = Op::SignOutEverywhere;
    type Output = ();
    fn record(&self, _: &Env) -> Option<Record> {
        seat_record("seat.sign_out_everywhere", self.0)
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        target_seat(cx, self.0)?;
        let now = cx.now();
        cx.update::<SeatStored>(
            &self.0.to_string(),
            &[
                // A session begun in this same millisecond ends too.
                set("sessions_valid_after_ms", &now.saturating_add(1)),
                set("updated_at_ms", &now),
            ],
        )?;
        cx.effects()
            .end_sessions
            .push((self.0, SessionEnd::SignedOutEverywhere));
        Ok(())
    }
}

/// Every seat, revoked ones included, for the owner's seats screen.
pub(crate) struct GetSeatDetails;

impl Query for GetSeatDetails {
    const OP: Op = Op::SeatDetails;
    type Output = Vec<SeatDetails>;
    fn run(self, cx: &ReadCx<'_>) -> Result<Vec<SeatDetails>> {
        let conn = cx.conn();
        let policy = policy::load(conn, cx.tenant_id())?;
        let mut out = Vec::new();
        for s in super::all_seats(conn, cx.tenant_id())? {
            let guard = load_guard(conn, s.id)?;
            let access = s.access(&policy);
            let unused: i64 = conn.query_row(
                "SELECT count(*) FROM seat_recovery_code WHERE seat_id = ? AND used_at_ms IS NULL",
                [s.id.to_string()],
                |r| r.get(0),
            )?;
            out.push(SeatDetails {
                seat_id: s.id,
                display_name: s.display_name.clone(),
                roles: s.roles.clone(),
                overrides: s.overrides.clone(),
                permissions: access.permissions().collect(),
                discount_limit_bp: access.discount_limit_bp(),
                secret_kind: s.secret_kind,
                second_factor: s.totp_ct.is_some(),
                second_factor_required: policy.requires_second_factor(&s.roles),
                unused_recovery_codes: unused.clamp(0, u32::MAX.into()) as u32,
                failed_attempts: guard.failures,
                locked_until_ms: guard.locked_until(),
                last_sign_in_at_ms: guard.last_sign_in_at_ms,
                support_until_ms: s.support_until_ms,
                revoked_at_ms: s.revoked_at_ms,
                created_at_ms: s.created_at_ms,
            });
        }
        Ok(out)
    }
}
