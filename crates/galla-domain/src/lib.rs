//! Galla's pure rules: the parts of Indian retail that can be decided from values alone.
//!
//! Nothing here does I/O, reads a clock or draws randomness, so every rule can be tested
//! exhaustively and reused unchanged by the terminal, the CLI and the cloud.

pub mod access;
pub mod codes;
pub mod fiscal;
pub mod gst;
pub mod gstin;
pub mod money;
pub mod phone;
pub mod rates;
pub mod session;
pub mod states;

pub use access::{Access, GrantRefusal, Override, Permission, Role, grant_refusal};
pub use codes::{Barcode, CodeError, Imei, ImeiSv};
pub use fiscal::{DocumentNumber, EInvoiceDocType, FinancialYear, FiscalError, TurnoverBand};
pub use gst::{BillTax, Discount, DocumentKind, LineInput, LineTax, PriceBasis, Supply, TaxError};
pub use gstin::{Gstin, GstinError};
pub use money::{Money, MoneyError};
pub use phone::{Phone, PhoneError};
pub use rates::{Rate, RateRow, RateSchedule};
pub use session::SessionState;
pub use states::{GST_STATES, GstState, state_name};
