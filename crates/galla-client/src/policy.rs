//! The shop's session policy, set by the owner: idle timeouts and discount limits per role, and
//! which roles must sign in with a second factor. Defaults are the domain's; the policy stores
//! only what the owner changed.
//!
//! Tables: `shop_policy`.

use std::collections::{BTreeMap, BTreeSet};

use galla_domain::{Permission, Role};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::{Error, InputError, Result};
use crate::ops::{Command, Op, Query};
use crate::rows::{set, table};

/// The shortest idle timeout an owner may set (the UI counts down the last 30 s of it).
pub const MIN_IDLE_TIMEOUT_MS: i64 = 30_000;
/// The longest: a session ends at its absolute lifetime anyway.
pub const MAX_IDLE_TIMEOUT_MS: i64 = galla_domain::session::ABSOLUTE_LIFETIME_MS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ShopPolicy {
    /// Per-role idle timeout in milliseconds; roles not listed use the default.
    pub idle_timeout_ms: BTreeMap<Role, i64>,
    /// Per-role discount ceiling in basis points; roles not listed use the default.
    pub discount_limit_bp: BTreeMap<Role, u32>,
    /// Roles whose seats must use TOTP (RFC 6238) to sign in.
    pub second_factor_roles: BTreeSet<Role>,
}

impl ShopPolicy {
    pub fn idle_timeout_for(&self, role: Role) -> i64 {
        self.idle_timeout_ms
            .get(&role)
            .copied()
            .unwrap_or_else(|| role.default_idle_timeout_ms())
    }

    pub fn discount_limit_for(&self, role: Role) -> u32 {
        self.discount_limit_bp
            .get(&role)
            .copied()
            .unwrap_or_else(|| role.default_discount_limit_bp())
    }

    /// A seat idles out at the shortest timeout of its roles.
    pub fn idle_timeout(&self, roles: &[Role]) -> i64 {
        galla_domain::session::idle_timeout_ms(roles, |r| self.idle_timeout_for(r))
    }

    pub fn requires_second_factor(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.second_factor_roles.contains(r))
    }

    pub fn validate(&self) -> Result<(), InputError> {
        for (role, ms) in &self.idle_timeout_ms {
            if !(MIN_IDLE_TIMEOUT_MS..=MAX_IDLE_TIMEOUT_MS).contains(ms) {
                return Err(InputError::Rejected {
                    field: "idle_timeout_ms",
                    reason: format!(
                        "{role}: {ms} ms is outside 30 seconds to 12 hours ({MIN_IDLE_TIMEOUT_MS}..={MAX_IDLE_TIMEOUT_MS} ms)"
                    ),
                });
            }
        }
        for (role, bp) in &self.discount_limit_bp {
            if *bp > 10_000 {
                return Err(InputError::Rejected {
                    field: "discount_limit_bp",
                    reason: format!("{role}: {bp} basis points is more than 100%"),
                });
            }
        }
        Ok(())
    }
}

table! {
    /// The owner's changes to the session policy, as JSON.
    struct ShopPolicyRow in "shop_policy", key id {
        id: Uuid,
        policy: String,
        updated_at_ms: i64,
    }
}

/// The shop's session policy as stored (the defaults when the owner changed nothing).
pub(crate) fn load(conn: &rusqlite::Connection, tenant_id: Uuid) -> Result<ShopPolicy> {
    let json: Option<String> = conn
        .prepare_cached("SELECT policy FROM shop_policy WHERE id = ?")?
        .query_row([tenant_id.to_string()], |r| r.get(0))
        .optional()?;
    match json {
        None => Ok(ShopPolicy::default()),
        Some(j) => serde_json::from_str(&j).map_err(|_| Error::DatabaseDamaged {
            detail: "the shop's session policy is unreadable".into(),
        }),
    }
}

/// The shop's session policy as it applies now (defaults filled in by the getters).
pub(crate) struct GetPolicy;

impl Query for GetPolicy {
    const OP: Op = Op::SessionInfo;
    type Output = ShopPolicy;
    fn run(self, cx: &ReadCx<'_>) -> Result<ShopPolicy> {
        load(cx.conn(), cx.tenant_id())
    }
}

/// Sets idle timeouts, discount limits and which roles need a second factor.
pub(crate) struct SetPolicy(ShopPolicy);

impl SetPolicy {
    pub(crate) fn new(policy: &ShopPolicy) -> Result<SetPolicy> {
        policy.validate()?;
        Ok(SetPolicy(policy.clone()))
    }
}

impl Command for SetPolicy {
    const OP: Op = Op::SetPolicy;
    type Output = ();
    fn record(&self, env: &Env) -> Option<Record> {
        Some(Record::new("shop.set_policy", "shop_policy", env.tenant_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        // Limits and second-factor rules shape every role's access: only a seat holding all of
        // it (an owner) may change them.
        if !Permission::ALL.iter().all(|p| cx.access().allows(*p)) {
            return Err(
                InputError::Conflict("only an owner may change the session policy".into()).into(),
            );
        }
        let tenant_id = cx.tenant_id();
        let exists = cx.conn().query_row(
            "SELECT count(*) FROM shop_policy WHERE id = ?",
            [tenant_id.to_string()],
            |r| r.get::<_, i64>(0),
        )? > 0;
        let json = crate::error::to_json(&self.0)?;
        if exists {
            cx.update::<ShopPolicyRow>(
                &tenant_id.to_string(),
                &[set("policy", &json), set("updated_at_ms", &cx.now())],
            )
        } else {
            cx.insert(&ShopPolicyRow {
                id: tenant_id,
                policy: json,
                updated_at_ms: cx.now(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_changes_override_defaults_and_out_of_range_is_refused() {
        let mut p = ShopPolicy::default();
        assert_eq!(p.idle_timeout_for(Role::CounterStaff), 8 * 60_000);
        p.idle_timeout_ms.insert(Role::CounterStaff, 60_000);
        assert_eq!(p.idle_timeout(&[Role::Owner, Role::CounterStaff]), 60_000);
        assert!(p.validate().is_ok());
        p.idle_timeout_ms.insert(Role::Owner, 29_999);
        assert!(p.validate().is_err());
        let mut d = ShopPolicy::default();
        d.discount_limit_bp.insert(Role::Manager, 10_001);
        assert!(d.validate().is_err());
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ShopPolicy>(&json).unwrap(), p);
    }
}
