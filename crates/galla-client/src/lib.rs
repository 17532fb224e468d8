//! The Galla terminal engine.
//!
//! Everything a till does that is not drawing pixels: the SQLCipher store keyed from the OS
//! keychain, the key hierarchy, the one signed write path, and the operations the desktop app
//! and the CLI both call through [`Terminal`]. It knows nothing of Tauri or of any terminal UI.

pub mod audit;
pub mod carts;
pub mod catalogue;
pub mod clock;
pub mod credit_notes;
pub mod crypto;
pub mod customers;
pub mod day_close;
pub mod doctor;
pub mod error;
pub mod invoices;
pub mod keychain;
pub mod keys;
pub mod ledger;
pub mod ops;
pub mod policy;
pub mod receipt;
pub mod recovery;
pub mod seat_admin;
pub mod seats;
pub mod secret_hash;
mod series;
pub mod sessions;
pub mod shop;
pub mod store;
pub mod sync;
pub mod terminal;
pub mod write;

pub use audit::{AuditEntry, AuditPage, AuditQuery, AuditReport};
pub use carts::{Cart, CartLine, CartStatus, NewCartLine};
pub use catalogue::{ImportReport, NewProduct, PriceBasis, Product, RowError};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credit_notes::{CreditNote, CreditNoteLine, NewCreditNote, ReturnLine, Settlement};
pub use crypto::SecretString;
pub use customers::{Customer, CustomerChanges, CustomerView, NewCustomer};
pub use day_close::{DayReport, HsnRow, NumberRange, TaxTotals};
pub use doctor::{DoctorReport, doctor};
pub use error::{Error, InputError, Result};
pub use galla_domain::gst::{Discount, DocumentKind, Supply};
pub use galla_domain::{GST_STATES, GstState, Money, Override, Permission, Role, TurnoverBand};
pub use invoices::InvoiceSummary;
pub use invoices::{
    FinalizeRequest, Invoice, InvoiceLine, Payment, PaymentInput, ProductRef, Quote, QuoteLine,
    SaleTerms, Supplier,
};
pub use keychain::{MemoryKeychain, OsKeychain, SecretStore};
pub use ledger::{LedgerEntry, LedgerPayment, Statement};
pub use ops::{Gate, Op};
pub use policy::ShopPolicy;
pub use receipt::Receipt;
pub use seat_admin::NewSupportSeat;
pub use seats::{NewSeat, RosterEntry, SeatDetails, SecretKind, SecurityEvent};
pub use sessions::{
    Restriction, SecondFactor, SecondFactorSetup, SessionInfo, SessionToken, SignedIn,
};
pub use shop::{ShopDetails, ShopSettings};
pub use sync::cloud_client::ca_fingerprints;
pub use sync::enroll::EnrollTerminal;
pub use sync::worker::{SyncSchedule, SyncSignal, SyncWorker};
pub use sync::{
    AlertResolution, CloudAlert, CloudLink, LinkOutcome, LinkRequest, SyncAlarm, SyncReport,
};
pub use terminal::{DataDir, NewShop, RecoveryKitState, Status, SyncState, Terminal};
