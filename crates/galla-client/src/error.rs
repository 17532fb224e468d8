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

    #[error("database error: {0}")]
    Storage(String),

    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
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
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
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
        Some(c @ (1..=38 | 97 | 99)) => Ok(Some(c)),
        Some(c) => Err(InputError::Rejected {
            field,
            reason: format!("{c} is not an Indian GST state code (01-38, 97, 99)"),
        }),
    }
}
