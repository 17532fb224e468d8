//! The Galla terminal engine.
//!
//! Everything a till does that is not drawing pixels: the SQLCipher store keyed from the OS
//! keychain, the key hierarchy, the one signed write path, and the operations the desktop app
//! and the CLI both call through [`Terminal`]. It knows nothing of Tauri or of any terminal UI.
//!
//! The shape (docs/architecture.md has the map): [`Terminal`] delegates each call to the
//! `engine`, which takes its one lock, checks the session and the operation's permission, and
//! runs the operation, a value from its feature's module (`customers`, `catalogue`, `sale`,
//! `invoices`, `credit_notes`, `ledger`, `day_close`, `receipt`, `shop`, `policy`, `seats`,
//! `recovery`, `audit`, `sync::records`), over a context that cannot reach the engine.

pub mod audit;
pub mod catalogue;
pub mod clock;
pub mod credit_notes;
pub mod crypto;
mod csv_cell;
pub mod customers;
pub mod day_close;
pub mod doctor;
pub(crate) mod engine;
pub mod error;
pub mod export_file;
pub mod invoices;
pub mod keychain;
pub mod keys;
pub mod ledger;
pub mod ops;
pub mod policy;
pub mod receipt;
pub mod recovery;
pub(crate) mod rows;
pub mod sale;
pub mod seats;
pub mod secret_hash;
mod series;
pub mod shop;
pub mod signal;
pub mod store;
pub mod sync;
pub mod terminal;

pub use audit::{AuditEntry, AuditPage, AuditQuery, AuditReport};
pub use catalogue::{ImportReport, NewProduct, PriceBasis, Product, RowError};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credit_notes::{CreditNote, CreditNoteLine, NewCreditNote, ReturnLine, Settlement};
pub use crypto::SecretString;
pub use customers::{Customer, CustomerChanges, CustomerView, NewCustomer};
pub use day_close::{DayReport, HsnRow, NumberRange, TaxTotals};
pub use doctor::{DoctorReport, doctor};
pub use engine::session::{
    Restriction, SecondFactor, SecondFactorSetup, SessionInfo, SessionToken, SignedIn,
};
pub use error::{Error, ErrorCode, InputError, Result};
pub use galla_domain::gst::{Discount, DocumentKind, Supply};
pub use galla_domain::{GST_STATES, GstState, Money, Override, Permission, Role, TurnoverBand};
pub use invoices::{Buyer, Invoice, InvoiceLine, InvoiceSummary, Payment, Supplier};
pub use keychain::{MemoryKeychain, OsKeychain, SecretStore};
pub use ledger::{LedgerEntry, LedgerPayment, Statement};
pub use ops::{Gate, Op};
pub use policy::ShopPolicy;
pub use receipt::Receipt;
pub use sale::{
    Cart, CartLine, CartStatus, FinalizeRequest, NewCartLine, PaymentInput, ProductRef, Quote,
    QuoteLine, SaleEdit, SaleTerms, SaleView,
};
pub use seats::admin::NewSupportSeat;
pub use seats::{NewSeat, RosterEntry, SeatDetails, SecretKind, SecurityEvent};
pub use shop::{ShopDetails, ShopSettings};
pub use sync::cloud_client::ca_fingerprints;
pub use sync::enroll::EnrollTerminal;
pub use sync::worker::{SyncSchedule, SyncSignal, SyncWorker};
pub use sync::{
    AlertResolution, CloudAlert, CloudLink, LinkOutcome, LinkRequest, SyncAlarm, SyncReport,
};
pub use terminal::{DataDir, NewShop, RecoveryKitState, Status, SyncState, Terminal};
