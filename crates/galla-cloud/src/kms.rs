//! Tenant keys at rest on the server are wrapped by a master key the database never sees, so a
//! stolen database dump (or a read through a SQL injection) yields no tenant's data keys. The
//! `Kms` trait is the seam for a cloud KMS or HSM; `FileKms` keeps the master key in a 0600 file
//! beside the server, which is what `galla-cloud dev` and a single-host install use.
//!
//! Wrapped form: `0x01 || nonce (12) || AES-256-GCM ciphertext+tag`, with the caller's
//! associated data binding the key to its tenant, purpose and version: a wrapped key copied to
//! another row or tenant does not unwrap.

use std::io::Write as _;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

const WRAP_FORMAT: u8 = 1;
const AAD_CONTEXT: &[u8] = b"galla.kms.v1\0";

pub trait Kms: Send + Sync {
    fn wrap(&self, associated: &[u8], plaintext: &[u8]) -> Result<Vec<u8>>;
    fn unwrap(&self, associated: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>>;
    /// A keyed hash (HMAC-SHA256 under a key the database never sees) of a short secret the
    /// server must find again, such as an enrollment code: a dump of the database alone does not
    /// let anyone test guesses against it.
    fn mac(&self, context: &[u8], data: &[u8]) -> Result<[u8; 32]>;
}

/// A master key held in a file.
pub struct FileKms {
    cipher: Aes256Gcm,
    /// Derived from the master key (HMAC with a fixed label), so the AES key is used for AES only.
    mac_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for FileKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKms")
    }
}

impl FileKms {
    /// Reads the 32-byte master key, refusing a file others can read.
    pub fn open(path: &Path) -> Result<FileKms> {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = std::fs::metadata(path).map_err(|e| Error::Setup {
            what: format!("the KMS master key {} cannot be read ({e})", path.display()),
            fix: "point kms_master_key_file at the key, or run `galla-cloud init-keys`".into(),
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::Setup {
                what: format!(
                    "the KMS master key {} is readable by others",
                    path.display()
                ),
                fix: format!("chmod 600 {}", path.display()),
            });
        }
        let key = Zeroizing::new(std::fs::read(path)?);
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| Error::Setup {
            what: format!("the KMS master key {} is not 32 bytes", path.display()),
            fix: "restore the key file from backup; a new key cannot unwrap old tenant keys".into(),
        })?;
        let mac_key = Zeroizing::new(hmac_sha256(&key, b"galla.kms.mac-key.v1", &[])?);
        Ok(FileKms { cipher, mac_key })
    }

    /// Opens the key, creating a fresh random one (0600) when the file does not exist.
    pub fn open_or_create(path: &Path) -> Result<FileKms> {
        if !path.exists() {
            write_secret_file(path, &crate::random::bytes::<32>()?)?;
        }
        FileKms::open(path)
    }
}

/// Writes a secret to a new file readable by its owner only.
pub fn write_secret_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn hmac_sha256(key: &[u8], context: &[u8], data: &[u8]) -> Result<[u8; 32]> {
    use hmac::{KeyInit as _, Mac as _};
    let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(key)
        .map_err(|_| Error::Crypto("the MAC key is unusable"))?;
    mac.update(context);
    mac.update(&[0]);
    mac.update(data);
    Ok(mac.finalize().into_bytes().into())
}

fn aad(associated: &[u8]) -> Vec<u8> {
    [AAD_CONTEXT, associated].concat()
}

impl Kms for FileKms {
    fn wrap(&self, associated: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = crate::random::bytes::<12>()?;
        let aad = aad(associated);
        let ct = self
            .cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Crypto("wrapping a tenant key failed"))?;
        Ok([&[WRAP_FORMAT][..], &nonce, &ct].concat())
    }

    fn mac(&self, context: &[u8], data: &[u8]) -> Result<[u8; 32]> {
        hmac_sha256(self.mac_key.as_slice(), context, data)
    }

    fn unwrap(&self, associated: &[u8], wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let (Some(&WRAP_FORMAT), Some(nonce), Some(ct)) = (
            wrapped.first(),
            wrapped
                .get(1..13)
                .and_then(|n| <[u8; 12]>::try_from(n).ok()),
            wrapped.get(13..),
        ) else {
            return Err(Error::Crypto("a wrapped tenant key is malformed"));
        };
        let aad = aad(associated);
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::Crypto(
                    "a tenant key does not unwrap: wrong master key, or the row was moved",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_bind_their_associated_data_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let kms = FileKms::open_or_create(&dir.path().join("master.key")).unwrap();
        let w = kms.wrap(b"tenant-a/data/1", &[7; 32]).unwrap();
        assert_eq!(&*kms.unwrap(b"tenant-a/data/1", &w).unwrap(), &[7; 32]);
        assert!(kms.unwrap(b"tenant-b/data/1", &w).is_err());
        let mut bad = w.clone();
        bad[20] ^= 1;
        assert!(kms.unwrap(b"tenant-a/data/1", &bad).is_err());
        assert!(kms.unwrap(b"tenant-a/data/1", &w[..10]).is_err());
        let other = FileKms::open_or_create(&dir.path().join("other.key")).unwrap();
        assert!(other.unwrap(b"tenant-a/data/1", &w).is_err());
        // MACs depend on the master key and the context.
        let m = kms.mac(b"code", b"7KQ2MXD9TF").unwrap();
        assert_ne!(m, other.mac(b"code", b"7KQ2MXD9TF").unwrap());
        assert_ne!(m, kms.mac(b"other", b"7KQ2MXD9TF").unwrap());
        assert_eq!(
            m,
            FileKms::open(&dir.path().join("master.key"))
                .unwrap()
                .mac(b"code", b"7KQ2MXD9TF")
                .unwrap()
        );
        // Reopening the same file gives the same key.
        let again = FileKms::open(&dir.path().join("master.key")).unwrap();
        assert_eq!(&*again.unwrap(b"tenant-a/data/1", &w).unwrap(), &[7; 32]);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        FileKms::open_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = FileKms::open(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }
}
