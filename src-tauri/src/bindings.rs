//! The UI's TypeScript types, generated from the Rust types the commands take and return, so
//! the two sides cannot drift: `ui/src/lib/bindings.ts` is checked against this on every test
//! run. After changing a type: `GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings`.

use galla_client as c;
use ts_rs::{Config, TS};

use crate::commands;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ui/src/lib/bindings.ts");

fn declare<T: TS>(cfg: &Config, out: &mut String) {
    if let Some(docs) = T::docs() {
        out.push_str(&docs);
    }
    out.push_str("export ");
    out.push_str(&T::decl(cfg));
    out.push_str("\n\n");
}

fn generate() -> String {
    // Money and counts are i64 in Rust; every amount a shop handles is far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs. Do not edit: after a\n\
         // change to a type run `GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings`.\n\n",
    );
    macro_rules! all {
        ($($t:ty),* $(,)?) => { $(declare::<$t>(&cfg, &mut out);)* };
    }
    all!(
        commands::AppStatus,
        commands::LockedSeat,
        commands::CommandError,
        commands::ErrorCode,
        c::Status,
        c::SyncState,
        c::NewShop,
        c::AuditReport,
        c::RosterEntry,
        c::SecretKind,
        c::Role,
        c::Permission,
        c::SessionInfo,
        c::Restriction,
        c::SecondFactor,
        c::Product,
        c::PriceBasis,
        c::ProductRef,
        c::Cart,
        c::CartLine,
        c::CartStatus,
        c::SaleTerms,
        c::Discount,
        c::Money,
        c::Quote,
        c::QuoteLine,
        c::DocumentKind,
        c::Supply,
        c::FinalizeRequest,
        c::PaymentInput,
        c::Invoice,
        c::InvoiceLine,
        c::Payment,
        c::Supplier,
        crate::admin_commands::AuditExport,
        c::SeatDetails,
        c::NewSeat,
        c::Override,
        c::NewSupportSeat,
        c::SecurityEvent,
        c::ShopPolicy,
        c::ShopSettings,
        c::ShopDetails,
        c::TurnoverBand,
        c::AuditQuery,
        c::AuditEntry,
        c::AuditPage,
        crate::admin_commands::PolicyView,
        c::GstState,
        c::InvoiceSummary,
        c::NewCreditNote,
        c::ReturnLine,
        c::Settlement,
        c::CreditNote,
        c::CreditNoteLine,
        c::NewCustomer,
        c::CustomerView,
        c::LedgerPayment,
        c::LedgerEntry,
        c::Statement,
        c::DayReport,
        c::NumberRange,
        c::TaxTotals,
        c::HsnRow,
        c::NewProduct,
        c::ImportReport,
        c::RowError,
    );
    out.trim_end().to_owned() + "\n"
}

#[test]
fn bindings_match_the_rust_types() {
    let fresh = generate();
    if std::env::var_os("GALLA_WRITE_BINDINGS").is_some() {
        std::fs::write(FILE, &fresh).expect("write ui/src/lib/bindings.ts");
        return;
    }
    let committed = std::fs::read_to_string(FILE).unwrap_or_default();
    assert!(
        committed == fresh,
        "ui/src/lib/bindings.ts is out of date: run \
         GALLA_WRITE_BINDINGS=1 cargo test -p galla-desktop bindings, and commit it"
    );
}
