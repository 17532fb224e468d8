//! Every table of a terminal's store, named once, with how it is shared (issue 21, deliver 6).
//!
//! A table's sharing used to be spread over five lists in two crates (the facts, the cloud's
//! merge policy, the tables a pull replaces, the stamped tables and their unshared columns,
//! the tables a pull never writes); a table added to one and forgotten in another was a hole
//! no test saw. Now the terminal (its write path, its pull, its store's authorizer) and the
//! cloud (its derivation of shared state, its change feed) all read this registry, and a test
//! in galla-client fails when a migration makes a table this file does not name.
//!
//! Who signs: today every record is signed by the device that made it, and the cloud checks
//! the acting seat against [`SharedTable::writers`] by its roster. A seat's own signature on
//! the roster and privileged tables is issue 21's deliver 1, still to come.

use galla_domain::access::Permission;

/// The column holding a stamped row's hybrid-logical-clock stamp (`crate::hlc`).
pub const STAMP_COLUMN: &str = "hlc";

/// Columns that record when a row was last changed. Changing only these (and a table's
/// [`SharedTable::local`] columns) is no edit of the shared row: it takes no new stamp, and it
/// needs none of the table's writer rights (a sale's stock count moves with `Bill` alone).
pub const TOUCH_COLUMNS: &[&str] = &["updated_at_ms"];

/// How a shared table's rows become the shop's shared state in the cloud, and come back to
/// every terminal in a pull.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Written once by the terminal that made it and never changed (invoices and their lines,
    /// payments, credit notes, ledger entries, day closes, sale events). The goods left the
    /// shop: a fact is taken whoever made it; one made by a seat revoked in the meantime is
    /// flagged to the owner. The change feed does not send a terminal its own.
    Fact,
    /// Merged column by column, the later stamp in [`STAMP_COLUMN`] winning: the terminal
    /// stamps every edit with its clock, so edits of different fields on two counters both
    /// survive. A pull replaces the row, keeping the `local` columns.
    Stamped,
    /// Merged column by column, ordered by the record (its time, its device): rarely edited
    /// settings, the later edit winning.
    Latest,
    /// The roster (seats and their credentials): the cloud applies a change only if the acting
    /// seat held the right for that action (ManageSeats; RevokeSeats for revoke and sign-out
    /// everywhere; GrantSupport), or is changing only its own credentials.
    Roster,
    /// Written by the cloud alone (its alerts for the owner); a terminal takes it as pulled.
    CloudOnly,
}

/// A table the shop's terminals share through the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedTable {
    pub name: &'static str,
    pub merge: Merge,
    /// Columns each terminal keeps for itself: never merged by the cloud, kept by a pull, and
    /// no edit of the shared row (a product's stock is counted per terminal for now).
    pub local: &'static [&'static str],
    /// Columns whose values never enter an audit record (which is exported and shown): secret
    /// hashes and second-factor secrets. The record holds a digest; the value travels beside it.
    pub secret: &'static [&'static str],
    /// For [`Merge::Stamped`] and [`Merge::Latest`]: a seat changing a shared column must hold
    /// one of these (by the cloud's roster when the record arrives), or the change is refused
    /// and the owner alerted. Empty for the others (facts are taken; the roster's right depends
    /// on the action; the cloud's own tables take no pushes).
    pub writers: &'static [Permission],
}

impl SharedTable {
    /// Whether changing `columns` edits the shared row: a column that is neither one of this
    /// table's local columns, nor a [`TOUCH_COLUMNS`] one, nor the stamp.
    pub fn is_edit<'a>(&self, mut columns: impl Iterator<Item = &'a str>) -> bool {
        columns
            .any(|c| !self.local.contains(&c) && !TOUCH_COLUMNS.contains(&c) && c != STAMP_COLUMN)
    }
}

const fn fact(name: &'static str) -> SharedTable {
    SharedTable {
        name,
        merge: Merge::Fact,
        local: &[],
        secret: &[],
        writers: &[],
    }
}

/// The shared tables.
pub const SHARED_TABLES: &[SharedTable] = &[
    fact("invoice"),
    fact("invoice_line"),
    fact("invoice_imei"),
    fact("payment"),
    fact("credit_note"),
    fact("credit_note_line"),
    fact("credit_note_imei"),
    fact("ledger_entry"),
    fact("day_close"),
    // What an owner looks for in a sale: a line taken off, a sale thrown away, a price changed.
    fact("sale_event"),
    SharedTable {
        name: "customer",
        merge: Merge::Stamped,
        local: &[],
        secret: &[],
        // A credit limit is set with CreditBeyondLimit (`customer.set_credit_limit`).
        writers: &[Permission::EditCustomers, Permission::CreditBeyondLimit],
    },
    SharedTable {
        name: "product",
        merge: Merge::Stamped,
        local: &["stock"],
        secret: &[],
        writers: &[Permission::EditCatalogue],
    },
    SharedTable {
        name: "product_barcode",
        merge: Merge::Latest,
        local: &[],
        secret: &[],
        writers: &[Permission::EditCatalogue],
    },
    SharedTable {
        name: "tenant",
        merge: Merge::Latest,
        local: &[],
        secret: &[],
        writers: &[Permission::EditSettings],
    },
    SharedTable {
        name: "shop_policy",
        merge: Merge::Latest,
        local: &[],
        secret: &[],
        writers: &[Permission::ManageSeats],
    },
    // A terminal writes only its own row, never removes it and never changes its enrolled key
    // (the cloud's `device_row_refusal`); it enrolls by no seat (the owner's code is the
    // authority), and a seat disables or enables it with RevokeSeats.
    SharedTable {
        name: "device",
        merge: Merge::Latest,
        local: &[],
        secret: &[],
        writers: &[Permission::RevokeSeats],
    },
    // An owner's answer to an alert: the later one wins on every counter.
    SharedTable {
        name: "alert_resolution",
        merge: Merge::Latest,
        local: &[],
        secret: &[],
        writers: &[Permission::ManageSeats],
    },
    SharedTable {
        name: "seat",
        merge: Merge::Roster,
        local: &[],
        secret: &["secret_hash", "totp_ct"],
        writers: &[],
    },
    SharedTable {
        name: "seat_recovery_code",
        merge: Merge::Roster,
        local: &[],
        secret: &["code_hash"],
        writers: &[],
    },
    SharedTable {
        name: "owner_alert",
        merge: Merge::CloudOnly,
        local: &[],
        secret: &[],
        writers: &[],
    },
];

/// How a table that is never shared is kept on its terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// A sale being rung up: written in a unit of work's transaction, durably, but never imaged
    /// into a record and never shared.
    Scratch,
    /// This terminal's own rows, imaged into its audit records like any write but never shared
    /// and never written by a pull: its series counters, sign-in guards, security events, keys,
    /// cloud link, recovery kit, and who looked at a customer's details.
    Own,
    /// The write path's own journal: the signed audit log and the outbox.
    Journal,
    /// Sync's bookkeeping, written only through the store's bookkeeping gate; `by_pull` ones are
    /// written by applying a pull too (its staged pages and cursor).
    Bookkeeping { by_pull: bool },
    /// A full-text index kept by triggers on a shared table (and its shadow tables).
    SearchIndex,
}

/// A table of a terminal's store that is not shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalTable {
    pub name: &'static str,
    pub kept: Kept,
}

const fn kept(name: &'static str, kept: Kept) -> TerminalTable {
    TerminalTable { name, kept }
}

/// The tables each terminal keeps for itself.
pub const TERMINAL_TABLES: &[TerminalTable] = &[
    kept("cart", Kept::Scratch),
    kept("cart_line", Kept::Scratch),
    kept("doc_series", Kept::Own),
    kept("seat_guard", Kept::Own),
    kept("security_event", Kept::Own),
    kept("tenant_key", Kept::Own),
    kept("cloud_link", Kept::Own),
    kept("recovery_kit", Kept::Own),
    kept("pii_access", Kept::Own),
    kept("audit_log", Kept::Journal),
    kept("outbox", Kept::Journal),
    kept("sync_state", Kept::Bookkeeping { by_pull: true }),
    kept("pull_inbox", Kept::Bookkeeping { by_pull: true }),
    kept("sync_alarm", Kept::Bookkeeping { by_pull: false }),
    kept("customer_fts", Kept::SearchIndex),
    kept("product_fts", Kept::SearchIndex),
];

/// The shared table named `name`, if it is one.
pub fn shared(name: &str) -> Option<&'static SharedTable> {
    SHARED_TABLES.iter().find(|t| t.name == name)
}

/// The terminal-only table named `name`, if it is one. An FTS5 index's shadow tables
/// (`<index>_data`, `_idx`, `_content`, `_docsize`, `_config`) count as their index.
pub fn terminal_only(name: &str) -> Option<&'static TerminalTable> {
    TERMINAL_TABLES.iter().find(|t| {
        t.name == name
            || (t.kept == Kept::SearchIndex
                && name.strip_prefix(t.name).is_some_and(|rest| {
                    ["_data", "_idx", "_content", "_docsize", "_config"].contains(&rest)
                }))
    })
}

/// Whether `name` is a fact table ([`Merge::Fact`]).
pub fn is_fact(name: &str) -> bool {
    shared(name).is_some_and(|t| t.merge == Merge::Fact)
}

/// The fact tables' names.
pub fn facts() -> impl Iterator<Item = &'static str> {
    SHARED_TABLES
        .iter()
        .filter(|t| t.merge == Merge::Fact)
        .map(|t| t.name)
}

/// Whether applying a pull may write `name`: a shared table, a search index its triggers keep,
/// or the pull's own bookkeeping. Never a terminal's own records, keys or secrets.
pub fn pull_may_write(name: &str) -> bool {
    shared(name).is_some()
        || terminal_only(name).is_some_and(|t| {
            matches!(
                t.kept,
                Kept::SearchIndex | Kept::Bookkeeping { by_pull: true }
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_named_once() {
        let mut names: Vec<&str> = SHARED_TABLES
            .iter()
            .map(|t| t.name)
            .chain(TERMINAL_TABLES.iter().map(|t| t.name))
            .collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a table is named twice");
    }

    #[test]
    fn only_merged_tables_name_writers() {
        for t in SHARED_TABLES {
            let merged = matches!(t.merge, Merge::Stamped | Merge::Latest);
            assert_eq!(!t.writers.is_empty(), merged, "{}", t.name);
        }
    }

    #[test]
    fn local_and_touch_columns_are_no_edit() {
        let product = shared("product").unwrap();
        assert!(!product.is_edit(["stock", "updated_at_ms"].into_iter()));
        assert!(!product.is_edit(std::iter::empty()));
        assert!(product.is_edit(["stock", "price_paise"].into_iter()));
        assert!(shared("customer").unwrap().is_edit(["stock"].into_iter()));
    }

    #[test]
    fn a_pull_writes_shared_state_and_its_own_bookkeeping_only() {
        assert!(pull_may_write("customer"));
        assert!(pull_may_write("invoice"));
        assert!(pull_may_write("owner_alert"));
        assert!(pull_may_write("customer_fts_data"));
        assert!(pull_may_write("pull_inbox"));
        for own in [
            "audit_log",
            "outbox",
            "tenant_key",
            "cloud_link",
            "doc_series",
            "cart",
            "seat_guard",
            "security_event",
            "sync_alarm",
            "recovery_kit",
            "pii_access",
            "customer_ftsx",
            "nothing",
        ] {
            assert!(!pull_may_write(own), "{own}");
        }
    }
}
