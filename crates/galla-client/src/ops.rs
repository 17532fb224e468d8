//! The catalogue of engine operations and what each needs, and the two shapes an operation
//! takes: a [`Command`] (may change the shop) or a [`Query`] (reads). Each declares its `Op`,
//! so the gate is decided here, in one table, and a test runs every entry under every preset
//! role; the engine checks it before the operation runs, and the operation then sees only a
//! context (`engine::WriteCx` or `engine::ReadCx`), never the engine.

use galla_domain::Permission;
use serde::Serialize;

use crate::engine::{Env, ReadCx, Record, WriteCx};
use crate::error::Result;

/// An operation that may change the shop, run by `Engine::execute` in one transaction under
/// the engine's lock, after the session and the permission of [`Command::OP`] are checked.
/// Input is checked when the value is made (its constructor), before any lock.
pub(crate) trait Command {
    const OP: Op;
    type Output;
    /// The audit record it makes when it changes shared rows (action and entity). `None` for
    /// one that changes only this terminal's scratch state (a sale being rung up): the write
    /// path refuses it any other write. `env` names this terminal and its tenant.
    fn record(&self, env: &Env) -> Option<Record>;
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<Self::Output>;
}

/// An operation that only reads, run by `Engine::query` under the engine's lock after the
/// session and the permission of [`Query::OP`] are checked.
pub(crate) trait Query {
    const OP: Op;
    type Output;
    fn run(self, cx: &ReadCx<'_>) -> Result<Self::Output>;
}

/// What an operation needs before it may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "permission", rename_all = "snake_case")]
pub enum Gate {
    /// Nothing: what the lock screen shows before anyone signs in.
    Public,
    /// Any live session, whatever its roles (about the seat itself: lock, sign out, its PIN).
    SignedIn,
    /// A live session whose merged access allows this permission (and, for a sensitive one, a
    /// sign-in or re-authentication within the last five minutes).
    Needs(Permission),
}

macro_rules! ops {
    ($($(#[$doc:meta])* $op:ident => $gate:expr, $name:literal;)*) => {
        /// Every engine operation. Adding one means giving it a gate here and a row in the
        /// table-driven test, or that test fails.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Op { $($(#[$doc])* $op,)* }

        impl Op {
            pub const ALL: &'static [Op] = &[$(Op::$op,)*];

            pub fn gate(self) -> Gate {
                use Permission as P;
                use Gate::*;
                #[allow(unused_imports)]
                match self { $(Op::$op => $gate,)* }
            }

            /// The operation's name, as errors and the audit trail say it.
            pub fn name(self) -> &'static str {
                match self { $(Op::$op => $name,)* }
            }
        }
    };
}

ops! {
    /// Shop, terminal and schema: shown on the lock screen.
    Status => Public, "see the terminal's status";
    /// The seat tiles of the lock screen (names, roles, PIN or passphrase, second factor).
    Roster => Public, "list the seats";
    SignIn => Public, "sign in";
    /// The same seat returns to its locked session with its secret.
    Unlock => Public, "unlock";

    /// What the session may do (does not count as activity).
    SessionInfo => SignedIn, "see your session";
    /// The UI reports a keystroke or click: keeps the session from idling.
    Touch => SignedIn, "stay signed in";
    Lock => SignedIn, "lock the screen";
    SignOut => SignedIn, "sign out";
    Reauthenticate => SignedIn, "confirm your PIN";
    ChangeOwnSecret => SignedIn, "change your PIN or passphrase";
    BeginSecondFactor => SignedIn, "set up two-step sign-in";
    ConfirmSecondFactor => SignedIn, "set up two-step sign-in";

    OpenCart => Needs(P::Bill), "start a sale";
    CurrentCart => Needs(P::Bill), "see the sale";
    AddCartLine => Needs(P::Bill), "add to the sale";
    RemoveCartLine => Needs(P::Bill), "remove from the sale";
    SetLineQuantity => Needs(P::Bill), "change a quantity";
    /// The totals the till shows while the sale is made, priced as finalize would.
    QuoteCart => Needs(P::Bill), "see the sale's total";
    /// The customer and place of supply; a bill discount is also held to the seat's limit.
    SetSaleTerms => Needs(P::Bill), "set the sale's customer and bill discount";
    DiscardCart => Needs(P::Bill), "discard the sale";
    SetLineDiscount => Needs(P::Discount), "give a discount";
    /// A line sold at another price than the catalogue's (recorded for the owner).
    OverridePrice => Needs(P::PriceOverride), "change a price";
    HoldCart => Needs(P::HoldResume), "hold the sale";
    ResumeCart => Needs(P::HoldResume), "resume a held sale";
    HeldCarts => Needs(P::HoldResume), "see held sales";
    Finalize => Needs(P::Bill), "finalize the sale";
    IssueCreditNote => Needs(P::CreditNote), "issue a credit note";
    CancelInvoice => Needs(P::CancelInvoice), "cancel an invoice";
    /// A customer pays off udhaar at the counter.
    RecordLedgerPayment => Needs(P::Bill), "record an udhaar payment";
    ViewLedger => Needs(P::ViewCustomers), "see a customer's udhaar";
    SetCreditLimit => Needs(P::CreditBeyondLimit), "set a credit limit";
    /// The day's figures, and closing the day (which stores them for good).
    DayReport => Needs(P::Reports), "see or close the day";
    /// Finding an invoice by number or IMEI (for a reprint or a return).
    ViewInvoices => SignedIn, "look up invoices";

    /// Every seat sees the shop's details (they are on every bill).
    ShopSettings => SignedIn, "see the shop's settings";
    EditShopSettings => Needs(P::EditSettings), "change the shop's settings";

    /// Barcode, SKU and name lookups: every seat at the till needs them.
    FindProducts => SignedIn, "look up products";
    EditCatalogue => Needs(P::EditCatalogue), "edit the catalogue";
    ImportCatalogue => Needs(P::EditCatalogue), "import products";

    AddCustomer => Needs(P::EditCustomers), "add a customer";
    EditCustomer => Needs(P::EditCustomers), "change a customer's details";
    ViewCustomer => Needs(P::ViewCustomers), "see a customer";
    /// Contact details in full, one customer at a time, each look recorded.
    RevealCustomer => Needs(P::RevealCustomerPii), "see a customer's contact details";
    FindCustomers => Needs(P::ViewCustomers), "look up customers";
    ImportCustomers => Needs(P::EditCustomers), "import customers";
    ExportCustomers => Needs(P::ExportCustomers), "export customers";

    SeatDetails => Needs(P::ManageSeats), "see seat details";
    AddSeat => Needs(P::ManageSeats), "add a seat";
    SetSeatAccess => Needs(P::ManageSeats), "change a seat's roles";
    ResetSeatSecret => Needs(P::ManageSeats), "reset a seat's PIN";
    ResetSecondFactor => Needs(P::ManageSeats), "reset a seat's two-step sign-in";
    SetPolicy => Needs(P::ManageSeats), "change the session policy";
    AcknowledgeSecurityEvent => Needs(P::ManageSeats), "acknowledge a security event";
    RevokeSeat => Needs(P::RevokeSeats), "revoke a seat";
    SignOutEverywhere => Needs(P::RevokeSeats), "sign a seat out everywhere";
    DisableTerminal => Needs(P::RevokeSeats), "disable this terminal";
    EnableTerminal => Needs(P::RevokeSeats), "enable this terminal";
    GrantSupport => Needs(P::GrantSupport), "grant support access";
    /// The recovery kit unlocks every key of this terminal: owner only (restore), and recent.
    CreateRecoveryKit => Needs(P::Restore), "make a recovery kit";

    SecurityEvents => Needs(P::ViewAudit), "see security events";
    AuditEntries => Needs(P::ViewAudit), "read the audit trail";
    VerifyAudit => Needs(P::ViewAudit), "verify the audit trail";
    ExportAudit => Needs(P::ExportAudit), "export the audit trail";

    /// Linking a standalone shop to a cloud tenant makes the signed-in seat the cloud's owner
    /// and shares the shop's keys with it.
    LinkCloud => Needs(P::EnrollDevice), "link the shop to its cloud";
    /// Ask for a sync at once (the loop runs anyway, for every seat).
    SyncNow => Needs(P::Sync), "sync now";
    /// The cloud log's alarms are for whoever reads the audit trail.
    SyncAlarms => Needs(P::ViewAudit), "see sync alarms";
    /// So are the cloud's alerts (conflicts between counters, refused changes).
    CloudAlerts => Needs(P::ViewAudit), "see the cloud's alerts";
    /// Answering one is the owner's, like acknowledging a security event.
    ResolveCloudAlert => Needs(P::ManageSeats), "resolve a cloud alert";
}

impl Op {
    /// Whether the call shows a person at the till (resets the idle timer). Polling what the
    /// session is must not keep it alive.
    pub fn counts_as_activity(self) -> bool {
        !matches!(self, Op::SessionInfo | Op::Status | Op::Roster)
    }

    pub fn is_sensitive(self) -> bool {
        matches!(self.gate(), Gate::Needs(p) if p.is_sensitive())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_and_ops_are_listed_once() {
        let ops: BTreeSet<_> = Op::ALL.iter().collect();
        assert_eq!(ops.len(), Op::ALL.len());
    }

    #[test]
    fn polling_is_not_activity_but_acting_is() {
        assert!(!Op::SessionInfo.counts_as_activity());
        assert!(Op::AddCartLine.counts_as_activity());
        assert!(Op::RevokeSeat.is_sensitive());
        assert!(!Op::AddCartLine.is_sensitive());
    }
}
