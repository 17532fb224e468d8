//! The recovery kit (DESIGN.md key hierarchy): this terminal's three root keys sealed under a
//! code only the owner holds, so a lost or reset keychain (a new login keyring, a copied data
//! folder on a new laptop, a restored backup) does not lose the shop's data.
//!
//! The kit is the file `recovery.kit` beside the database: the database cannot hold the key
//! that opens it, and a backup or copy of the data folder then carries its kit. The code is
//! 25 random symbols of Crockford's base-32 alphabet (125 bits), shown once, for the owner to
//! write down. The sealing key is Argon2id of the code; the seal is AES-256-GCM with the kit's
//! format, install, tenant and device ids as associated data, so a kit moved to another
//! folder, or edited, does not open. Someone holding the disk holds the kit but not the code:
//! 125 bits are beyond guessing, whatever the Argon2 cost.
//!
//! Tables: `recovery_kit`.

use std::io::Write;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use rusqlite::OptionalExtension;

use crate::crypto::{SecretKey, SecretString, fill_random};
use crate::engine::{Env, Record, WriteCx};
use crate::error::{Error, Result};
use crate::keys::TerminalKeys;
use crate::ops::{Command, Op};
use crate::rows::{set, table};
use crate::terminal::{DataDir, sync_dir};

table! {
    /// When this terminal's recovery kit was made, and by whom (never the kit itself).
    struct RecoveryKitRow in "recovery_kit", key id {
        id: Uuid,
        created_at_ms: i64,
        created_by: Uuid,
    }
}

/// The kit's file name in the data folder.
pub const KIT_FILE: &str = "recovery.kit";
const FORMAT: &str = "galla-recovery-kit/1";
/// Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand survives.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_SYMBOLS: usize = 25;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
/// The same Argon2id cost as seat secrets (`secret_hash`): OWASP's first setting.
const ARGON2_M_KIB: u32 = 19 * 1024;
const ARGON2_T: u32 = 2;
/// Kits larger than this are not kits (a stray file, or an attempt to make the parser work).
const MAX_KIT_BYTES: u64 = 4096;

/// What `recovery.kit` holds. Nothing in it is secret without the code.
#[derive(Debug, Serialize, Deserialize)]
struct KitFile {
    format: String,
    install_id: Uuid,
    tenant_id: Uuid,
    device_id: Uuid,
    created_at_ms: i64,
    argon2id: KdfParams,
    /// Base64 of the Argon2 salt.
    salt: String,
    /// Base64 of the nonce and the sealed keys (db, wrap, device: 96 bytes) with their tag.
    sealed: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

/// Who the kit belongs to: its kit is refused anywhere else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KitOwner {
    pub install_id: Uuid,
    pub tenant_id: Uuid,
    pub device_id: Uuid,
}

fn aad(owner: &KitOwner) -> Vec<u8> {
    let mut aad = FORMAT.as_bytes().to_vec();
    aad.push(0);
    aad.extend_from_slice(owner.install_id.as_bytes());
    aad.extend_from_slice(owner.tenant_id.as_bytes());
    aad.extend_from_slice(owner.device_id.as_bytes());
    aad
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

/// A new random code, grouped for writing down: `7K2QM-…` (five groups of five).
fn new_code() -> Result<SecretString> {
    let mut raw = Zeroizing::new([0u8; CODE_SYMBOLS]);
    fill_random(raw.as_mut())?;
    // 256 is a multiple of 32: the low five bits of a random byte are a uniform symbol.
    let mut code = Zeroizing::new(String::with_capacity(CODE_SYMBOLS + 4));
    for (i, b) in raw.iter().enumerate() {
        if i > 0 && i % 5 == 0 {
            code.push('-');
        }
        code.push(ALPHABET[usize::from(b & 31)] as char);
    }
    Ok(SecretString::new(code.as_str()))
}

/// The code as typed, read the way Crockford's alphabet is meant to be read: any case, spaces
/// and dashes ignored, O as 0, I and L as 1. `None` unless it is exactly 25 such symbols.
pub fn normalise_code(typed: &str) -> Option<Zeroizing<String>> {
    let mut out = Zeroizing::new(String::with_capacity(CODE_SYMBOLS));
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\t' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_SYMBOLS).then_some(out)
}

fn sealing_key(code: &str, salt: &[u8], params: KdfParams) -> Result<SecretKey> {
    let params = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|_| kit_damaged("its key-derivation settings are not valid"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(code.as_bytes(), salt, key.as_mut())
        .map_err(|_| Error::Crypto {
            what: "deriving the recovery kit's key",
        })?;
    SecretKey::from_slice(key.as_ref()).ok_or(Error::Internal("a derived key is not 32 bytes"))
}

fn kit_damaged(why: &str) -> Error {
    Error::RecoveryKitDamaged {
        detail: why.to_owned(),
    }
}

/// Seals `keys` under a new code and writes the kit as `recovery.kit.new` (to be put in place
/// by [`put_kit_in_place`] once the audit record of its making is committed). Returns the code.
pub(crate) fn write_new_kit(
    dir: &DataDir,
    owner: &KitOwner,
    keys: &TerminalKeys,
    now_ms: i64,
) -> Result<SecretString> {
    let code = new_code()?;
    let normal =
        normalise_code(code.expose()).ok_or(Error::Internal("a new recovery code is malformed"))?;
    let mut salt = [0u8; SALT_LEN];
    fill_random(&mut salt)?;
    let params = KdfParams {
        m_kib: ARGON2_M_KIB,
        t: ARGON2_T,
        p: 1,
    };
    let key = sealing_key(&normal, &salt, params)?;
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(96));
    plain.extend_from_slice(keys.db.expose());
    plain.extend_from_slice(keys.wrap.expose());
    plain.extend_from_slice(keys.device.as_bytes());
    let aad = aad(owner);
    let sealed = Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(*key.expose()))
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| Error::Crypto {
            what: "sealing the recovery kit",
        })?;
    let mut blob = nonce.to_vec();
    blob.extend_from_slice(&sealed);
    let kit = KitFile {
        format: FORMAT.to_owned(),
        install_id: owner.install_id,
        tenant_id: owner.tenant_id,
        device_id: owner.device_id,
        created_at_ms: now_ms,
        argon2id: params,
        salt: b64().encode(salt),
        sealed: b64().encode(&blob),
    };
    let body = serde_json::to_vec_pretty(&kit)
        .map_err(|_| Error::Internal("encoding the recovery kit"))?;
    let tmp = new_kit_path(dir);
    // A leftover from an interrupted attempt goes first, so the file is made new, as 0600.
    discard_new_kit(dir);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    f.write_all(&body)?;
    f.sync_all()?;
    Ok(code)
}

fn new_kit_path(dir: &DataDir) -> std::path::PathBuf {
    dir.root().join(format!("{KIT_FILE}.new"))
}

pub fn kit_path(dir: &DataDir) -> std::path::PathBuf {
    dir.root().join(KIT_FILE)
}

/// Replaces the kit with the one [`write_new_kit`] made: from here the new code works and the
/// old one does not.
pub(crate) fn put_kit_in_place(dir: &DataDir) -> Result<()> {
    std::fs::rename(new_kit_path(dir), kit_path(dir))?;
    sync_dir(dir.root())
}

/// Throws away a kit written but not put in place (its making failed).
pub(crate) fn discard_new_kit(dir: &DataDir) {
    let _ = std::fs::remove_file(new_kit_path(dir));
}

/// Removes the kit (a wipe: the keys must not be recoverable here afterwards).
pub(crate) fn erase_kit(dir: &DataDir) -> Result<()> {
    for path in [kit_path(dir), new_kit_path(dir)] {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    sync_dir(dir.root())
}

/// Whether this folder has a kit to recover from.
pub fn has_kit(dir: &DataDir) -> bool {
    kit_path(dir).is_file()
}

/// Opens the kit in `dir` with `code`: the keys it seals, and whose they are. The kit must
/// belong to this folder's install.
pub(crate) fn open_kit(dir: &DataDir, code: &SecretString) -> Result<(TerminalKeys, KitOwner)> {
    let path = kit_path(dir);
    let size = match std::fs::metadata(&path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NoRecoveryKit { path });
        }
        Err(e) => return Err(e.into()),
    };
    if size > MAX_KIT_BYTES {
        return Err(kit_damaged("it is far larger than a kit"));
    }
    let kit: KitFile = serde_json::from_slice(&std::fs::read(&path)?)
        .map_err(|_| kit_damaged("it is not a Galla recovery kit"))?;
    if kit.format != FORMAT {
        return Err(kit_damaged("it is of a format this Galla does not know"));
    }
    let install_id = dir.install_id()?.ok_or_else(|| Error::NotInitialised {
        data_dir: dir.root().to_path_buf(),
    })?;
    if kit.install_id != install_id {
        return Err(Error::RecoveryKitNotThisTerminal);
    }
    // Checked before the (deliberately slow) derivation, so a typing slip is answered at once.
    let normal = normalise_code(code.expose()).ok_or(Error::RecoveryCodeMalformed)?;
    let salt = b64()
        .decode(&kit.salt)
        .map_err(|_| kit_damaged("its salt is not base64"))?;
    let blob = b64()
        .decode(&kit.sealed)
        .map_err(|_| kit_damaged("its sealed keys are not base64"))?;
    if salt.len() != SALT_LEN || blob.len() != NONCE_LEN + 96 + 16 {
        return Err(kit_damaged("its sealed keys are the wrong size"));
    }
    // A kit asking for an enormous Argon2 memory would stall the till: only sane costs.
    let p = kit.argon2id;
    if !(8 * 1024..=256 * 1024).contains(&p.m_kib) || !(1..=10).contains(&p.t) || p.p != 1 {
        return Err(kit_damaged("its key-derivation settings are out of range"));
    }
    let key = sealing_key(&normal, &salt, p)?;
    let owner = KitOwner {
        install_id: kit.install_id,
        tenant_id: kit.tenant_id,
        device_id: kit.device_id,
    };
    let (nonce, sealed) = blob.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| kit_damaged("nonce"))?;
    let aad = aad(&owner);
    // A wrong code and an altered kit look the same to AES-GCM; the code is far likelier.
    let plain = Zeroizing::new(
        Aes256Gcm::new(&aes_gcm::Key::<Aes256Gcm>::from(*key.expose()))
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::RecoveryCodeWrong)?,
    );
    let part = |i: usize| SecretKey::from_slice(&plain[i * 32..(i + 1) * 32]);
    let (Some(db), Some(wrap), Some(device)) = (part(0), part(1), part(2)) else {
        return Err(kit_damaged("its keys are the wrong size"));
    };
    let keys = TerminalKeys {
        db,
        wrap,
        device: SigningKey::from_bytes(device.expose()),
    };
    Ok((keys, owner))
}

/// The schema version that has the `recovery_kit` table.
pub(crate) const SCHEMA_VERSION: i64 = 17;

/// Records that this terminal's recovery kit was made (replacing any earlier one): owner
/// only (it is the key to everything here), after a recent sign-in or re-authentication. The
/// kit itself is written by the terminal before, and put in place only once this commits.
pub(crate) struct RecordRecoveryKit;

impl Command for RecordRecoveryKit {
    const OP: Op = Op::CreateRecoveryKit;
    type Output = ();
    fn record(&self, env: &Env) -> Option<Record> {
        Some(Record::new("recovery_kit.create", "device", env.device_id))
    }
    fn run(self, cx: &mut WriteCx<'_, '_>) -> Result<()> {
        let device = cx.device_id();
        if made_at(cx.conn(), device)?.is_none() {
            cx.insert(&RecoveryKitRow {
                id: device,
                created_at_ms: cx.now(),
                created_by: cx.seat_id(),
            })
        } else {
            cx.update::<RecoveryKitRow>(
                &device.to_string(),
                &[
                    set("created_at_ms", &cx.now()),
                    set("created_by", &cx.seat_id()),
                ],
            )
        }
    }
}

/// When this terminal's recovery kit was made, if it was.
pub(crate) fn made_at(conn: &rusqlite::Connection, device: Uuid) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT created_at_ms FROM recovery_kit WHERE id = ?",
            [device.to_string()],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_is_25_symbols_of_the_alphabet_in_five_groups() {
        let code = new_code().unwrap();
        let groups: Vec<&str> = code.expose().split('-').collect();
        assert_eq!(groups.len(), 5);
        assert!(groups.iter().all(|g| g.len() == 5));
        assert!(normalise_code(code.expose()).is_some());
        assert_ne!(code.expose(), new_code().unwrap().expose());
    }

    #[test]
    fn a_code_is_read_the_crockford_way() {
        let canonical = "7K2QM-0A1BC-DEFGH-JKMNP-QRSTV";
        let n = normalise_code(canonical).unwrap();
        assert_eq!(n.as_str(), "7K2QM0A1BCDEFGHJKMNPQRSTV");
        for typed in [
            "7k2qm-0a1bc-defgh-jkmnp-qrstv",
            "7K2QM 0A1BC DEFGH JKMNP QRSTV",
            "7K2QMOAIBCDEFGHJKMNPQRSTV",
            "7K2QM-oALBC-DEFGH-JKMNP-QRSTV",
        ] {
            assert_eq!(
                normalise_code(typed).unwrap().as_str(),
                n.as_str(),
                "{typed}"
            );
        }
        for bad in [
            "",
            "7K2QM-0A1BC-DEFGH-JKMNP-QRST",
            "7K2QM-0A1BC-DEFGH-JKMNP-QRSTVW",
            "7K2QM-0A1BC-DEFGH-JKMNP-QRSTU",
            "7K2QM-0A1BC-DEFGH-JKMNP-QRST!",
            "७K2QM-0A1BC-DEFGH-JKMNP-QRSTV",
        ] {
            assert!(normalise_code(bad).is_none(), "{bad}");
        }
    }
}
