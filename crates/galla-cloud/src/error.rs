//! The cloud's one error type. Messages say what to do; none carries a secret or a row's data.
//! What reaches a client is decided in `api::ApiError`; this type is for operators' logs.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {fix}")]
    Setup { what: String, fix: String },
    #[error("database: {}", safe_db_error(.0))]
    Database(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("schema migration failed: {0}")]
    Migration(String),
    #[error("cryptography: {0}")]
    Crypto(&'static str),
    /// Stored state that breaks the server's own rules (a damaged row, a missing log node): a
    /// bug or tampering for the operator to look at, never the client's fault.
    #[error("stored data is inconsistent: {0}")]
    Integrity(&'static str),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A database error without its DETAIL, which can quote a row's values (a unique violation
/// names the key it clashed on): the SQLSTATE, the message and the constraint are enough.
fn safe_db_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} ({}{})",
            db.message(),
            db.code().code(),
            db.constraint()
                .map(|c| format!(", constraint {c}"))
                .unwrap_or_default()
        ),
        None => e.to_string(),
    }
}

impl Error {
    /// The SQLSTATE of a database error, if it is one.
    pub fn sql_state(&self) -> Option<&tokio_postgres::error::SqlState> {
        match self {
            Error::Database(e) => e.code(),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
