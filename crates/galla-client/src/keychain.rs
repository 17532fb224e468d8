//! The OS keychain, the only place Galla's root keys live.
//!
//! Secret Service on Linux, Keychain on macOS, Credential Manager on Windows, through
//! keyring-core and the platform's store crate. There is deliberately no fallback to a file:
//! with no usable keychain, opening fails with [`Error::KeychainUnavailable`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Service name under which every Galla entry is filed; the account names the install and key.
pub const KEYCHAIN_SERVICE: &str = "Galla till";

/// Where secrets are kept. `OsKeychain` in the product; `MemoryKeychain` only for unit tests of
/// logic above it.
pub trait SecretStore: Send + Sync {
    /// Human-readable name of the backend, for `doctor` and the status screen.
    fn backend(&self) -> String;
    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>>;
    fn set(&self, account: &str, secret: &[u8]) -> Result<()>;
    fn delete(&self, account: &str) -> Result<()>;
}

#[cfg(target_os = "linux")]
const BACKEND: &str = "Secret Service (freedesktop.org)";
#[cfg(target_os = "linux")]
const HINT: &str = "Install and unlock a Secret Service keyring (Debian/Ubuntu: `sudo apt install \
     gnome-keyring`, then log in to a desktop session or run `gnome-keyring-daemon --unlock`), or \
     enable KeePassXC's Secret Service integration.";
#[cfg(target_os = "macos")]
const BACKEND: &str = "macOS Keychain";
#[cfg(target_os = "macos")]
const HINT: &str = "Unlock the login keychain in Keychain Access.";
#[cfg(target_os = "windows")]
const BACKEND: &str = "Windows Credential Manager";
#[cfg(target_os = "windows")]
const HINT: &str = "Sign in to Windows with a user profile that has Credential Manager.";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const BACKEND: &str = "none";
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const HINT: &str = "Galla supports Linux, macOS and Windows keychains only.";

pub struct OsKeychain {
    store: Arc<CredentialStore>,
}

fn unavailable(detail: impl std::fmt::Display) -> Error {
    Error::KeychainUnavailable {
        backend: BACKEND.to_owned(),
        detail: detail.to_string(),
        hint: HINT,
    }
}

fn map_keyring(e: keyring_core::Error) -> Error {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => unavailable(format!(
            "the keychain is locked or access was refused ({inner})"
        )),
        keyring_core::Error::PlatformFailure(inner) => unavailable(inner),
        other => unavailable(other),
    }
}

impl OsKeychain {
    /// Connects to this platform's keychain, failing clearly when there is none.
    pub fn connect() -> Result<OsKeychain> {
        #[cfg(target_os = "linux")]
        let store: Arc<CredentialStore> =
            zbus_secret_service_keyring_store::Store::new().map_err(map_keyring)?;
        #[cfg(target_os = "macos")]
        let store: Arc<CredentialStore> =
            apple_native_keyring_store::keychain::Store::new().map_err(map_keyring)?;
        #[cfg(target_os = "windows")]
        let store: Arc<CredentialStore> =
            windows_native_keyring_store::Store::new().map_err(map_keyring)?;
        #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
        return Err(unavailable("unsupported platform"));
        #[cfg(any(target_os = "linux", target_os = "macos", target_os = "windows"))]
        Ok(OsKeychain { store })
    }

    fn entry(&self, account: &str) -> Result<Entry> {
        self.store
            .build(KEYCHAIN_SERVICE, account, None)
            .map_err(map_keyring)
    }
}

impl SecretStore for OsKeychain {
    fn backend(&self) -> String {
        BACKEND.to_owned()
    }

    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        match self.entry(account)?.get_secret() {
            Ok(secret) => Ok(Some(Zeroizing::new(secret))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring(e)),
        }
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<()> {
        self.entry(account)?.set_secret(secret).map_err(map_keyring)
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring(e)),
        }
    }
}

/// Process-local secrets, for unit tests of the logic above the keychain and for benchmarks
/// that isolate SQLCipher cost. Never used by the app or the CLI.
#[derive(Default)]
pub struct MemoryKeychain {
    entries: Mutex<HashMap<String, Zeroizing<Vec<u8>>>>,
}

impl SecretStore for MemoryKeychain {
    fn backend(&self) -> String {
        "in-memory (tests only)".to_owned()
    }

    fn get(&self, account: &str) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        Ok(entries.get(account).cloned())
    }

    fn set(&self, account: &str, secret: &[u8]) -> Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(account.to_owned(), Zeroizing::new(secret.to_vec()));
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(account);
        Ok(())
    }
}
