//! The terminal's root keys in the OS keychain: the SQLCipher key, the wrap key for tenant keys,
//! and the device's Ed25519 signing key. Each is filed under this install's id, so several
//! shops (or test runs) on one machine never share a key.

use ed25519_dalek::{SigningKey, VerifyingKey};
use uuid::Uuid;

use crate::crypto::SecretKey;
use crate::error::{Error, Result};
use crate::keychain::SecretStore;

pub const DB_KEY: &str = "db-key";
pub const WRAP_KEY: &str = "wrap-key";
pub const DEVICE_KEY: &str = "device-signing-key";

/// The keychain account name of one of this install's keys.
pub fn account(install_id: Uuid, entry: &str) -> String {
    format!("{install_id}/{entry}")
}

/// The three root keys of one terminal install. Wiped from memory on drop.
pub struct TerminalKeys {
    pub db: SecretKey,
    pub wrap: SecretKey,
    pub device: SigningKey,
}

impl std::fmt::Debug for TerminalKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalKeys")
            .field(
                "device_public",
                &hex::encode(self.device.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl TerminalKeys {
    /// Generates fresh keys and files them in the keychain. Called only by shop creation when
    /// no database exists, so it replaces whatever an interrupted creation left for this install.
    pub fn create(keychain: &dyn SecretStore, install_id: Uuid) -> Result<TerminalKeys> {
        let keys = TerminalKeys {
            db: SecretKey::random()?,
            wrap: SecretKey::random()?,
            device: SigningKey::from_bytes(SecretKey::random()?.expose()),
        };
        keys.file(keychain, install_id)?;
        Ok(keys)
    }

    /// Files these keys in the keychain under `install_id`, replacing what is there.
    pub(crate) fn file(&self, keychain: &dyn SecretStore, install_id: Uuid) -> Result<()> {
        keychain.set(&account(install_id, DB_KEY), self.db.expose())?;
        keychain.set(&account(install_id, WRAP_KEY), self.wrap.expose())?;
        keychain.set(&account(install_id, DEVICE_KEY), self.device.as_bytes())
    }

    /// Reads the keys of an existing install.
    pub fn load(keychain: &dyn SecretStore, install_id: Uuid) -> Result<TerminalKeys> {
        let fetch = |entry: &'static str| -> Result<SecretKey> {
            let raw = keychain
                .get(&account(install_id, entry))?
                .ok_or(Error::KeyMissing {
                    entry,
                    install_id: install_id.to_string(),
                })?;
            SecretKey::from_slice(&raw).ok_or(Error::KeyDamaged { entry })
        };
        Ok(TerminalKeys {
            db: fetch(DB_KEY)?,
            wrap: fetch(WRAP_KEY)?,
            device: SigningKey::from_bytes(fetch(DEVICE_KEY)?.expose()),
        })
    }

    pub fn device_public(&self) -> VerifyingKey {
        self.device.verifying_key()
    }

    /// Removes this install's keys from the keychain (a wipe). The database becomes unreadable.
    pub fn erase(keychain: &dyn SecretStore, install_id: Uuid) -> Result<()> {
        for entry in [DB_KEY, WRAP_KEY, DEVICE_KEY] {
            keychain.delete(&account(install_id, entry))?;
        }
        Ok(())
    }
}
