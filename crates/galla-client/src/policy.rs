//! The shop's session policy, set by the owner: idle timeouts and discount limits per role, and
//! which roles must sign in with a second factor. Defaults are the domain's; the policy stores
//! only what the owner changed.

use std::collections::{BTreeMap, BTreeSet};

use galla_domain::Role;
use serde::{Deserialize, Serialize};

use crate::error::InputError;

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
