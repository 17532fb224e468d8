//! Who may do what: the permission catalogue, the preset roles, and how a seat's roles and
//! overrides merge. Pure data and set arithmetic; the engine checks the result on every call.
//!
//! Merge rule: a seat may do what any of its roles grants or an override grants, unless an
//! override denies it: **deny wins**. The discount limit is the highest of the seat's roles.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Everything the engine can be asked to do, one permission per kind of act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Permission {
    /// Ring up a sale and finalize it.
    Bill,
    /// Apply a line or bill discount, up to the role's limit.
    Discount,
    /// Sell at a price other than the catalogue's.
    PriceOverride,
    /// Park a cart and resume it later.
    HoldResume,
    /// Issue a credit note (a return) against an invoice.
    CreditNote,
    /// Record the cancellation of an invoice.
    CancelInvoice,
    /// Sell on credit beyond the customer's limit.
    CreditBeyondLimit,
    /// Open the cash drawer without a sale.
    OpenCashDrawer,
    /// See customers with PII masked.
    ViewCustomers,
    /// Add and edit customers.
    EditCustomers,
    /// Show a customer's phone, GSTIN, email and address in full.
    RevealCustomerPii,
    /// Export customers with PII.
    ExportCustomers,
    /// Erase a customer's personal data on request (DPDP Act 2023).
    EraseCustomer,
    /// Add and edit products, prices and stock.
    EditCatalogue,
    /// Add seats, change roles and overrides, reset PINs and second factors, set the shop's
    /// session policy (idle timeouts, discount limits, who needs TOTP).
    ManageSeats,
    /// Revoke a seat, sign it out everywhere, disable (or re-enable) this terminal.
    RevokeSeats,
    /// Read the audit trail.
    ViewAudit,
    /// Export the audit trail.
    ExportAudit,
    /// Change shop settings (details, address, terminal series). Security policy is
    /// [`Permission::ManageSeats`].
    EditSettings,
    /// Make a backup.
    Backup,
    /// Restore a backup over this terminal's data.
    Restore,
    /// Read reports and run the day close.
    Reports,
    /// Run sync now and see its state.
    Sync,
    /// Enroll this terminal with the cloud, or link a standalone shop.
    EnrollDevice,
    /// Grant support (operator) access for a time window.
    GrantSupport,
}

impl Permission {
    /// Every permission, in catalogue order.
    pub const ALL: [Permission; 25] = [
        Permission::Bill,
        Permission::Discount,
        Permission::PriceOverride,
        Permission::HoldResume,
        Permission::CreditNote,
        Permission::CancelInvoice,
        Permission::CreditBeyondLimit,
        Permission::OpenCashDrawer,
        Permission::ViewCustomers,
        Permission::EditCustomers,
        Permission::RevealCustomerPii,
        Permission::ExportCustomers,
        Permission::EraseCustomer,
        Permission::EditCatalogue,
        Permission::ManageSeats,
        Permission::RevokeSeats,
        Permission::ViewAudit,
        Permission::ExportAudit,
        Permission::EditSettings,
        Permission::Backup,
        Permission::Restore,
        Permission::Reports,
        Permission::Sync,
        Permission::EnrollDevice,
        Permission::GrantSupport,
    ];

    /// Acts that need a fresh re-authentication (within the last five minutes) even when allowed.
    pub fn is_sensitive(self) -> bool {
        // No wildcard: a new permission must be classified here to compile.
        match self {
            Permission::RevokeSeats
            | Permission::ManageSeats
            | Permission::ExportCustomers
            | Permission::EraseCustomer
            | Permission::ExportAudit
            | Permission::Restore
            | Permission::EnrollDevice
            | Permission::GrantSupport => true,
            Permission::Bill
            | Permission::Discount
            | Permission::PriceOverride
            | Permission::HoldResume
            | Permission::CreditNote
            | Permission::CancelInvoice
            | Permission::CreditBeyondLimit
            | Permission::OpenCashDrawer
            | Permission::ViewCustomers
            | Permission::EditCustomers
            | Permission::RevealCustomerPii
            | Permission::EditCatalogue
            | Permission::ViewAudit
            | Permission::EditSettings
            | Permission::Backup
            | Permission::Reports
            | Permission::Sync => false,
        }
    }
}

/// The preset roles a seat can hold (several at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Role {
    Owner,
    Manager,
    CounterStaff,
    Accountant,
    StockKeeper,
    ReadOnly,
    /// Operator access the owner grants for a time window; every act is stamped as support.
    Support,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Owner,
        Role::Manager,
        Role::CounterStaff,
        Role::Accountant,
        Role::StockKeeper,
        Role::ReadOnly,
        Role::Support,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::CounterStaff => "counter_staff",
            Role::Accountant => "accountant",
            Role::StockKeeper => "stock_keeper",
            Role::ReadOnly => "read_only",
            Role::Support => "support",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.name() == name)
    }

    /// What the role grants. The matrix in docs/security.md is this function written out.
    pub fn grants(self) -> &'static [Permission] {
        use Permission as P;
        match self {
            Role::Owner => &Permission::ALL,
            Role::Manager => &[
                P::Bill,
                P::Discount,
                P::PriceOverride,
                P::HoldResume,
                P::CreditNote,
                P::CancelInvoice,
                P::CreditBeyondLimit,
                P::OpenCashDrawer,
                P::ViewCustomers,
                P::EditCustomers,
                P::RevealCustomerPii,
                P::EditCatalogue,
                P::RevokeSeats,
                P::ViewAudit,
                P::Backup,
                P::Reports,
                P::Sync,
            ],
            Role::CounterStaff => &[
                P::Bill,
                P::Discount,
                P::HoldResume,
                P::ViewCustomers,
                P::EditCustomers,
                P::Sync,
            ],
            Role::Accountant => &[
                P::ViewCustomers,
                P::RevealCustomerPii,
                P::ViewAudit,
                P::ExportAudit,
                P::Reports,
                P::Sync,
            ],
            Role::StockKeeper => &[P::EditCatalogue, P::Reports, P::Sync],
            Role::ReadOnly => &[P::ViewCustomers, P::ViewAudit, P::Reports],
            // Support diagnoses and repairs; it never sees PII, moves money or manages people.
            Role::Support => &[
                P::ViewAudit,
                P::Reports,
                P::Sync,
                P::Backup,
                P::EditSettings,
            ],
        }
    }

    /// Default discount ceiling in basis points of the line or bill value (owner-adjustable).
    pub fn default_discount_limit_bp(self) -> u32 {
        match self {
            Role::Owner => 10_000,
            Role::Manager => 2_000,
            Role::CounterStaff => 500,
            Role::Accountant | Role::StockKeeper | Role::ReadOnly | Role::Support => 0,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A per-seat exception to its roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "effect", content = "permission", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Override {
    Grant(Permission),
    Deny(Permission),
}

/// What one seat may do, merged from its roles and overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    allowed: BTreeSet<Permission>,
    discount_limit_bp: u32,
}

impl Access {
    /// Merges roles and overrides; deny overrides win over every grant.
    pub fn merge(roles: &[Role], overrides: &[Override], limits: impl Fn(Role) -> u32) -> Access {
        let mut allowed: BTreeSet<Permission> = roles
            .iter()
            .flat_map(|r| r.grants().iter().copied())
            .collect();
        for o in overrides {
            if let Override::Grant(p) = o {
                allowed.insert(*p);
            }
        }
        for o in overrides {
            if let Override::Deny(p) = o {
                allowed.remove(p);
            }
        }
        let discount_limit_bp = if allowed.contains(&Permission::Discount) {
            roles.iter().map(|r| limits(*r)).max().unwrap_or(0)
        } else {
            0
        };
        Access {
            allowed,
            discount_limit_bp,
        }
    }

    /// Merge with each role's default discount limit.
    pub fn with_default_limits(roles: &[Role], overrides: &[Override]) -> Access {
        Access::merge(roles, overrides, Role::default_discount_limit_bp)
    }

    pub fn allows(&self, p: Permission) -> bool {
        self.allowed.contains(&p)
    }

    /// Whether a discount of `bp` basis points is within this seat's limit.
    pub fn allows_discount_bp(&self, bp: u32) -> bool {
        bp == 0 || (self.allows(Permission::Discount) && bp <= self.discount_limit_bp)
    }

    pub fn discount_limit_bp(&self) -> u32 {
        self.discount_limit_bp
    }

    pub fn permissions(&self) -> impl Iterator<Item = Permission> + '_ {
        self.allowed.iter().copied()
    }

    /// Whether this seat holds every permission (an owner, unless something is denied to it).
    pub fn holds_everything(&self) -> bool {
        Permission::ALL.iter().all(|p| self.allows(*p))
    }

    /// Whether this seat holds everything `other` does, its discount limit included.
    pub fn covers(&self, other: &Access) -> bool {
        other.permissions().all(|p| self.allows(p))
            && other.discount_limit_bp() <= self.discount_limit_bp()
    }
}

/// Why a seat may not make a change to another seat's access, by the two rules beyond the
/// permission matrix that stop a seat raising itself or others above it. The terminal checks
/// them before it writes and the cloud again when the record arrives (issue 21): one rule, in
/// one place, for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantRefusal {
    /// The owner role is a promise of everything: only a seat holding everything gives it.
    #[error("only an owner may give the owner role")]
    OwnerRole,
    /// The seat being changed holds access the changing seat does not.
    #[error(
        "the seat holds access its changer does not; only a seat holding all of it may change it"
    )]
    TargetHoldsMore,
    /// The access being given goes beyond what the giver holds.
    #[error("a seat cannot be given access its maker does not hold")]
    BeyondTheGiver,
}

/// Checks `actor` changing a seat whose access is now `current` (`None` for a new seat) to
/// `roles` merged into `given` (`None` when its access is not changed: a reset, a revocation).
pub fn grant_refusal(
    actor: &Access,
    current: Option<&Access>,
    given: Option<(&[Role], &Access)>,
) -> Option<GrantRefusal> {
    if current.is_some_and(|c| !actor.covers(c)) {
        return Some(GrantRefusal::TargetHoldsMore);
    }
    let (roles, access) = given?;
    if roles.contains(&Role::Owner) && !actor.holds_everything() {
        return Some(GrantRefusal::OwnerRole);
    }
    (!actor.covers(access)).then_some(GrantRefusal::BeyondTheGiver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_a_holder_of_everything_gives_the_owner_role_or_changes_an_owner() {
        let owner = Access::with_default_limits(&[Role::Owner], &[]);
        let manager_admin = Access::with_default_limits(
            &[Role::Manager],
            &[Override::Grant(Permission::ManageSeats)],
        );
        let staff = Access::with_default_limits(&[Role::CounterStaff], &[]);
        let as_owner = Access::with_default_limits(&[Role::Owner], &[]);
        let roles: &[Role] = &[Role::Owner];
        assert_eq!(grant_refusal(&owner, None, Some((roles, &as_owner))), None);
        assert_eq!(
            grant_refusal(&manager_admin, None, Some((roles, &as_owner))),
            Some(GrantRefusal::OwnerRole)
        );
        assert_eq!(
            grant_refusal(&manager_admin, Some(&owner), None),
            Some(GrantRefusal::TargetHoldsMore)
        );
        let staff_roles: &[Role] = &[Role::CounterStaff];
        assert_eq!(
            grant_refusal(&manager_admin, None, Some((staff_roles, &staff))),
            None
        );
        let exporter = Access::with_default_limits(
            &[Role::CounterStaff],
            &[Override::Grant(Permission::ExportCustomers)],
        );
        assert_eq!(
            grant_refusal(&manager_admin, Some(&staff), Some((staff_roles, &exporter))),
            Some(GrantRefusal::BeyondTheGiver)
        );
        // An owner denied one permission no longer holds everything.
        let owner_denied =
            Access::with_default_limits(&[Role::Owner], &[Override::Deny(Permission::ExportAudit)]);
        assert!(!owner_denied.holds_everything());
        assert_eq!(
            grant_refusal(&owner_denied, None, Some((roles, &as_owner))),
            Some(GrantRefusal::OwnerRole)
        );
    }

    #[test]
    fn all_lists_every_permission_once() {
        let set: BTreeSet<_> = Permission::ALL.into_iter().collect();
        assert_eq!(set.len(), Permission::ALL.len());
        // Serde names are the catalogue's names; each is distinct.
        let names: BTreeSet<String> = Permission::ALL
            .iter()
            .map(|p| serde_json::to_string(p).unwrap())
            .collect();
        assert_eq!(names.len(), Permission::ALL.len());
    }

    /// The matrix, written out independently of `Role::grants`: if either changes alone, this
    /// fails. Columns follow `Permission::ALL`; rows are owner, manager, counter staff,
    /// accountant, stock keeper, read-only, support.
    #[test]
    fn preset_roles_match_the_published_matrix() {
        #[rustfmt::skip]
        let matrix: [(Role, &str); 7] = [
            (Role::Owner,        "YYYYYYYYYYYYYYYYYYYYYYYYY"),
            (Role::Manager,      "YYYYYYYYYYY..Y.YY..Y.YY.."),
            (Role::CounterStaff, "YY.Y....YY............Y.."),
            (Role::Accountant,   "........Y.Y.....YY...YY.."),
            (Role::StockKeeper,  ".............Y.......YY.."),
            (Role::ReadOnly,     "........Y.......Y....Y..."),
            (Role::Support,      "................Y.YY.YY.."),
        ];
        for (role, row) in matrix {
            assert_eq!(row.len(), Permission::ALL.len(), "{role}");
            let access = Access::with_default_limits(&[role], &[]);
            for (p, cell) in Permission::ALL.iter().zip(row.chars()) {
                assert_eq!(access.allows(*p), cell == 'Y', "{role} / {p:?}");
            }
        }
    }

    #[test]
    fn deny_override_beats_a_role_grant_and_a_grant_override() {
        let a = Access::with_default_limits(
            &[Role::Manager, Role::Accountant],
            &[
                Override::Grant(Permission::ExportAudit),
                Override::Deny(Permission::ExportAudit),
                Override::Deny(Permission::Bill),
            ],
        );
        assert!(!a.allows(Permission::ExportAudit));
        assert!(!a.allows(Permission::Bill));
        assert!(a.allows(Permission::Reports));
        let g = Access::with_default_limits(
            &[Role::CounterStaff],
            &[Override::Grant(Permission::OpenCashDrawer)],
        );
        assert!(g.allows(Permission::OpenCashDrawer));
    }

    #[test]
    fn discount_limit_is_the_highest_role_and_vanishes_with_the_permission() {
        let staff = Access::with_default_limits(&[Role::CounterStaff], &[]);
        assert!(staff.allows_discount_bp(500));
        assert!(!staff.allows_discount_bp(501));
        let both = Access::with_default_limits(&[Role::CounterStaff, Role::Manager], &[]);
        assert_eq!(both.discount_limit_bp(), 2_000);
        let denied =
            Access::with_default_limits(&[Role::Manager], &[Override::Deny(Permission::Discount)]);
        assert!(!denied.allows_discount_bp(1));
        assert!(
            denied.allows_discount_bp(0),
            "no discount needs no permission"
        );
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()), Some(r));
        }
        assert_eq!(Role::parse("superuser"), None);
    }

    fn any_role() -> impl Strategy<Value = Role> {
        proptest::sample::select(Role::ALL.to_vec())
    }
    fn any_permission() -> impl Strategy<Value = Permission> {
        proptest::sample::select(Permission::ALL.to_vec())
    }
    fn any_override() -> impl Strategy<Value = Override> {
        (any_permission(), any::<bool>()).prop_map(|(p, g)| {
            if g {
                Override::Grant(p)
            } else {
                Override::Deny(p)
            }
        })
    }

    proptest! {
        /// For any roles and overrides: allowed = (role grants ∪ grant overrides) − deny overrides.
        #[test]
        fn merge_follows_the_rule(roles in proptest::collection::vec(any_role(), 0..4),
                                  overrides in proptest::collection::vec(any_override(), 0..8)) {
            let a = Access::with_default_limits(&roles, &overrides);
            for p in Permission::ALL {
                let granted = roles.iter().any(|r| r.grants().contains(&p)) || overrides.contains(&Override::Grant(p));
                let denied = overrides.contains(&Override::Deny(p));
                prop_assert_eq!(a.allows(p), granted && !denied, "{:?}", p);
            }
        }

        /// Adding a role never removes a permission (without overrides).
        #[test]
        fn more_roles_never_mean_less(roles in proptest::collection::vec(any_role(), 0..4), extra in any_role()) {
            let before = Access::with_default_limits(&roles, &[]);
            let mut more = roles.clone();
            more.push(extra);
            let after = Access::with_default_limits(&more, &[]);
            for p in before.permissions() {
                prop_assert!(after.allows(p));
            }
            prop_assert!(after.discount_limit_bp() >= before.discount_limit_bp());
        }
    }
}
