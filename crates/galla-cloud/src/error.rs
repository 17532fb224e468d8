//! The cloud's one error type. Messages say what to do; none carries a secret or a row's data.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what}: {fix}")]
    Setup { what: String, fix: String },
    #[error("database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("schema migration failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
