//! The server's settings: a TOML file, then environment variables `GALLA_CLOUD_<KEY>` over its
//! top-level keys (containers set secrets through the environment). Unknown keys are errors, so
//! a misspelt setting is caught at start, not ignored. Database URLs hold passwords: `Debug`
//! never shows them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::rate_limit::RateLimitConfig;

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where HTTPS listens.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PostgreSQL as `galla_app` (owns nothing, cannot bypass row-level security).
    pub database_url: String,
    /// PostgreSQL as `galla_owner`; when set, migrations run at start.
    #[serde(default)]
    pub migrate_url: Option<String>,
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// PEM certificate chain and private key.
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    /// The 32-byte master key that wraps tenant keys (0600).
    pub kms_master_key_file: PathBuf,
    /// The 32-byte Ed25519 seed that signs log checkpoints (0600).
    pub log_signing_key_file: PathBuf,
    /// The checkpoint key's name and the prefix of every log's origin line.
    #[serde(default = "default_log_name")]
    pub log_name: String,
    /// The longest a request may take, in seconds.
    #[serde(default = "default_request_timeout_seconds")]
    pub request_timeout_seconds: u64,
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 8443))
}
fn default_pool_size() -> usize {
    32
}
fn default_request_timeout_seconds() -> u64 {
    30
}
fn default_log_name() -> String {
    "galla-cloud".into()
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &"<hidden>")
            .field(
                "migrate_url",
                &self.migrate_url.as_ref().map(|_| "<hidden>"),
            )
            .field("pool_size", &self.pool_size)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("kms_master_key_file", &self.kms_master_key_file)
            .field("log_signing_key_file", &self.log_signing_key_file)
            .field("log_name", &self.log_name)
            .field("request_timeout_seconds", &self.request_timeout_seconds)
            .field("rate_limits", &self.rate_limits)
            .finish()
    }
}

/// Top-level keys the environment may set, and whether each is a number.
const ENV_KEYS: [(&str, bool); 10] = [
    ("listen", false),
    ("database_url", false),
    ("migrate_url", false),
    ("pool_size", true),
    ("tls_cert", false),
    ("tls_key", false),
    ("kms_master_key_file", false),
    ("log_signing_key_file", false),
    ("log_name", false),
    ("request_timeout_seconds", true),
];

impl Config {
    /// Reads `file` (if given), then the environment through `env`.
    pub fn load(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!("{} cannot be read: {e}", path.display()))
                })?;
                text.parse::<toml::Table>().map_err(|e| {
                    Error::Config(format!(
                        "{} is not valid TOML: {}",
                        path.display(),
                        e.message()
                    ))
                })?
            }
            None => toml::Table::new(),
        };
        for (key, numeric) in ENV_KEYS {
            let name = format!("GALLA_CLOUD_{}", key.to_ascii_uppercase());
            if let Some(value) = env(&name) {
                let value = if numeric {
                    toml::Value::Integer(
                        value
                            .trim()
                            .parse()
                            .map_err(|_| Error::Config(format!("{name} must be a whole number")))?,
                    )
                } else {
                    toml::Value::String(value)
                };
                table.insert(key.into(), value);
            }
        }
        let config: Config = table.try_into().map_err(|e: toml::de::Error| {
            Error::Config(format!(
                "{}; see docs/architecture.md (cloud configuration)",
                e.message()
            ))
        })?;
        if !(1..=600).contains(&config.request_timeout_seconds) {
            return Err(Error::Config(
                "request_timeout_seconds must be 1 to 600".into(),
            ));
        }
        if config.pool_size == 0 || config.pool_size > 1000 {
            return Err(Error::Config("pool_size must be 1 to 1000".into()));
        }
        Ok(config)
    }
}

/// Reads a 32-byte Ed25519 seed from a file only its owner can read.
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::metadata(path).map_err(|e| Error::Setup {
        what: format!(
            "the log signing key {} cannot be read ({e})",
            path.display()
        ),
        fix: "point log_signing_key_file at it, or run `galla-cloud init-keys`".into(),
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Setup {
            what: format!(
                "the log signing key {} is readable by others",
                path.display()
            ),
            fix: format!("chmod 600 {}", path.display()),
        });
    }
    let seed = Zeroizing::new(std::fs::read(path)?);
    let seed: [u8; 32] = seed.as_slice().try_into().map_err(|_| Error::Setup {
        what: format!("the log signing key {} is not 32 bytes", path.display()),
        fix: "restore it from backup: terminals pinned its public key at enrollment".into(),
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Creates the KMS master key and the log signing key if they do not exist (0600 each).
pub fn init_keys(kms_master_key_file: &Path, log_signing_key_file: &Path) -> Result<()> {
    crate::kms::FileKms::open_or_create(kms_master_key_file)?;
    if !log_signing_key_file.exists() {
        crate::kms::write_secret_file(log_signing_key_file, &crate::random::bytes::<32>()?)?;
    }
    load_signing_key(log_signing_key_file)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_environment_overrides_the_file_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cloud.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://file\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n\
             kms_master_key_file = \"m\"\nlog_signing_key_file = \"l\"\npool_size = 4\n\
             [rate_limits]\nper_device_burst = 7\n",
        )
        .unwrap();
        let env: HashMap<&str, &str> = [
            (
                "GALLA_CLOUD_DATABASE_URL",
                "postgres://user:secret@env/galla",
            ),
            ("GALLA_CLOUD_POOL_SIZE", "9"),
        ]
        .into();
        let config = Config::load(Some(&file), |k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(config.database_url, "postgres://user:secret@env/galla");
        assert_eq!(config.pool_size, 9);
        assert_eq!(config.rate_limits.per_device_burst, 7);
        assert_eq!(config.listen, default_listen());
        assert!(
            !format!("{config:?}").contains("secret"),
            "Debug hides URLs"
        );

        std::fs::write(&file, "databse_url = \"x\"\n").unwrap();
        let e = Config::load(Some(&file), |_| None).unwrap_err().to_string();
        assert!(e.contains("databse_url"), "{e}");
        let e = Config::load(None, |k| {
            (k == "GALLA_CLOUD_POOL_SIZE").then(|| "many".into())
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("GALLA_CLOUD_POOL_SIZE"), "{e}");
    }
}
