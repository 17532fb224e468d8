//! One error type for the engine. Every message says what went wrong and what to do, and none
//! carries key material, PII or SQL text that could hold either.

use std::path::PathBuf;

use galla_proto::ChainBreak;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no usable OS keychain ({backend}): {detail}. {hint} Galla keeps its database key only \
         in the keychain and will not start without one."
    )]
    KeychainUnavailable {
        backend: String,
        detail: String,
        hint: &'static str,
    },

    #[error(
        "the keychain has no '{entry}' for this terminal (install {install_id}). The key was \
         deleted or the keychain was reset: restore the keychain from backup or use the owner's \
         recovery kit; without it the local database cannot be opened."
    )]
    KeyMissing {
        entry: &'static str,
        install_id: String,
    },

    #[error(
        "the keychain entry '{entry}' is not a valid Galla key (wrong length or format); it was \
         altered outside Galla. Restore the keychain from backup or use the recovery kit."
    )]
    KeyDamaged { entry: &'static str },

    #[error(
        "there is no recovery kit at {}: the owner makes one (Settings, or `galla-cli recovery-kit`) \
         while the keychain still works; without it, restore the keychain from backup",
        .path.display()
    )]
    NoRecoveryKit { path: PathBuf },

    #[error(
        "the recovery kit cannot be read ({detail}): it was altered or is not a kit; restore \
         `recovery.kit` from a backup of the data folder"
    )]
    RecoveryKitDamaged { detail: String },

    #[error(
        "this recovery kit belongs to another Galla install, not the shop in this folder: use \
         the kit that was made in this folder"
    )]
    RecoveryKitNotThisTerminal,

    #[error(
        "a recovery code is 25 letters and digits (five groups of five, like 7K2QM-0A1BC-…): \
         check what was typed"
    )]
    RecoveryCodeMalformed,

    #[error(
        "that recovery code does not open this kit: check it symbol by symbol (O and 0, I and 1 \
         are the same), and that it is the code given with the newest kit"
    )]
    RecoveryCodeWrong,

    #[error("no shop is set up in {}: create one with `galla-cli init` or the app's first-run screen", .data_dir.display())]
    NotInitialised { data_dir: PathBuf },

    #[error("a shop is already set up in {}; refusing to overwrite it", .data_dir.display())]
    AlreadyInitialised { data_dir: PathBuf },

    #[error(
        "the key in the keychain does not open {}: either this is not this terminal's database, \
         the keychain entry was replaced, or the start of the file is damaged. Restore the file \
         or the keychain from backup.", .path.display()
    )]
    KeyDoesNotOpenDatabase { path: PathBuf },

    #[error(
        "{} is truncated ({size} bytes, not a whole number of 4096-byte pages): restore it from \
         backup", .path.display()
    )]
    DatabaseTruncated { path: PathBuf, size: u64 },

    #[error(
        "the database is damaged ({detail}): restore it from backup and run `galla-cli doctor`"
    )]
    DatabaseDamaged { detail: String },

    #[error(
        "the database has schema version {found} but this Galla supports up to {supported}: \
         install the newer Galla that wrote it"
    )]
    DatabaseTooNew { found: i64, supported: i64 },

    #[error("upgrading the database schema failed ({0}); nothing was changed")]
    Migration(String),

    #[error("{0}")]
    Invalid(#[from] InputError),

    #[error(
        "{table}.{column} of row {row_id} does not decrypt: the value was altered, copied from \
         another row, or its key version is unknown"
    )]
    Undecryptable {
        table: &'static str,
        column: &'static str,
        row_id: String,
    },

    #[error("the audit chain is broken: {0}")]
    AuditChain(#[from] ChainBreak),

    #[error("not found: {0}")]
    NotFound(String),

    #[error("nobody is signed in: sign in with your seat and PIN")]
    NotSignedIn,

    #[error("the screen is locked: {seat} unlocks with their PIN, or another seat signs in")]
    SessionLocked { seat: String },

    #[error("the session ended after 12 hours: sign in again")]
    SessionExpired,

    #[error("this seat may not {action}: ask the owner if it should")]
    PermissionDenied { action: &'static str },

    #[error(
        "enter your PIN or passphrase again to {action} (sensitive acts need it every 5 minutes)"
    )]
    ReauthRequired { action: &'static str },

    #[error("wrong PIN, passphrase or code{}", match .attempts_before_wait {
        0 => String::new(),
        n => format!(": {n} more attempt(s) before a wait"),
    })]
    WrongSecret { attempts_before_wait: u32 },

    #[error(
        "too many wrong attempts for this seat: try again in {retry_in_secs} s, or ask the owner to reset its PIN"
    )]
    LockedOut { retry_in_secs: i64 },

    #[error(
        "this seat signs in with a code from its authenticator app (or a recovery code) as well"
    )]
    SecondFactorRequired,

    #[error(
        "this seat must set up two-step sign-in before it can {action}: the owner requires it for its role"
    )]
    SecondFactorEnrollmentRequired { action: &'static str },

    #[error("this seat has been revoked and can no longer sign in; ask the owner")]
    SeatRevoked,

    #[error("this seat was signed out everywhere by the owner: sign in again")]
    SignedOutEverywhere,

    #[error("the support window has ended; the owner can grant a new one")]
    SupportWindowClosed,

    #[error(
        "this terminal has been disabled by the owner; only an owner can sign in to enable it again"
    )]
    TerminalDisabled,

    #[error(
        "a discount of {asked_bp} basis points is above this seat's limit of {limit_bp}: ask a manager"
    )]
    DiscountAboveLimit { asked_bp: u32, limit_bp: u32 },

    #[error(
        "this takes the customer's udhaar to {balance_after}, over their credit limit of {limit}: \
         a seat allowed to exceed credit limits must ring it up"
    )]
    CreditLimit {
        limit: galla_domain::Money,
        balance_after: galla_domain::Money,
    },

    #[error(
        "the shop's cloud could not be reached: {detail}. Sales go on being recorded here and \
         are sent when it can be reached"
    )]
    CloudUnreachable { detail: String },

    #[error("the shop's cloud refused: {message}")]
    CloudRefused {
        code: galla_proto::api::ErrorCode,
        message: String,
    },

    #[error(
        "the shop's cloud answered something the sync protocol does not allow ({detail}); \
         nothing was changed here. Check the server address, or report it"
    )]
    CloudProtocol { detail: String },

    #[error(
        "this shop is not linked to a cloud: the owner links it, or enroll this terminal with a code"
    )]
    NotLinked,

    #[error("this shop is already linked to its cloud")]
    AlreadyLinked,

    #[error(
        "the owner had this terminal wiped: its keys are erased from the keychain and its data \
         can no longer be opened here"
    )]
    TerminalWiped,

    #[error(
        "the cloud holds this terminal's audit records up to {server_seq}, but this database ends \
         at {local_head}: it was restored from an older copy or records were removed. Nothing \
         is sent until the owner looks into it"
    )]
    HistoryBehindCloud { local_head: u64, server_seq: u64 },

    #[error("sync alarm, the owner must look: {detail}")]
    CloudLogAlarm { detail: String },

    #[error("{what} is already taken ({detail}): choose another")]
    Duplicate {
        /// The field a person would change, as the table's unique key names it (`sku`,
        /// `barcode`, ...).
        what: &'static str,
        detail: String,
    },

    #[error(
        "a cryptographic step failed ({what}); nothing was changed. If it happens again, the \
         machine's random source or crypto library is broken: report it"
    )]
    Crypto { what: &'static str },

    #[error("the secure connection to the shop's cloud could not be set up ({detail})")]
    Tls { detail: String },

    #[error(
        "the terminal's clock is out of range ({detail}): set the computer's date and time \
         correctly"
    )]
    Clock { detail: String },

    #[error(
        "this change is too large for one audit record ({detail}): split it (import fewer rows \
         at a time)"
    )]
    RecordTooLarge { detail: String },

    #[error("an internal error in Galla ({0}); nothing was changed. Please report it")]
    Internal(&'static str),

    #[error("database error: {0}")]
    Storage(String),

    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

/// What went wrong, for a caller to branch on (the desktop's page gets it as a string); the
/// error's message beside it is for people. Decided here, with the errors, so every caller
/// (the app, the CLI) says the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ErrorCode {
    AlreadyInitialised,
    AlreadyLinked,
    Clock,
    CloudRefused,
    /// Well-formed input that clashes with the shop's state: a duplicate, the last owner.
    Conflict,
    CreditLimit,
    DatabaseDamaged,
    DatabaseTooNew,
    DiscountAboveLimit,
    Internal,
    InvalidInput,
    KeyMissing,
    KeychainUnavailable,
    Locked,
    LockedOut,
    NotFound,
    NotInitialised,
    NotLinked,
    Offline,
    PermissionDenied,
    ReauthRequired,
    RecoveryKitUnusable,
    SecondFactorRequired,
    SecondFactorSetupRequired,
    SignedOut,
    Storage,
    SyncAlarm,
    Tampered,
    TerminalDisabled,
    TerminalWiped,
    WrongKey,
    WrongRecoveryCode,
    WrongSecret,
}

impl Error {
    /// This error's code.
    pub fn code(&self) -> ErrorCode {
        use ErrorCode as C;
        match self {
            Error::KeychainUnavailable { .. } => C::KeychainUnavailable,
            Error::KeyMissing { .. } | Error::KeyDamaged { .. } => C::KeyMissing,
            Error::NotInitialised { .. } => C::NotInitialised,
            Error::AlreadyInitialised { .. } => C::AlreadyInitialised,
            Error::KeyDoesNotOpenDatabase { .. } => C::WrongKey,
            Error::NoRecoveryKit { .. }
            | Error::RecoveryKitDamaged { .. }
            | Error::RecoveryKitNotThisTerminal => C::RecoveryKitUnusable,
            Error::RecoveryCodeMalformed | Error::RecoveryCodeWrong => C::WrongRecoveryCode,
            Error::DatabaseTruncated { .. } | Error::DatabaseDamaged { .. } => C::DatabaseDamaged,
            Error::DatabaseTooNew { .. } => C::DatabaseTooNew,
            Error::Invalid(InputError::Conflict(_)) | Error::Duplicate { .. } => C::Conflict,
            Error::Invalid(_) | Error::RecordTooLarge { .. } => C::InvalidInput,
            Error::Undecryptable { .. } | Error::AuditChain(_) => C::Tampered,
            Error::NotFound(_) => C::NotFound,
            Error::Migration(_) | Error::Storage(_) | Error::Io(_) => C::Storage,
            Error::Crypto { .. } | Error::Internal(_) => C::Internal,
            Error::Clock { .. } => C::Clock,
            Error::NotSignedIn
            | Error::SessionExpired
            | Error::SeatRevoked
            | Error::SignedOutEverywhere
            | Error::SupportWindowClosed => C::SignedOut,
            Error::SessionLocked { .. } => C::Locked,
            Error::TerminalDisabled => C::TerminalDisabled,
            Error::PermissionDenied { .. } => C::PermissionDenied,
            Error::ReauthRequired { .. } => C::ReauthRequired,
            Error::WrongSecret { .. } => C::WrongSecret,
            Error::LockedOut { .. } => C::LockedOut,
            Error::SecondFactorRequired => C::SecondFactorRequired,
            Error::SecondFactorEnrollmentRequired { .. } => C::SecondFactorSetupRequired,
            Error::DiscountAboveLimit { .. } => C::DiscountAboveLimit,
            Error::CreditLimit { .. } => C::CreditLimit,
            Error::CloudUnreachable { .. } => C::Offline,
            Error::CloudRefused { .. } | Error::CloudProtocol { .. } | Error::Tls { .. } => {
                C::CloudRefused
            }
            Error::NotLinked => C::NotLinked,
            Error::AlreadyLinked => C::AlreadyLinked,
            Error::TerminalWiped => C::TerminalWiped,
            Error::HistoryBehindCloud { .. } | Error::CloudLogAlarm { .. } => C::SyncAlarm,
        }
    }

    /// The keychain no longer holds keys that open this folder's database (missing, damaged or
    /// replaced): what the recovery kit mends (`Terminal::recover`).
    pub fn means_keys_lost(&self) -> bool {
        matches!(
            self,
            Error::KeyMissing { .. }
                | Error::KeyDamaged { .. }
                | Error::KeyDoesNotOpenDatabase { .. }
        )
    }
}

/// Bad input from a person or a file: always the caller's to fix, never a crash.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{field} is required")]
    Required { field: &'static str },
    #[error("{field} is too long ({len} characters; at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field}: {reason}")]
    Rejected { field: &'static str, reason: String },
    #[error("GSTIN: {0}")]
    Gstin(#[from] galla_domain::GstinError),
    #[error("phone: {0}")]
    Phone(#[from] galla_domain::PhoneError),
    /// The input is well-formed but conflicts with the shop's state (e.g. the last owner).
    #[error("{0}")]
    Conflict(String),
}

impl InputError {
    /// The field the input was refused for, as an import report names it.
    pub fn field(&self) -> &'static str {
        match self {
            InputError::Required { field }
            | InputError::TooLong { field, .. }
            | InputError::Rejected { field, .. } => field,
            InputError::Gstin(_) => "gstin",
            InputError::Phone(_) => "phone",
            InputError::Conflict(_) => "row",
        }
    }
}

/// A unique-key violation as SQLite reports it: its extended code, and the key's columns
/// (`UNIQUE constraint failed: product.sku`). The columns are SQLite's fixed message format,
/// never a value.
fn duplicate(f: &rusqlite::ffi::Error, msg: Option<&str>) -> Option<Error> {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    if f.extended_code != SQLITE_CONSTRAINT_UNIQUE
        && f.extended_code != SQLITE_CONSTRAINT_PRIMARYKEY
    {
        return None;
    }
    let columns = msg
        .and_then(|m| m.split_once("failed: "))
        .map_or("", |(_, c)| c)
        .trim()
        .to_owned();
    // The field a person would change: the last column of the key that is not the tenant.
    let what = columns
        .split(',')
        .map(|c| c.trim().rsplit('.').next().unwrap_or_default())
        .rfind(|c| *c != "tenant_id" && *c != "fy")
        .map(field_name)
        .unwrap_or("a unique value");
    Some(Error::Duplicate {
        what,
        detail: columns,
    })
}

/// The static name of a unique column (an error keeps `&'static str` fields).
fn field_name(column: &str) -> &'static str {
    match column {
        "sku" => "SKU",
        "barcode" => "barcode",
        "number" => "number",
        "number_in_year" => "number",
        "line_no" => "line number",
        "id" => "id",
        "day" => "day",
        "name" => "name",
        _ => "a unique value",
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        if let rusqlite::Error::SqliteFailure(f, msg) = &e
            && let Some(d) = duplicate(f, msg.as_deref())
        {
            return d;
        }
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if matches!(f.code, ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) =>
            {
                Error::DatabaseDamaged {
                    detail: f.to_string(),
                }
            }
            // Only the error's own text: never the SQL, which for some statements holds values.
            rusqlite::Error::SqlInputError { error, msg, .. } => {
                Error::Storage(format!("{error}: {msg}"))
            }
            other => Error::Storage(other.to_string()),
        }
    }
}

impl From<rusqlite_migration::Error> for Error {
    fn from(e: rusqlite_migration::Error) -> Self {
        Error::Migration(e.to_string())
    }
}

/// Trims `value` and refuses it when longer than `max` characters.
pub(crate) fn bounded(field: &'static str, value: &str, max: usize) -> Result<String, InputError> {
    let v = value.trim();
    let len = v.chars().count();
    if len > max {
        return Err(InputError::TooLong { field, len, max });
    }
    Ok(v.to_owned())
}

/// As [`bounded`], and refuses an empty value.
pub(crate) fn required(field: &'static str, value: &str, max: usize) -> Result<String, InputError> {
    let v = bounded(field, value, max)?;
    if v.is_empty() {
        return Err(InputError::Required { field });
    }
    Ok(v)
}

/// An Indian GST state code: 01-38, 97 (other territory), 99 (centre).
pub(crate) fn state_code(field: &'static str, code: Option<u8>) -> Result<Option<u8>, InputError> {
    match code {
        None => Ok(None),
        Some(c) if galla_domain::states::is_state_code(c) => Ok(Some(c)),
        Some(c) => Err(InputError::Rejected {
            field,
            reason: format!("{c} is not an Indian GST state code (01-38, 97, 99)"),
        }),
    }
}

/// Our own values as JSON text (which cannot fail for the types Galla stores; if it ever did,
/// that is a defect to report, not the user's input).
pub(crate) fn to_json(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|_| Error::Internal("encoding a value as JSON"))
}
