//! Key material and the two uses of it below SQLCipher: wrapping tenant keys, and encrypting
//! PII columns with a blind index for lookups.
//!
//! # Column ciphertext, format 1
//! `0x01 | key version (u32 BE) | nonce (12) | AES-256-GCM ciphertext and tag (16)`.
//! The associated data binds the value to where it belongs:
//! `"galla.col.v1" 0x00 | tenant id (16) | table 0x00 | column 0x00 | row id (16) | key version (u32 BE)`,
//! so a ciphertext copied to another row, column or tenant fails authentication.
//!
//! # Blind index
//! `HMAC-SHA256(blind-index key, "galla.bidx.v1" 0x00 | purpose 0x00 | normalised value)`:
//! equal values give equal indexes within a tenant, and nothing readable.
//!
//! # Wrapped keys
//! `nonce (12) | AES-256-GCM(wrap key, key) | tag`, associated data
//! `"galla.wrap.v1" 0x00 | tenant id (16) | purpose 0x00 | version (u32 BE)`.

use std::collections::BTreeMap;
use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

pub const COLUMN_FORMAT: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// 256 bits of key material, wiped on drop and never printed.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    pub fn random() -> Result<SecretKey> {
        let mut k = [0u8; 32];
        fill_random(&mut k)?;
        Ok(SecretKey(k))
    }

    pub fn from_slice(bytes: &[u8]) -> Option<SecretKey> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(SecretKey(arr))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, in a buffer that is wiped on drop.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

/// A PIN or passphrase in memory: wiped on drop, never shown by `Debug`.
#[derive(Clone, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(Zeroizing::new(s.into()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(redacted)")
    }
}

pub fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::fill(buf).map_err(|_| Error::Crypto {
        what: "reading the OS random source",
    })
}

fn aes(key: &SecretKey) -> Aes256Gcm {
    Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(*key.expose()))
}

fn wrap_aad(tenant_id: Uuid, purpose: &str, version: u32) -> Vec<u8> {
    let mut aad = b"galla.wrap.v1\0".to_vec();
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.extend_from_slice(purpose.as_bytes());
    aad.push(0);
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

/// Encrypts a tenant key under the wrap key, bound to its tenant, purpose and version.
pub fn wrap_key(
    wrap: &SecretKey,
    tenant_id: Uuid,
    purpose: &str,
    version: u32,
    key: &SecretKey,
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let aad = wrap_aad(tenant_id, purpose, version);
    let ct = aes(wrap)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: key.expose(),
                aad: &aad,
            },
        )
        .map_err(|_| Error::Crypto {
            what: "wrapping a key",
        })?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Reverses [`wrap_key`]; `None` when the wrap key is wrong or the blob was altered or moved.
pub fn unwrap_key(
    wrap: &SecretKey,
    tenant_id: Uuid,
    purpose: &str,
    version: u32,
    wrapped: &[u8],
) -> Option<SecretKey> {
    if wrapped.len() != NONCE_LEN + 32 + TAG_LEN {
        return None;
    }
    let (nonce, ct) = wrapped.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let aad = wrap_aad(tenant_id, purpose, version);
    let plain = Zeroizing::new(
        aes(wrap)
            .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: &aad })
            .ok()?,
    );
    SecretKey::from_slice(&plain)
}

/// Encrypts and decrypts PII columns of one tenant; computes its blind indexes.
pub struct ColumnCipher {
    tenant_id: Uuid,
    current: u32,
    data_keys: BTreeMap<u32, SecretKey>,
    blind_key: SecretKey,
}

impl fmt::Debug for ColumnCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ColumnCipher")
            .field("tenant_id", &self.tenant_id)
            .field("current", &self.current)
            .field("versions", &self.data_keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn column_aad(tenant_id: Uuid, table: &str, column: &str, row_id: Uuid, version: u32) -> Vec<u8> {
    let mut aad = Vec::with_capacity(80);
    aad.extend_from_slice(b"galla.col.v1\0");
    aad.extend_from_slice(tenant_id.as_bytes());
    aad.extend_from_slice(table.as_bytes());
    aad.push(0);
    aad.extend_from_slice(column.as_bytes());
    aad.push(0);
    aad.extend_from_slice(row_id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

impl ColumnCipher {
    /// `data_keys` must hold at least one version; the highest encrypts new values.
    pub fn new(
        tenant_id: Uuid,
        data_keys: BTreeMap<u32, SecretKey>,
        blind_key: SecretKey,
    ) -> Option<Self> {
        let current = *data_keys.keys().next_back()?;
        Some(ColumnCipher {
            tenant_id,
            current,
            data_keys,
            blind_key,
        })
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }

    /// Every data key by version, and the blind-index key: what linking shares with the
    /// shop's cloud tenant (over TLS to the pinned server), and nothing else reads.
    pub(crate) fn raw_keys(&self) -> (impl Iterator<Item = (u32, &SecretKey)>, &SecretKey) {
        (self.data_keys.iter().map(|(v, k)| (*v, k)), &self.blind_key)
    }

    pub fn encrypt(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: Uuid,
        plain: &[u8],
    ) -> Result<Vec<u8>> {
        let key = &self.data_keys[&self.current];
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let aad = column_aad(self.tenant_id, table, column, row_id, self.current);
        let ct = aes(key)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::Crypto {
                what: "encrypting a column",
            })?;
        let mut out = Vec::with_capacity(1 + 4 + NONCE_LEN + ct.len());
        out.push(COLUMN_FORMAT);
        out.extend_from_slice(&self.current.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn decrypt(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: Uuid,
        stored: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        let fail = || Error::Undecryptable {
            table,
            column,
            row_id: row_id.to_string(),
        };
        if stored.len() < 1 + 4 + NONCE_LEN + TAG_LEN || stored[0] != COLUMN_FORMAT {
            return Err(fail());
        }
        let version = u32::from_be_bytes(stored[1..5].try_into().map_err(|_| fail())?);
        let key = self.data_keys.get(&version).ok_or_else(fail)?;
        let nonce: [u8; NONCE_LEN] = stored[5..5 + NONCE_LEN].try_into().map_err(|_| fail())?;
        let aad = column_aad(self.tenant_id, table, column, row_id, version);
        aes(key)
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &stored[5 + NONCE_LEN..],
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| fail())
    }

    /// Encrypts a UTF-8 value; returns the text back on decrypt through [`Self::decrypt_text`].
    pub fn encrypt_text(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: Uuid,
        plain: &str,
    ) -> Result<Vec<u8>> {
        self.encrypt(table, column, row_id, plain.as_bytes())
    }

    pub fn decrypt_text(
        &self,
        table: &'static str,
        column: &'static str,
        row_id: Uuid,
        stored: &[u8],
    ) -> Result<String> {
        let bytes = self.decrypt(table, column, row_id, stored)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::Undecryptable {
            table,
            column,
            row_id: row_id.to_string(),
        })
    }

    /// Blind index of an already normalised value (E.164 phone, upper-case GSTIN).
    pub fn blind_index(&self, purpose: &str, normalised: &str) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.blind_key.expose())
            .expect("HMAC accepts any key length");
        mac.update(b"galla.bidx.v1\0");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(tenant: Uuid) -> ColumnCipher {
        let keys = BTreeMap::from([(1, SecretKey([1; 32])), (2, SecretKey([2; 32]))]);
        ColumnCipher::new(tenant, keys, SecretKey([3; 32])).unwrap()
    }

    #[test]
    fn same_value_encrypts_differently_and_indexes_equally() {
        let c = cipher(Uuid::now_v7());
        let row = Uuid::now_v7();
        let a = c
            .encrypt_text("customer", "phone_ct", row, "+919876543210")
            .unwrap();
        let b = c
            .encrypt_text("customer", "phone_ct", row, "+919876543210")
            .unwrap();
        assert_ne!(a, b);
        assert_eq!(
            c.blind_index("phone", "+919876543210"),
            c.blind_index("phone", "+919876543210")
        );
        assert_ne!(
            c.blind_index("phone", "+919876543210"),
            c.blind_index("gstin", "+919876543210")
        );
        assert_eq!(
            c.decrypt_text("customer", "phone_ct", row, &a).unwrap(),
            "+919876543210"
        );
        assert_eq!(
            u32::from_be_bytes(a[1..5].try_into().unwrap()),
            2,
            "newest key version encrypts"
        );
    }

    #[test]
    fn ciphertext_is_bound_to_row_column_table_and_tenant() {
        let tenant = Uuid::now_v7();
        let c = cipher(tenant);
        let row = Uuid::now_v7();
        let ct = c.encrypt_text("customer", "phone_ct", row, "x").unwrap();
        assert!(
            c.decrypt("customer", "phone_ct", Uuid::now_v7(), &ct)
                .is_err()
        );
        assert!(c.decrypt("customer", "email_ct", row, &ct).is_err());
        assert!(c.decrypt("tenant", "phone_ct", row, &ct).is_err());
        assert!(
            cipher(Uuid::now_v7())
                .decrypt("customer", "phone_ct", row, &ct)
                .is_err()
        );
        let mut tampered = ct.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(c.decrypt("customer", "phone_ct", row, &tampered).is_err());
        // Claiming an older key version is caught too: the version is authenticated.
        let mut downgraded = ct.clone();
        downgraded[4] = 1;
        assert!(c.decrypt("customer", "phone_ct", row, &downgraded).is_err());
        assert!(c.decrypt("customer", "phone_ct", row, &[]).is_err());
    }

    #[test]
    fn wrapped_keys_unwrap_only_where_they_belong() {
        let wrap = SecretKey([9; 32]);
        let tenant = Uuid::now_v7();
        let key = SecretKey([4; 32]);
        let w = wrap_key(&wrap, tenant, "pii", 1, &key).unwrap();
        assert_eq!(unwrap_key(&wrap, tenant, "pii", 1, &w), Some(key));
        assert_eq!(unwrap_key(&wrap, tenant, "pii", 2, &w), None);
        assert_eq!(unwrap_key(&wrap, tenant, "blind-index", 1, &w), None);
        assert_eq!(unwrap_key(&SecretKey([8; 32]), tenant, "pii", 1, &w), None);
    }

    #[test]
    fn debug_output_never_shows_key_bytes() {
        let k = SecretKey([0xab; 32]);
        assert!(!format!("{k:?}").contains("ab"));
        assert!(
            !format!("{:?}", cipher(Uuid::nil()))
                .to_lowercase()
                .contains("0101")
        );
    }
}
