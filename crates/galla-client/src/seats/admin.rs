//! What owners (and managers, for revocation) do to seats: add them, change their roles and
//! overrides, reset PINs and second factors, revoke them, sign them out everywhere, grant a
//! support window, disable this terminal, and set the shop's session policy. Each is one
//! audited write, checked by [`Terminal::authorize`] first.
//!
//! Two rules beyond the permission matrix stop a seat from raising itself or others above it:
//! a seat may give, change or take away only access it holds itself (an owner holds all), and
//! the shop always keeps at least one live owner seat that can manage and revoke seats.

use galla_domain::{Access, Override, Permission, Role};
use rusqlite::types::Value;
use serde::Deserialize;
use uuid::Uuid;

use crate::crypto::SecretString;
use crate::error::{Error, InputError, Result, required};
use crate::ops::Op;
use crate::policy::ShopPolicy;
use crate::seats::{self, NewSeat, SeatDetails, SeatRow, SecretKind, SecurityEvent};
use crate::sessions::SessionToken;
use crate::terminal::Terminal;
use crate::write::{Operation, UnitOfWork};

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

fn id(v: Uuid) -> Value {
    Value::Text(v.to_string())
}

fn json(v: &impl serde::Serialize) -> Result<Value> {
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| Error::Storage(e.to_string()))
}

/// Whether `a` holds every permission (an owner, unless something is denied to it).
fn holds_everything(a: &Access) -> bool {
    Permission::ALL.iter().all(|p| a.allows(*p))
}

/// Only a seat holding everything may make an owner: the role's name is a promise.
fn may_give_roles(actor: &Access, roles: &[Role]) -> Result<()> {
    if roles.contains(&Role::Owner) && !holds_everything(actor) {
        return Err(conflict("only an owner may give the owner role"));
    }
    Ok(())
}

/// Whether `actor` holds everything `target` does.
fn covers(actor: &Access, target: &Access) -> bool {
    target.permissions().all(|p| actor.allows(p))
        && target.discount_limit_bp() <= actor.discount_limit_bp()
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

pub(crate) fn replace_recovery_codes(
    uow: &mut UnitOfWork<'_>,
    seat_id: Uuid,
    codes: &[SecretString],
    now: i64,
) -> Result<()> {
    let old: Vec<String> = {
        let mut stmt = uow
            .conn()
            .prepare_cached("SELECT id FROM seat_recovery_code WHERE seat_id = ?")?;
        let rows = stmt.query_map([seat_id.to_string()], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for o in old {
        uow.delete("seat_recovery_code", &o)?;
    }
    for c in codes {
        let h = seats::recovery_code_hash(seat_id, c.expose())
            .ok_or_else(|| Error::Storage("a new recovery code is malformed".into()))?;
        let rid = Uuid::now_v7();
        uow.insert(
            "seat_recovery_code",
            &rid.to_string(),
            &[
                ("id", id(rid)),
                ("seat_id", id(seat_id)),
                ("code_hash", Value::Blob(h.to_vec())),
                ("created_at_ms", Value::Integer(now)),
            ],
        )?;
    }
    Ok(())
}

/// A seat row about to be written, validated and hashed.
struct NewSeatRow {
    name: String,
    roles: Vec<Role>,
    overrides: Vec<Override>,
    kind: SecretKind,
    hash: String,
    support_until_ms: Option<i64>,
}

impl Terminal {
    /// Writes a new seat (refusing a name a live seat already has) as one audited operation.
    fn create_seat(
        &self,
        store: &mut crate::store::Store,
        auth: &crate::sessions::Authorized,
        action: &'static str,
        row: NewSeatRow,
    ) -> Result<Uuid> {
        let existing = seats::all_seats(store.reader(), self.tenant_id)?;
        if existing
            .iter()
            .any(|s| s.revoked_at_ms.is_none() && s.display_name.eq_ignore_ascii_case(&row.name))
        {
            return Err(conflict(format!(
                "a seat named {:?} already exists",
                row.name
            )));
        }
        let seat_id = Uuid::now_v7();
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Self::seat_op(action, seat_id),
            |uow| {
                uow.insert(
                    "seat",
                    &seat_id.to_string(),
                    &[
                        ("id", id(seat_id)),
                        ("tenant_id", id(tenant_id)),
                        ("display_name", Value::Text(row.name.clone())),
                        ("roles", json(&row.roles)?),
                        ("overrides", json(&row.overrides)?),
                        ("secret_kind", Value::Text(row.kind.as_str().into())),
                        ("secret_hash", Value::Text(row.hash.clone())),
                        (
                            "support_until_ms",
                            row.support_until_ms.map_or(Value::Null, Value::Integer),
                        ),
                        ("created_at_ms", Value::Integer(now)),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )?;
        Ok(seat_id)
    }

    fn seat_op(action: &'static str, seat: Uuid) -> Operation {
        Operation {
            action,
            entity_type: "seat",
            entity_id: seat.to_string(),
        }
    }

    /// Adds a seat. The new seat may hold only access the adding seat holds itself.
    pub fn add_seat(&self, token: &SessionToken, new: &NewSeat) -> Result<Uuid> {
        let roles = check_roles(&new.roles)?;
        let name = required("display_name", &new.display_name, MAX_SEAT_NAME)?;
        seats::check_secret(new.secret_kind, new.secret.expose())?;
        // Authorized before the (deliberately slow) hash, and again after it.
        drop(self.authorize(token, Op::AddSeat)?);
        let hash = crate::secret_hash::hash(new.secret.expose())?;
        let (auth, mut store) = self.authorize(token, Op::AddSeat)?;
        may_give_roles(&auth.access, &roles)?;
        let policy = self.policy_in(&store)?;
        let target = Access::merge(&roles, &new.overrides, |r| policy.discount_limit_for(r));
        if !covers(&auth.access, &target) {
            return Err(conflict(
                "a seat cannot be given access its maker does not hold",
            ));
        }
        let seat_id = self.create_seat(
            &mut store,
            &auth,
            "seat.add",
            NewSeatRow {
                name,
                roles,
                overrides: new.overrides.clone(),
                kind: new.secret_kind,
                hash,
                support_until_ms: None,
            },
        )?;
        tracing::info!(seat = %seat_id, "seat added");
        Ok(seat_id)
    }

    /// Loads a seat another seat is about to change, refusing when it holds more than the actor.
    fn target_seat(
        &self,
        store: &crate::store::Store,
        actor: &Access,
        seat_id: Uuid,
    ) -> Result<(SeatRow, ShopPolicy)> {
        let policy = self.policy_in(store)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, seat_id)?;
        if !covers(actor, &seat.access(&policy)) {
            return Err(conflict(format!(
                "{} holds access this seat does not; only a seat holding all of it may change it",
                seat.display_name
            )));
        }
        Ok((seat, policy))
    }

    /// Replaces a seat's roles and overrides (deny wins over any grant).
    pub fn set_seat_access(
        &self,
        token: &SessionToken,
        seat_id: Uuid,
        roles: &[Role],
        overrides: &[Override],
    ) -> Result<()> {
        let roles = check_roles(roles)?;
        let (auth, mut store) = self.authorize(token, Op::SetSeatAccess)?;
        let (seat, policy) = self.target_seat(&store, &auth.access, seat_id)?;
        if seat.revoked_at_ms.is_some() || seat.is_support() {
            return Err(conflict(
                "a revoked or support seat's roles cannot be changed",
            ));
        }
        may_give_roles(&auth.access, &roles)?;
        let target = Access::merge(&roles, overrides, |r| policy.discount_limit_for(r));
        if !covers(&auth.access, &target) {
            return Err(conflict(
                "a seat cannot be given access its maker does not hold",
            ));
        }
        let mut after = seats::all_seats(store.reader(), self.tenant_id)?;
        for s in after.iter_mut().filter(|s| s.id == seat_id) {
            s.roles = roles.clone();
            s.overrides = overrides.to_vec();
        }
        if !keeps_an_administrator(&after, &policy) {
            return Err(conflict(
                "the shop must keep an owner seat that can manage and revoke seats",
            ));
        }
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Self::seat_op("seat.set_access", seat_id),
            |uow| {
                uow.update(
                    "seat",
                    &seat_id.to_string(),
                    &[
                        ("roles", json(&roles)?),
                        ("overrides", json(&overrides)?),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )
    }

    /// Sets a new PIN or passphrase for a seat and clears its back-off.
    pub fn reset_seat_secret(
        &self,
        token: &SessionToken,
        seat_id: Uuid,
        kind: SecretKind,
        secret: &SecretString,
    ) -> Result<()> {
        seats::check_secret(kind, secret.expose())?;
        drop(self.authorize(token, Op::ResetSeatSecret)?);
        let hash = crate::secret_hash::hash(secret.expose())?;
        let (auth, mut store) = self.authorize(token, Op::ResetSeatSecret)?;
        let (seat, _) = self.target_seat(&store, &auth.access, seat_id)?;
        self.write_secret(
            &mut store,
            &auth.actor,
            &seat,
            kind,
            hash,
            auth.now,
            "seat.reset_secret",
        )
    }

    /// The signed-in seat changes its own PIN or passphrase, proving the current one.
    pub fn change_own_secret(
        &self,
        token: &SessionToken,
        current: &SecretString,
        kind: SecretKind,
        new: &SecretString,
    ) -> Result<()> {
        seats::check_secret(kind, new.expose())?;
        let (auth, store) = self.authorize(token, Op::ChangeOwnSecret)?;
        let seat = seats::load_seat(store.reader(), self.tenant_id, auth.seat_id)?;
        drop(store);
        // Counted like a sign-in: an open session is no licence to guess the current PIN.
        self.prove_own_secret(&seat, current)?;
        let hash = crate::secret_hash::hash(new.expose())?;
        let (auth, mut store) = self.authorize(token, Op::ChangeOwnSecret)?;
        self.write_secret(
            &mut store,
            &auth.actor,
            &seat,
            kind,
            hash,
            auth.now,
            "seat.change_secret",
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn write_secret(
        &self,
        store: &mut crate::store::Store,
        actor: &crate::write::Actor,
        seat: &SeatRow,
        kind: SecretKind,
        hash: String,
        now: i64,
        action: &'static str,
    ) -> Result<()> {
        let kind = kind.as_str();
        let signer = self.signer();
        store.write(
            &signer,
            self.clock.as_ref(),
            actor,
            Self::seat_op(action, seat.id),
            |uow| {
                uow.update(
                    "seat",
                    &seat.id.to_string(),
                    &[
                        ("secret_kind", Value::Text(kind.into())),
                        ("secret_hash", Value::Text(hash)),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )?;
                let mut guard = seats::load_guard(uow.conn(), seat.id)?;
                if guard.exists {
                    guard.failures = 0;
                    guard.last_failure_at_ms = None;
                    seats::write_guard(uow, seat.id, &guard)?;
                }
                Ok(())
            },
        )
    }

    /// Removes a seat's second factor and recovery codes (a lost phone); it sets one up again.
    pub fn reset_second_factor(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::ResetSecondFactor)?;
        let (seat, _) = self.target_seat(&store, &auth.access, seat_id)?;
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Self::seat_op("seat.reset_second_factor", seat.id),
            |uow| {
                uow.update(
                    "seat",
                    &seat.id.to_string(),
                    &[
                        ("totp_ct", Value::Null),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )?;
                replace_recovery_codes(uow, seat.id, &[], now)
            },
        )
    }

    /// Revokes a seat: its sessions here end at once (a sale in progress is held) and it can
    /// no longer sign in. The audit record, synced later, carries it to other terminals.
    pub fn revoke_seat(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::RevokeSeat)?;
        let (seat, policy) = self.target_seat(&store, &auth.access, seat_id)?;
        if seat.revoked_at_ms.is_some() {
            return Ok(());
        }
        let mut after = seats::all_seats(store.reader(), self.tenant_id)?;
        for s in after.iter_mut().filter(|s| s.id == seat_id) {
            s.revoked_at_ms = Some(auth.now);
        }
        if !keeps_an_administrator(&after, &policy) {
            return Err(conflict(
                "the last owner seat cannot be revoked: add another owner first",
            ));
        }
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Self::seat_op("seat.revoke", seat_id),
            |uow| {
                uow.update(
                    "seat",
                    &seat_id.to_string(),
                    &[
                        ("revoked_at_ms", Value::Integer(now)),
                        ("sessions_valid_after_ms", Value::Integer(now)),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )?;
        let ended = self.end_sessions_of(&mut store, seat_id, now, true)?;
        tracing::info!(seat = %seat_id, sessions_ended = ended, "seat revoked");
        Ok(())
    }

    /// Ends every session of a seat, here now and on the other terminals when they next sync
    /// (sessions begun before this instant are dead everywhere). The seat may sign in again.
    pub fn sign_out_everywhere(&self, token: &SessionToken, seat_id: Uuid) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::SignOutEverywhere)?;
        let (_, _) = self.target_seat(&store, &auth.access, seat_id)?;
        let (signer, now) = (self.signer(), auth.now);
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            Self::seat_op("seat.sign_out_everywhere", seat_id),
            |uow| {
                uow.update(
                    "seat",
                    &seat_id.to_string(),
                    &[
                        // A session begun in this same millisecond ends too.
                        (
                            "sessions_valid_after_ms",
                            Value::Integer(now.saturating_add(1)),
                        ),
                        ("updated_at_ms", Value::Integer(now)),
                    ],
                )
            },
        )?;
        self.end_sessions_of(&mut store, seat_id, now, false)?;
        Ok(())
    }

    /// Disables this terminal: every session ends except those of seats that may enable it
    /// again, and only such seats can sign in until they do.
    pub fn disable_terminal(&self, token: &SessionToken) -> Result<()> {
        self.set_disabled(token, Op::DisableTerminal, true)
    }

    pub fn enable_terminal(&self, token: &SessionToken) -> Result<()> {
        self.set_disabled(token, Op::EnableTerminal, false)
    }

    fn set_disabled(&self, token: &SessionToken, op: Op, disable: bool) -> Result<()> {
        let (auth, mut store) = self.authorize(token, op)?;
        let (signer, now, device) = (self.signer(), auth.now, self.device_id);
        let action = if disable {
            "device.disable"
        } else {
            "device.enable"
        };
        let operation = Operation {
            action,
            entity_type: "device",
            entity_id: device.to_string(),
        };
        store.write(
            &signer,
            self.clock.as_ref(),
            &auth.actor,
            operation,
            |uow| {
                uow.update(
                    "device",
                    &device.to_string(),
                    &[(
                        "disabled_at_ms",
                        if disable {
                            Value::Integer(now)
                        } else {
                            Value::Null
                        },
                    )],
                )
            },
        )?;
        self.disabled
            .store(disable, std::sync::atomic::Ordering::SeqCst);
        if disable {
            self.end_sessions_for_disable(&mut store, now)?;
        }
        tracing::info!(disabled = disable, "terminal state changed");
        Ok(())
    }

    /// Grants support access for a window: a support seat that can sign in until it closes,
    /// whose every act is stamped `support`, and whose sessions end when it closes.
    pub fn grant_support(&self, token: &SessionToken, new: &NewSupportSeat) -> Result<Uuid> {
        let name = required("display_name", &new.display_name, MAX_SEAT_NAME)?;
        seats::check_secret(new.secret_kind, new.secret.expose())?;
        let window_ms = i64::from(new.minutes) * 60_000;
        if !(60_000..=MAX_SUPPORT_WINDOW_MS).contains(&window_ms) {
            return Err(InputError::Rejected {
                field: "minutes",
                reason: "a support window lasts from 1 minute to 72 hours".into(),
            }
            .into());
        }
        drop(self.authorize(token, Op::GrantSupport)?);
        let hash = crate::secret_hash::hash(new.secret.expose())?;
        let (auth, mut store) = self.authorize(token, Op::GrantSupport)?;
        let policy = self.policy_in(&store)?;
        let support = Access::merge(&[Role::Support], &[], |r| policy.discount_limit_for(r));
        if !covers(&auth.access, &support) {
            return Err(conflict(
                "support access includes permissions this seat does not hold",
            ));
        }
        let until = auth.now.saturating_add(window_ms);
        let seat_id = self.create_seat(
            &mut store,
            &auth,
            "seat.grant_support",
            NewSeatRow {
                name,
                roles: vec![Role::Support],
                overrides: Vec::new(),
                kind: new.secret_kind,
                hash,
                support_until_ms: Some(until),
            },
        )?;
        Ok(seat_id)
    }

    /// Every seat, revoked ones included, for the owner's seats screen.
    pub fn seat_details(&self, token: &SessionToken) -> Result<Vec<SeatDetails>> {
        let (_auth, store) = self.authorize(token, Op::SeatDetails)?;
        let policy = self.policy_in(&store)?;
        let conn = store.reader();
        let mut out = Vec::new();
        for s in seats::all_seats(conn, self.tenant_id)? {
            let guard = seats::load_guard(conn, s.id)?;
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

    /// The shop's session policy as it applies now (defaults filled in by the getters).
    pub fn policy(&self, token: &SessionToken) -> Result<ShopPolicy> {
        let (_auth, store) = self.authorize(token, Op::SessionInfo)?;
        self.policy_in(&store)
    }

    /// Sets idle timeouts, discount limits and which roles need a second factor.
    pub fn set_policy(&self, token: &SessionToken, policy: &ShopPolicy) -> Result<()> {
        policy.validate()?;
        let (auth, mut store) = self.authorize(token, Op::SetPolicy)?;
        // Limits and second-factor rules shape every role's access: only a seat holding all of
        // it (an owner) may change them.
        if !holds_everything(&auth.access) {
            return Err(conflict("only an owner may change the session policy"));
        }
        let exists = store.reader().query_row(
            "SELECT count(*) FROM shop_policy WHERE id = ?",
            [self.tenant_id.to_string()],
            |r| r.get::<_, i64>(0),
        )? > 0;
        let (signer, tenant_id, now) = (self.signer(), self.tenant_id, auth.now);
        let op = Operation {
            action: "shop.set_policy",
            entity_type: "shop_policy",
            entity_id: tenant_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            let fields = [
                ("policy", json(policy)?),
                ("updated_at_ms", Value::Integer(now)),
            ];
            if exists {
                uow.update("shop_policy", &tenant_id.to_string(), &fields)
            } else {
                let mut all = vec![("id", id(tenant_id))];
                all.extend(fields);
                uow.insert("shop_policy", &tenant_id.to_string(), &all)
            }
        })
    }

    /// Suspicious sign-ins, recovery codes used: newest first.
    pub fn security_events(&self, token: &SessionToken) -> Result<Vec<SecurityEvent>> {
        let (_auth, store) = self.authorize(token, Op::SecurityEvents)?;
        seats::security_events(store.reader(), self.tenant_id)
    }

    pub fn acknowledge_security_event(&self, token: &SessionToken, event_id: Uuid) -> Result<()> {
        let (auth, mut store) = self.authorize(token, Op::AcknowledgeSecurityEvent)?;
        let ours: i64 = store.reader().query_row(
            "SELECT count(*) FROM security_event WHERE id = ? AND tenant_id = ?",
            [event_id.to_string(), self.tenant_id.to_string()],
            |r| r.get(0),
        )?;
        if ours == 0 {
            return Err(Error::NotFound(format!("security event {event_id}")));
        }
        let (signer, now) = (self.signer(), auth.now);
        let op = Operation {
            action: "security_event.acknowledge",
            entity_type: "security_event",
            entity_id: event_id.to_string(),
        };
        store.write(&signer, self.clock.as_ref(), &auth.actor, op, |uow| {
            uow.update(
                "security_event",
                &event_id.to_string(),
                &[("acknowledged_at_ms", Value::Integer(now))],
            )
        })
    }
}
